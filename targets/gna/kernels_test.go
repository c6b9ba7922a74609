package gna

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/targets/interp/tensor"
)

func repeat(v float32, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// A crafted affine layer whose dot products pass int32: the accumulator
// saturates instead of wrapping or widening.
func TestAffineSaturates(t *testing.T) {
	const m = 32767
	w := f32([]int{3, 4}, m, m, m, m, -m, -m, -m, -m, 1, 2, 3, 4)
	x := f32([]int{1, 4}, m, m, m, m)
	a := attrs(grid("x", Int16Lo, Int16Hi, 1), grid("w", Int16Lo, Int16Hi, 1),
		[]*potv1.Attribute{graph.IntAttr("trans_b", 1)})
	y := runOp(t, "GnaAffine", a, []*tensor.Tensor{nil, w}, x).F32()
	want := []float32{math.MaxInt32, math.MinInt32, m * 10}
	for i := range want {
		if y[i] != want[i] {
			t.Errorf("output %d = %.10g, want %.10g", i, y[i], want[i])
		}
	}
}

// The accumulator saturates after every AccumulatorBlock products: a sum
// whose first block overflows does not come back by later products.
func TestAffineSaturatesPerBlock(t *testing.T) {
	const m = 32767
	k := 2 * AccumulatorBlock
	wv := append(repeat(m, AccumulatorBlock), repeat(-m, AccumulatorBlock)...)
	x := f32([]int{1, k}, repeat(m, k)...)
	a := attrs(grid("x", Int16Lo, Int16Hi, 1), grid("w", Int16Lo, Int16Hi, 1), []*potv1.Attribute{graph.IntAttr("trans_b", 1)})
	y := runOp(t, "GnaAffine", a, []*tensor.Tensor{nil, f32([]int{1, k}, wv...)}, x).F32()
	// Exact sum 0; block 1 saturates to MaxInt32, block 2 takes it below
	// MinInt32.
	if y[0] != math.MinInt32 {
		t.Errorf("output %.10g, want %d", y[0], math.MinInt32)
	}
}

// Without overflow the affine layer is exact integer arithmetic on the
// grids, with per-channel weight steps, alpha, beta and a rounded bias.
func TestAffineExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const rows, k, n = 5, 7, 3
	xs, ws := float32(0.01), []float32{0.002, 0.004, 0.001}
	xq := make([]int64, rows*k)
	x := make([]float32, rows*k)
	for i := range x {
		xq[i] = int64(rng.IntN(2001) - 1000)
		x[i] = float32(xq[i]) * xs
	}
	wq := make([]int64, k*n) // [K, N] (MatMul layout)
	w := make([]float32, k*n)
	for i := range w {
		wq[i] = int64(rng.IntN(255) - 127)
		w[i] = float32(wq[i]) * ws[i%n]
	}
	bias := []float32{0.5, -0.25, 3}
	for _, tc := range []struct {
		name  string
		extra []*potv1.Attribute
		alpha float64
		beta  float64
	}{
		{"matmul-like gemm", nil, 1, 1},
		{"alpha beta", []*potv1.Attribute{graph.FloatAttr("alpha", 2), graph.FloatAttr("beta", 0.5)}, 2, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := attrs(grid("x", Int16Lo, Int16Hi, xs), grid("w", Int8Lo, Int8Hi, ws...), tc.extra)
			y := runOp(t, "GnaAffine", a, []*tensor.Tensor{nil, f32([]int{k, n}, w...), f32([]int{n}, bias...)}, f32([]int{rows, k}, x...)).F32()
			for r := 0; r < rows; r++ {
				for c := 0; c < n; c++ {
					accScale := tc.alpha * float64(xs) * float64(ws[c])
					acc := int64(math.RoundToEven(tc.beta * float64(bias[c]) / accScale))
					for i := 0; i < k; i++ {
						acc += xq[r*k+i] * wq[i*n+c]
					}
					want := float32(float64(acc) * accScale)
					if got := y[r*n+c]; got != want {
						t.Errorf("y[%d,%d] = %.9g, want %.9g", r, c, got, want)
					}
				}
			}
		})
	}
}

// MatMul semantics: leading dimensions of X are kept.
func TestAffineMatMulShape(t *testing.T) {
	a := attrs(grid("x", Int16Lo, Int16Hi, 1), grid("w", Int16Lo, Int16Hi, 1), []*potv1.Attribute{graph.IntAttr("matmul", 1)})
	x := f32([]int{2, 1, 2}, 1, 2, 3, 4)
	y := runOp(t, "GnaAffine", a, []*tensor.Tensor{nil, f32([]int{2, 1}, 10, 100)}, x)
	if len(y.Shape) != 3 || y.Shape[0] != 2 || y.Shape[1] != 1 || y.Shape[2] != 1 {
		t.Fatalf("shape %v, want [2 1 1]", y.Shape)
	}
	if v := y.F32(); v[0] != 210 || v[1] != 430 {
		t.Errorf("values %v, want [210 430]", v)
	}
}

