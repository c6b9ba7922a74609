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

// TestMinMaxLeakyReLU checks MaxF32, MinF32 (vector and scalar operand
// forms) and LeakyReLUF32 bit for bit against their scalar rules on
// random values with NaNs (two payloads), zeros of both signs and
// infinities placed at every lane, for lengths around the vector width.
func TestMinMaxLeakyReLU(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	nan1 := math.Float32frombits(0x7fc00001)
	nan2 := math.Float32frombits(0xffc00002)
	inf := float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	special := []float32{nan1, nan2, 0, negZero, inf, -inf, 1, -1}
	bits := math.Float32bits
	for _, n := range []int{0, 1, 7, 8, 9, 16, 23, 64, 100} {
		a, b := make([]float32, n), make([]float32, n)
		for i := range a {
			a[i] = float32(r.NormFloat64())
			b[i] = float32(r.NormFloat64())
			if r.IntN(3) == 0 {
				a[i] = special[r.IntN(len(special))]
			}
			if r.IntN(3) == 0 {
				b[i] = special[r.IntN(len(special))]
			}
		}
		for _, s := range special {
			for _, tc := range []struct {
				name string
				run  func(dst []float32)
				want func(i int) float32
			}{
				{"MaxF32", func(d []float32) { MaxF32(d, a, b) }, func(i int) float32 { return MaxOf(a[i], b[i]) }},
				{"MinF32", func(d []float32) { MinF32(d, a, b) }, func(i int) float32 { return MinOf(a[i], b[i]) }},
				{"MaxF32VS", func(d []float32) { MaxF32VS(d, a, s) }, func(i int) float32 { return MaxOf(a[i], s) }},
				{"MinF32VS", func(d []float32) { MinF32VS(d, a, s) }, func(i int) float32 { return MinOf(a[i], s) }},
				{"MaxF32SV", func(d []float32) { MaxF32SV(d, s, b) }, func(i int) float32 { return MaxOf(s, b[i]) }},
				{"MinF32SV", func(d []float32) { MinF32SV(d, s, b) }, func(i int) float32 { return MinOf(s, b[i]) }},
				{"LeakyReLUF32", func(d []float32) { LeakyReLUF32(d, a, 0.2) }, func(i int) float32 {
					if a[i] < 0 {
						return a[i] * 0.2
					}
					return a[i]
				}},
			} {
				got := make([]float32, n)
				tc.run(got)
				for i := range got {
					if w := tc.want(i); bits(got[i]) != bits(w) {
						t.Fatalf("%s n=%d s=%g i=%d (a %g, b %g): %g (%#x), want %g (%#x)", tc.name, n, s, i, a[i], b[i], got[i], bits(got[i]), w, bits(w))
					}
				}
			}
		}
		// In place.
		want := make([]float32, n)
		for i := range a {
			want[i] = MaxOf(a[i], b[i])
		}
		MaxF32(a, a, b)
		for i := range a {
			if bits(a[i]) != bits(want[i]) {
				t.Fatalf("MaxF32 in place n=%d i=%d: %g, want %g", n, i, a[i], want[i])
			}
		}
	}
}

// TestScalarArithClip checks the vector-scalar arithmetic kernels and
// ClipF32 bit for bit against the scalar expressions of the operators,
// out of place and in place, at every length around the vector width,
// on values and scalars that include NaN, both zeros, infinities and
// subnormals.
func TestScalarArithClip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	inf := float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	specials := []float32{float32(math.NaN()), 0, negZero, inf, -inf, 1e-40, -3, 6}
	value := func() float32 {
		if r.IntN(6) == 0 {
			return specials[r.IntN(len(specials))]
		}
		return float32(r.NormFloat64() * 5)
	}
	vs := []struct {
		name string
		f    func(dst, a []float32, s float32)
		want func(x, s float32) float32
	}{
		{"AddF32VS", AddF32VS, func(x, s float32) float32 { return x + s }},
		{"AddF32SV", func(d, a []float32, s float32) { AddF32SV(d, s, a) }, func(x, s float32) float32 { return s + x }},
		{"SubF32VS", SubF32VS, func(x, s float32) float32 { return x - s }},
		{"SubF32SV", func(d, a []float32, s float32) { SubF32SV(d, s, a) }, func(x, s float32) float32 { return s - x }},
		{"MulF32VS", MulF32VS, func(x, s float32) float32 { return x * s }},
		{"MulF32SV", func(d, a []float32, s float32) { MulF32SV(d, s, a) }, func(x, s float32) float32 { return s * x }},
		{"DivF32VS", DivF32VS, func(x, s float32) float32 { return x / s }},
		{"DivF32SV", func(d, a []float32, s float32) { DivF32SV(d, s, a) }, func(x, s float32) float32 { return s / x }},
		{"AffineF32 ·s + 0.3", func(d, a []float32, s float32) { AffineF32(d, a, s, 0.3) }, func(x, s float32) float32 { return float32(x*s) + 0.3 }},
		{"AffineF32 ·1.7 + s", func(d, a []float32, s float32) { AffineF32(d, a, 1.7, s) }, func(x, s float32) float32 { return float32(x*1.7) + s }},
		{"ClipF32 [s, 6]", func(d, a []float32, s float32) { ClipF32(d, a, s, 6) }, func(x, s float32) float32 { return clipRule(x, s, 6) }},
		{"ClipF32 [-3, s]", func(d, a []float32, s float32) { ClipF32(d, a, -3, s) }, func(x, s float32) float32 { return clipRule(x, -3, s) }},
	}
	scalars := append([]float32{3, -0.5, 1.0 / 6}, specials...)
	for _, tc := range vs {
		for n := 0; n <= 70; n++ {
			for _, s := range scalars {
				src := make([]float32, n+1)
				for i := range src {
					src[i] = value()
				}
				a := src[1:] // an unaligned start
				dst := make([]float32, n)
				tc.f(dst, a, s)
				inPlace := append([]float32(nil), a...)
				tc.f(inPlace, inPlace, s)
				for i, x := range a {
					w := tc.want(x, s)
					if !bitSame(dst[i], w) || !bitSame(inPlace[i], w) {
						t.Fatalf("%s n=%d s=%g: element %d of %g gives %g (in place %g), want %g", tc.name, n, s, i, x, dst[i], inPlace[i], w)
					}
				}
			}
		}
	}
}

// clipRule is the scalar rule of the Clip operator.
func clipRule(x, lo, hi float32) float32 {
	if x < lo {
		x = lo
	}
	if x > hi {
		x = hi
	}
	return x
}

// bitSame compares bit for bit, any NaN matching any NaN: the payload of
// a NaN result depends on the operand order an instruction is given.
func bitSame(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
}

func BenchmarkScalarArith(b *testing.B) {
	x, y := make([]float32, 1<<16), make([]float32, 1<<16)
	for i := range x {
		x[i] = float32(i%13) - 6
	}
	b.SetBytes(4 << 16)
	b.Run("AddF32VS", func(b *testing.B) {
		for b.Loop() {
			AddF32VS(y, x, 3)
		}
	})
	b.Run("DivF32VS", func(b *testing.B) {
		for b.Loop() {
			DivF32VS(y, x, 6)
		}
	})
	b.Run("ClipF32", func(b *testing.B) {
		for b.Loop() {
			ClipF32(y, x, 0, 6)
		}
	})
}
