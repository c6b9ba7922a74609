package gna

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestToInt16s checks the vector quantizer bit for bit against toInt,
// value by value: random values, ties at every half step (which round to
// even), values a float32 ulp either side of them, NaN, infinities, zeros
// of both signs, values past the clamps, over lengths around the
// kernel's 8 and scales that are and are not powers of two.
func TestToInt16s(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	for _, scale := range []float64{1.0 / 256, 0.003, 0.7, 3e-5} {
		var vals []float32
		for k := -40; k <= 40; k++ {
			tie := float32((float64(k) + 0.5) * scale)
			vals = append(vals, tie, math.Nextafter32(tie, 2*tie+1), math.Nextafter32(tie, -2*tie-1))
		}
		vals = append(vals, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)),
			float32(40000*scale), float32(-40000*scale), float32(32767.5*scale), float32(-32768.5*scale), 1e-40)
		for len(vals) < 400 {
			vals = append(vals, float32(r.NormFloat64()*scale*5000))
		}
		r.Shuffle(len(vals), func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
		for _, lim := range [][2]int64{{-32768, 32767}, {-1000, 999}, {0, 255}} {
			for _, n := range []int{0, 1, 7, 8, 9, 16, 23, 400} {
				t.Run(fmt.Sprintf("scale=%g/lim=%v/n=%d", scale, lim, n), func(t *testing.T) {
					got := make([]int16, n)
					toInt16s(got, vals, scale, lim[0], lim[1])
					for i := range got {
						if want := int16(toInt(vals[i], scale, lim[0], lim[1])); got[i] != want {
							t.Fatalf("value %d (%g): %d, want %d", i, vals[i], got[i], want)
						}
					}
				})
			}
		}
	}
	if !useToInt16Asm {
		t.Log("no AVX2 kernel on this CPU or build: the Go loop ran")
	}
}

// TestAccToFloats checks the vector conversion of accumulator sums bit
// for bit against the scalar expression: sums around and far past
// int32's range (both clamps), a bias that wraps int64, zero, over
// lengths around the kernel's 4 and several scales.
func TestAccToFloats(t *testing.T) {
	r := rand.New(rand.NewPCG(73, 74))
	acc := []int64{0, 1, -1, math.MaxInt32, math.MinInt32, math.MaxInt32 + 1, math.MinInt32 - 1, 1 << 40, -1 << 40, math.MaxInt64, math.MinInt64}
	for len(acc) < 300 {
		acc = append(acc, int64(r.NormFloat64()*1e9))
	}
	r.Shuffle(len(acc), func(i, j int) { acc[i], acc[j] = acc[j], acc[i] })
	for _, scale := range []float64{1, 1.0 / 3, 7.3e-9, 2.5e-5} {
		for _, bias := range []int64{0, 12345, -1 << 31, math.MaxInt64} {
			for _, n := range []int{0, 1, 3, 4, 5, 31, 300} {
				got := make([]float32, n)
				accToFloats(got, acc, bias, scale)
				for i, g := range got {
					if want := float32(float64(sat32(bias+acc[i])) * scale); math.Float32bits(g) != math.Float32bits(want) {
						t.Fatalf("scale %g bias %d n %d: value %d (%d): %v, want %v", scale, bias, n, i, acc[i], g, want)
					}
				}
			}
		}
	}
}