// The integer convolution equals a direct float convolution of grid
// values small enough to be exact.
func TestConvExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const c, h, w, m, kh, kw, g = 4, 6, 5, 6, 3, 2, 2
	x := make([]float32, 2*c*h*w)
	for i := range x {
		x[i] = float32(rng.IntN(41) - 20)
	}
	wt := make([]float32, m*(c/g)*kh*kw)
	for i := range wt {
		wt[i] = float32(rng.IntN(21) - 10)
	}
	b := []float32{1, -2, 3, -4, 5, -6}
	convAttrs := []*potv1.Attribute{graph.IntAttr("group", g),
		{Name: "pads", Type: potv1.Attribute_TYPE_INTS, Ints: []int64{1, 0, 0, 1}},
		{Name: "strides", Type: potv1.Attribute_TYPE_INTS, Ints: []int64{2, 1}},
		{Name: "dilations", Type: potv1.Attribute_TYPE_INTS, Ints: []int64{1, 2}}}
	a := attrs(grid("x", Int16Lo, Int16Hi, 0.5), grid("w", Int16Lo, Int16Hi, 0.25), convAttrs)
	xs := make([]float32, len(x))
	for i := range x {
		xs[i] = x[i] * 0.5
	}
	ws := make([]float32, len(wt))
	for i := range wt {
		ws[i] = wt[i] * 0.25
	}
	y := runOp(t, "GnaConv", a, []*tensor.Tensor{nil, f32([]int{m, c / g, kh, kw}, ws...), f32([]int{m}, b...)}, f32([]int{2, c, h, w}, xs...))
	oh, ow := (h+1+0-kh)/2+1, (w+0+1-((kw-1)*2+1))/1+1
	if y.Shape[2] != oh || y.Shape[3] != ow {
		t.Fatalf("output shape %v, want [2 %d %d %d]", y.Shape, m, oh, ow)
	}
	for n := 0; n < 2; n++ {
		for o := 0; o < m; o++ {
			grp := o / (m / g)
			for yy := 0; yy < oh; yy++ {
				for xx := 0; xx < ow; xx++ {
					s := float64(b[o])
					for ci := 0; ci < c/g; ci++ {
						for ky := 0; ky < kh; ky++ {
							for kx := 0; kx < kw; kx++ {
								iy, ix := yy*2-1+ky, xx+kx*2
								if iy < 0 || iy >= h || ix < 0 || ix >= w {
									continue
								}
								s += float64(xs[((n*c+grp*(c/g)+ci)*h+iy)*w+ix]) * float64(ws[((o*(c/g)+ci)*kh+ky)*kw+kx])
							}
						}
					}
					if got := y.F32()[((n*m+o)*oh+yy)*ow+xx]; float64(got) != s {
						t.Fatalf("y[%d,%d,%d,%d] = %g, want %g", n, o, yy, xx, got, s)
					}
				}
			}
		}
	}
}

func TestMultipliers(t *testing.T) {
	tests := []struct {
		a, b   float64
		ma, mb int64
	}{
		{0.25, 0.25, 1 << 14, 1 << 14},
		{0.5, 0.25, 16384, 8192},
		{0.25, 0.5, 8192, 16384},
	}
	for _, tc := range tests {
		ma, mb, acc := Multipliers(tc.a, tc.b)
		if ma != tc.ma || mb != tc.mb {
			t.Errorf("Multipliers(%g, %g) = %d, %d, want %d, %d", tc.a, tc.b, ma, mb, tc.ma, tc.mb)
		}
		if math.Abs(float64(ma)*acc-tc.a) > 1e-12 || math.Abs(float64(mb)*acc-tc.b) > 1e-12 {
			t.Errorf("Multipliers(%g, %g): %d*%g, %d*%g do not give back the steps", tc.a, tc.b, ma, acc, mb, acc)
		}
	}
	// A ratio that is no power of two keeps 2^-15 relative precision.
	for _, r := range []float64{1.4, 3, 7.77, 1000} {
		ma, mb, acc := Multipliers(r, 1)
		if ma > Int16Hi || mb > Int16Hi {
			t.Fatalf("ratio %g: multipliers %d, %d beyond int16", r, ma, mb)
		}
		if e := math.Abs(float64(ma)*acc-r) / r; e > 1.0/32768*2 {
			t.Errorf("ratio %g: relative error %g", r, e)
		}
		if float64(mb)*acc != 1 {
			t.Errorf("ratio %g: finer step %g, want 1", r, float64(mb)*acc)
		}
	}
}

