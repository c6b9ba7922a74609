package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestReductionsVector checks extremum and absMax with the assembly
// against the Go loops, bit for bit, on lengths 1..100 of values with
// NaNs, infinities, huge values (whose lane sums overflow), -0 and +0
// placed anywhere, all zeros, and plain random values; and that the
// assembly runs on the common cases.
func TestReductionsVector(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 reductions in this build or on this CPU")
	}
	r := rand.New(rand.NewPCG(5, 6))
	negZero := float32(math.Copysign(0, -1))
	specials := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 3e38, -3e38, negZero, 0, 1e-45}
	run := func(data []float32) (mx, mn, am uint32) {
		return math.Float32bits(extremum(data, true)), math.Float32bits(extremum(data, false)), math.Float32bits(absMax(data))
	}
	ran := 0
	for n := 1; n <= 100; n++ {
		for trial := 0; trial < 12; trial++ {
			data := make([]float32, n)
			switch trial {
			case 0: // all zeros, of mixed signs
				for i := range data {
					if r.IntN(2) == 0 {
						data[i] = negZero
					}
				}
			case 1: // ReLU-like: non-negative with +0s
				for i := range data {
					data[i] = max(0, float32(r.NormFloat64()))
				}
			default:
				for i := range data {
					data[i] = float32(r.NormFloat64() * 10)
				}
				for k := 0; k < trial-2 && k < n; k++ {
					data[r.IntN(n)] = specials[r.IntN(len(specials))]
				}
			}
			useAVX2 = false
			wmx, wmn, wam := run(data)
			useAVX2 = true
			gmx, gmn, gam := run(data)
			if gmx != wmx || gmn != wmn || gam != wam {
				t.Fatalf("n=%d trial %d %v: max/min/absmax %#x %#x %#x, want %#x %#x %#x", n, trial, data, gmx, gmn, gam, wmx, wmn, wam)
			}
			if _, ok := extremumVec(data, true); ok {
				ran++
			}
		}
	}
	// One -0 among +0s, at every place: the Go loops' result has the
	// sign of data[0] only, so a -0 the assembly misses shows.
	for n := 16; n <= 40; n++ {
		for p := 0; p < n; p++ {
			data := make([]float32, n)
			data[p] = negZero
			useAVX2 = false
			wmx, wmn, _ := run(data)
			useAVX2 = true
			gmx, gmn, _ := run(data)
			if gmx != wmx || gmn != wmn {
				t.Fatalf("n=%d, -0 at %d: max/min %#x %#x, want %#x %#x", n, p, gmx, gmn, wmx, wmn)
			}
		}
	}
	if ran < 250 {
		t.Errorf("the assembly decided only %d maxima", ran)
	}
}

func BenchmarkReduce(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]float32, 16*28*28)
	for i := range data {
		data[i] = max(0, float32(r.NormFloat64()))
	}
	for _, asm := range []bool{false, true} {
		if asm && !useAVX2 {
			continue
		}
		for _, red := range []string{"max", "min", "absmax"} {
			b.Run(fmt.Sprintf("%s/asm=%v", red, asm), func(b *testing.B) {
				was := useAVX2
				useAVX2 = asm
				defer func() { useAVX2 = was }()
				for b.Loop() {
					switch red {
					case "max":
						extremum(data, true)
					case "min":
						extremum(data, false)
					default:
						absMax(data)
					}
				}
			})
		}
	}
}
