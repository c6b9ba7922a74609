package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestElementwise(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 15, 16, 17, 33, 100, 1000} {
		a, b := make([]float32, n), make([]float32, n)
		for i := range a {
			a[i] = float32(r.NormFloat64() * 4)
			b[i] = float32(r.NormFloat64())
		}
		if n > 3 {
			a[3] = float32(math.NaN())
		}
		sum, prod, hs := make([]float32, n), make([]float32, n), make([]float32, n)
		AddF32(sum, a, b)
		MulF32(prod, a, b)
		HardSigmoidF32(hs, a, 0.2, 0.5)
		// HardSwishF32 is HardSigmoidF32 then MulF32, element for element,
		// also in place.
		swish, unfused := make([]float32, n), make([]float32, n)
		HardSwishF32(swish, a, 0.2, 0.5)
		MulF32(unfused, a, hs)
		inPlace := append([]float32(nil), a...)
		HardSwishF32(inPlace, inPlace, 0.2, 0.5)
		for i := range a {
			if !same(swish[i], unfused[i]) || !same(inPlace[i], unfused[i]) {
				t.Fatalf("n=%d, i=%d: HardSwish(%g) = %g (in place %g), HardSigmoid then Mul %g", n, i, a[i], swish[i], inPlace[i], unfused[i])
			}
		}
		for i := range a {
			if !same(sum[i], a[i]+b[i]) || !same(prod[i], a[i]*b[i]) {
				t.Fatalf("n=%d, i=%d: %g+%g=%g, %g*%g=%g", n, i, a[i], b[i], sum[i], a[i], b[i], prod[i])
			}
			want := float64(min(1, max(0, 0.2*float64(a[i])+0.5)))
			if math.IsNaN(float64(a[i])) {
				if !math.IsNaN(float64(hs[i])) {
					t.Fatalf("HardSigmoid(NaN) = %g", hs[i])
				}
				continue
			}
			if math.Abs(float64(hs[i])-want) > 1e-7 {
				t.Fatalf("n=%d, i=%d: HardSigmoid(%g) = %g, want %g", n, i, a[i], hs[i], want)
			}
		}
		// In place.
		AddF32(a, a, b)
		for i := range a {
			if !same(a[i], sum[i]) {
				t.Fatalf("in place: %g, want %g", a[i], sum[i])
			}
		}
	}
}

func same(a, b float32) bool { return a == b || (a != a && b != b) }

func BenchmarkHardSigmoid(b *testing.B) {
	x, y := make([]float32, 4096), make([]float32, 4096)
	b.SetBytes(4 * 4096)
	for b.Loop() {
		HardSigmoidF32(y, x, 0.2, 0.5)
	}
}
