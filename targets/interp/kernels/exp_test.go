package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestExpF64MatchesMath checks ExpF64 bit for bit against math.Exp: on
// arguments across the range of normal results and beyond it (where
// math.Exp's own branches apply), NaN, infinities and signed zeros, at
// every length around the vector width, in place and not.
func TestExpF64MatchesMath(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), -708, 709, -708.0000001, 709.0000001,
		-745.2, -740, 709.7, 710, 1e-300, -1e-300, 0.5 * math.Ln2, -0.5 * math.Ln2}
	value := func() float64 {
		switch r.IntN(8) {
		case 0:
			return specials[r.IntN(len(specials))]
		case 1:
			return r.Float64()*1500 - 750
		default:
			return r.NormFloat64() * 8
		}
	}
	for n := 0; n <= 41; n++ {
		for rep := 0; rep < 200; rep++ {
			src := make([]float64, n)
			for i := range src {
				src[i] = value()
			}
			dst := make([]float64, n)
			ExpF64(dst, src)
			in := append([]float64(nil), src...)
			ExpF64(in, in)
			for i, x := range src {
				want := math.Exp(x)
				if math.Float64bits(dst[i]) != math.Float64bits(want) && !(math.IsNaN(dst[i]) && math.IsNaN(want)) {
					t.Fatalf("n=%d: Exp(%v) = %v, math.Exp %v", n, x, dst[i], want)
				}
				if math.Float64bits(in[i]) != math.Float64bits(dst[i]) && !(math.IsNaN(in[i]) && math.IsNaN(dst[i])) {
					t.Fatalf("n=%d: in place Exp(%v) = %v, want %v", n, x, in[i], dst[i])
				}
			}
		}
	}
	// Many arguments in the range, where the kernel does the work.
	src := make([]float64, 1<<16)
	for i := range src {
		src[i] = r.Float64()*1416 - 708
	}
	dst := make([]float64, len(src))
	if done := expVec(dst, src); hasAVX2FMA && done != len(src) {
		t.Fatalf("the kernel computed %d of %d arguments in its range", done, len(src))
	}
	ExpF64(dst, src)
	for i, x := range src {
		if want := math.Exp(x); math.Float64bits(dst[i]) != math.Float64bits(want) {
			t.Fatalf("Exp(%v) = %v, math.Exp %v", x, dst[i], want)
		}
	}
}

func BenchmarkExpF64(b *testing.B) {
	src := make([]float64, 4096)
	for i := range src {
		src[i] = float64(i%200)/10 - 10
	}
	dst := make([]float64, len(src))
	b.Run("ExpF64", func(b *testing.B) {
		for b.Loop() {
			ExpF64(dst, src)
		}
	})
	b.Run("math.Exp", func(b *testing.B) {
		for b.Loop() {
			for i, x := range src {
				dst[i] = math.Exp(x)
			}
		}
	})
}