func TestEltwise(t *testing.T) {
	a := f32([]int{2, 2}, 1.5, -0.5, 3, 0) // grid 0.5: 3, -1, 6, 0
	b := f32([]int{2}, 0.5, -0.75)         // grid 0.25: 2, -3 (broadcast over rows)
	tests := []struct {
		op   string
		want []float32
	}{
		{"Add", []float32{2, -1.25, 3.5, -0.75}},
		{"Sub", []float32{1, 0.25, 2.5, 0.75}},
		{"Mul", []float32{0.75, 0.375, 1.5, 0}},
	}
	for _, tc := range tests {
		at := attrs(grid("a", Int16Lo, Int16Hi, 0.5), grid("b", Int16Lo, Int16Hi, 0.25),
			[]*potv1.Attribute{{Name: "op", Type: potv1.Attribute_TYPE_STRING, S: []byte(tc.op)}})
		y := runOp(t, "GnaEltwise", at, []*tensor.Tensor{nil, nil}, a, b).F32()
		for i := range tc.want {
			if y[i] != tc.want[i] {
				t.Errorf("%s: %v, want %v", tc.op, y, tc.want)
				break
			}
		}
	}
	// Products of int16 values saturate the int32 accumulator only at
	// -32768 * -32768 = 2^30, which fits: no saturation for Mul.
	at := attrs(grid("a", Int16Lo, Int16Hi, 1), grid("b", Int16Lo, Int16Hi, 1),
		[]*potv1.Attribute{{Name: "op", Type: potv1.Attribute_TYPE_STRING, S: []byte("Add")}})
	y := runOp(t, "GnaEltwise", at, []*tensor.Tensor{nil, nil}, f32([]int{1}, 32767), f32([]int{1}, 32767)).F32()
	if y[0] != 65534 {
		t.Errorf("Add of two int16 maxima: %g, want 65534", y[0])
	}
}

func TestActivationKernel(t *testing.T) {
	in := IntGrid{Scale: 8.0 / (1 << 31), Lo: Int32Lo, Hi: Int32Hi}
	out := IntGrid{Scale: 1.0 / 32767, Lo: Int16Lo, Hi: Int16Hi}
	at := attrs(grid("in", in.Lo, in.Hi, float32(in.Scale)), grid("out", out.Lo, out.Hi, float32(out.Scale)),
		[]*potv1.Attribute{{Name: "func", Type: potv1.Attribute_TYPE_STRING, S: []byte("Sigmoid")}})
	xs := []float32{-100, -8, -3.3, -0.01, 0, 0.5, 2, 7.9, 100}
	y := runOp(t, "GnaActivation", at, []*tensor.Tensor{nil}, f32([]int{len(xs)}, xs...)).F32()
	for i, x := range xs {
		want := 1 / (1 + math.Exp(-math.Max(-8, math.Min(8, float64(x)))))
		if e := math.Abs(float64(y[i]) - want); e > 4*out.Scale {
			t.Errorf("Sigmoid(%g) = %g, want %g (error %.2g steps)", x, y[i], want, e/out.Scale)
		}
		if q := float64(y[i]) * 32767; math.Abs(q-math.Round(q)) > 1e-3 {
			t.Errorf("Sigmoid(%g) = %g is not on the int16 output grid", x, y[i])
		}
	}
	// PRelu with a slope per channel of axis 1.
	at = attrs(grid("in", Int16Lo, Int16Hi, 1), grid("out", Int16Lo, Int16Hi, 1),
		[]*potv1.Attribute{{Name: "func", Type: potv1.Attribute_TYPE_STRING, S: []byte("PRelu")},
			{Name: "params", Type: potv1.Attribute_TYPE_FLOATS, Floats: []float32{0.5, 0.25}}, graph.IntAttr("axis", 1)})
	y = runOp(t, "GnaActivation", at, []*tensor.Tensor{nil}, f32([]int{1, 2, 2}, -8, 8, -8, 8)).F32()
	if want := []float32{-4, 8, -2, 8}; y[0] != want[0] || y[1] != want[1] || y[2] != want[2] || y[3] != want[3] {
		t.Errorf("PRelu per channel: %v, want %v", y, want)
	}
}

func TestWideQuantizeAndRound(t *testing.T) {
	s := float32(1.0 / (1 << 28))
	// 2^32 levels, zero at 2^31: the int32 grid of step 2^-28.
	y := runOp(t, "GnaQuantize", []*potv1.Attribute{graph.IntAttr("levels", 1<<32)},
		[]*tensor.Tensor{nil, f32(nil, s), f32(nil, 1<<31), f32(nil, s)}, f32([]int{4}, 0.3, -7.999, 100, -100)).F32()
	want := []float32{float32(math.RoundToEven(0.3*(1<<28)) / (1 << 28)), -7.999, float32((1<<31 - 1) / float64(1<<28)), -8}
	for i := range want {
		if math.Abs(float64(y[i]-want[i])) > 1e-6 {
			t.Errorf("GnaQuantize[%d] = %.9g, want %.9g", i, y[i], want[i])
		}
	}
	r := runOp(t, "GnaRound", []*potv1.Attribute{graph.FloatAttr("scale", 0.5), graph.IntAttr("lo", -4), graph.IntAttr("hi", 4)},
		[]*tensor.Tensor{nil}, f32([]int{4}, 0.74, 0.76, 1.25, 9)).F32()
	if want := []float32{0.5, 1, 1, 2}; r[0] != want[0] || r[1] != want[1] || r[2] != want[2] || r[3] != want[3] {
		t.Errorf("GnaRound: %v, want %v", r, want)
	}
}
