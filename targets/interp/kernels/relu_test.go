package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestReLU(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{0, 1, 31, 32, 33, 100, 1000} {
		src := randSlice(r, n)
		if n > 3 {
			src[3] = float32(math.NaN())
			src[2] = float32(math.Inf(-1))
		}
		dst := make([]float32, n)
		ReLU(dst, src)
		for i, x := range src {
			want := x
			if x < 0 {
				want = 0
			}
			if dst[i] != want && !(math.IsNaN(float64(x)) && math.IsNaN(float64(dst[i]))) {
				t.Fatalf("n=%d: relu(%v) = %v", n, x, dst[i])
			}
		}
		ReLU(src, src) // in place
		for i := range src {
			if src[i] != dst[i] && !math.IsNaN(float64(dst[i])) {
				t.Fatalf("n=%d: in place differs at %d", n, i)
			}
		}
	}
}

func BenchmarkReLU(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	src := randSlice(r, 1<<16)
	dst := make([]float32, len(src))
	for b.Loop() {
		ReLU(dst, src)
	}
	b.SetBytes(int64(8 * len(src)))
}
