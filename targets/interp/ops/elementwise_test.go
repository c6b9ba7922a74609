package ops

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/tensor"
)

// naiveBroadcastIndex maps output element i of shape out to the element
// of an operand of shape in (numpy broadcasting), by index arithmetic
// independent of the kernels' plans.
func naiveBroadcastIndex(i int, out, in []int) int {
	idx := make([]int, len(out))
	for d := len(out) - 1; d >= 0; d-- {
		idx[d] = i % out[d]
		i /= out[d]
	}
	j := 0
	off := len(out) - len(in)
	for d, n := range in {
		k := idx[off+d]
		if n == 1 {
			k = 0
		}
		j = j*n + k
	}
	return j
}

func randF32(rng *rand.Rand, shape ...int) *tensor.Tensor {
	v := make([]float32, tensor.NumElements(shape))
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return tensor.From(shape, v)
}

// TestBinaryBroadcast compares Add, Sub, Mul, Div and Pow over assorted
// broadcast patterns, on one and four threads (the large shapes take the
// parallel path), with a naive per-element evaluation.
func TestBinaryBroadcast(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cases := []struct{ a, b []int }{
		{[]int{2, 3, 4}, []int{2, 3, 4}},
		{[]int{2, 3, 4}, []int{}},
		{[]int{}, []int{2, 3, 4}},
		{[]int{2, 3, 4}, []int{3, 1}},
		{[]int{2, 1, 4}, []int{3, 1}},
		{[]int{1, 3, 1}, []int{2, 1, 4}},
		{[]int{4, 16, 32, 32}, []int{1, 16, 1, 1}}, // per channel, parallel
		{[]int{4, 16, 32, 32}, []int{4, 16, 32, 32}},
		{[]int{2, 16, 32, 33}, []int{33}},
		{[]int{1, 16, 1, 1}, []int{4, 16, 32, 32}},
		{[]int{5, 1, 1, 7}, []int{1, 6, 8, 1}},
		{[]int{3, 0, 2}, []int{1, 2}},
	}
	ops := map[string]func(a, b float32) float32{
		"Add": func(a, b float32) float32 { return a + b },
		"Sub": func(a, b float32) float32 { return a - b },
		"Mul": func(a, b float32) float32 { return a * b },
		"Div": func(a, b float32) float32 { return a / b },
		"Pow": func(a, b float32) float32 { return float32(math.Pow(float64(a), float64(b))) },
	}
	for _, c := range cases {
		a, b := randF32(rng, c.a...), randF32(rng, c.b...)
		shape, err := Broadcast(c.a, c.b)
		if err != nil {
			t.Fatal(err)
		}
		for op, f := range ops {
			for _, threads := range []int{1, 4} {
				call := onnxOp(op, 13)
				call.threads = threads
				out := call.mustRun(t, a, b)[0]
				if !slices.Equal(out.Shape, shape) {
					t.Fatalf("%s %v %v: shape %v, want %v", op, c.a, c.b, out.Shape, shape)
				}
				got, av, bv := out.F32(), a.F32(), b.F32()
				for i := range got {
					want := f(av[naiveBroadcastIndex(i, shape, c.a)], bv[naiveBroadcastIndex(i, shape, c.b)])
					if got[i] != want && !(want != want && got[i] != got[i]) {
						t.Fatalf("%s %v %v threads %d: element %d = %g, want %g", op, c.a, c.b, threads, i, got[i], want)
					}
				}
			}
		}
	}
}

// TestBinaryBroadcastIncompatible checks that mismatched shapes are an
// error, not a panic.
func TestBinaryBroadcastIncompatible(t *testing.T) {
	_, err := onnxOp("Add", 14).run(f32s([]int{2, 3}, 1, 2, 3, 4, 5, 6), f32s([]int{4}, 1, 2, 3, 4))
	if err == nil {
		t.Fatal("Add of [2 3] and [4] succeeded")
	}
	if _, err := onnxOp("Add", 14).run(f32s([]int{1}, 1), i64s([]int{1}, 1)); err == nil {
		t.Fatal("Add of float32 and int64 succeeded")
	}
}

func TestLegacyBroadcastAxis(t *testing.T) {
	// Opset 6 Add with broadcast=1, axis=1: B [3] lines up with A's dim 1.
	a := f32s([]int{2, 3, 2}, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1)
	b := f32s([]int{3}, 10, 20, 30)
	out := onnxOp("Add", 6, aInt("broadcast", 1), aInt("axis", 1)).mustRun(t, a, b)
	checkTensor(t, "Add", out[0], []int{2, 3, 2}, floats(10, 10, 20, 20, 30, 30, 11, 11, 21, 21, 31, 31))
}

func TestIntegerArithmetic(t *testing.T) {
	a := tensor.From([]int{6}, []int32{7, -7, 7, -7, 5, math.MinInt32})
	b := tensor.From([]int{6}, []int32{2, 2, -2, -2, 0, -1})
	cases := []struct {
		call opCall
		want []float64
	}{
		{onnxOp("Div", 14), floats(3, -3, -3, 3, 0, math.MinInt32)},
		{onnxOp("Mod", 13), floats(1, 1, -1, -1, 0, 0)},
		{onnxOp("Mod", 13, aInt("fmod", 1)), floats(1, -1, 1, -1, 0, 0)},
		{onnxOp("Pow", 15), floats(49, 49, 0, 0, 1, 0)},
	}
	for _, c := range cases {
		out := c.call.mustRun(t, a, b)
		checkTensor(t, c.call.op, out[0], []int{6}, c.want)
	}
}

func TestModFloat(t *testing.T) {
	a := f32s([]int{4}, 5.5, -5.5, 5.5, -5.5)
	b := f32s([]int{4}, 2, 2, -2, -2)
	out := onnxOp("Mod", 13, aInt("fmod", 1)).mustRun(t, a, b)
	checkTensor(t, "fmod", out[0], []int{4}, floats(1.5, -1.5, 1.5, -1.5))
	out = onnxOp("Mod", 13).mustRun(t, a, b)
	checkTensor(t, "mod", out[0], []int{4}, floats(1.5, 0.5, -0.5, -1.5))
}

// TestFloat16Rounding checks that 16-bit float arithmetic computes in
// float32 and rounds to nearest even.
func TestFloat16Rounding(t *testing.T) {
	h := func(v ...float32) *tensor.Tensor {
		d := make([]tensor.Float16Bits, len(v))
		for i, x := range v {
			d[i] = tensor.ToFloat16(x)
		}
		return tensor.From([]int{len(v)}, d)
	}
	// 1 + 2^-11 is halfway between 1 and 1+2^-10: ties to even give 1;
	// 1+2^-10 + 2^-11 is halfway to 1+2^-9: ties to even give 1+2^-9.
	ulp := float32(math.Ldexp(1, -10))
	out := onnxOp("Add", 14).mustRun(t, h(1, 1+ulp, 2048), h(ulp/2, ulp/2, 1))
	if out[0].DType != tensor.Float16 {
		t.Fatalf("type %v, want float16", out[0].DType)
	}
	checkTensor(t, "Add", out[0], []int{3}, floats(1, 1+2*float64(ulp), 2048))

	// Cast float32 to float16 rounds the same way; 65520 overflows to Inf.
	x := f32s([]int{4}, 1+ulp/2, 1+3*ulp/2, 65520, -1e-8)
	out = onnxOp("Cast", 13, aInt("to", int64(tensor.Float16))).mustRun(t, x)
	checkTensor(t, "Cast", out[0], []int{4}, floats(1, 1+2*float64(ulp), math.Inf(1), 0))

	// Unary and reduction kernels round their float32 results.
	out = onnxOp("Sqrt", 13).mustRun(t, h(2))
	if want := float64(tensor.RoundFloat16(float32(math.Sqrt2))); out[0].Data.([]tensor.Float16Bits)[0].Float32() != float32(want) {
		t.Fatalf("Sqrt(2) in float16 = %v, want %v", out[0].Data.([]tensor.Float16Bits)[0].Float32(), want)
	}
}

func TestCastConversions(t *testing.T) {
	x := f32s([]int{5}, -1.7, 0, 2.9, 300, float32(math.NaN()))
	cases := []struct {
		to   tensor.DType
		want any
	}{
		{tensor.Int32, floats(-1, 0, 2, 300)},
		{tensor.Bool, floats(1, 0, 1, 1, 1)},
		{tensor.Double, floats(float64(float32(-1.7)), 0, float64(float32(2.9)), 300, math.NaN())},
		{tensor.String, []string{"-1.7", "0", "2.9", "300", "NaN"}},
	}
	for _, c := range cases {
		in := x
		if c.to == tensor.Int32 { // NaN to integer is undefined
			in = f32s([]int{4}, -1.7, 0, 2.9, 300)
		}
		out := onnxOp("Cast", 13, aInt("to", int64(c.to))).mustRun(t, in)
		if out[0].DType != c.to {
			t.Fatalf("Cast to %v gave %v", c.to, out[0].DType)
		}
		checkTensor(t, "Cast to "+c.to.String(), out[0], in.Shape, c.want)
	}
	s := tensor.From([]int{4}, []string{"1.5", "-INF", "nan", "1e40"})
	out := onnxOp("Cast", 13, aInt("to", int64(tensor.Float))).mustRun(t, s)
	checkTensor(t, "Cast from string", out[0], []int{4}, floats(1.5, math.Inf(-1), math.NaN(), math.Inf(1)))
	if _, err := onnxOp("Cast", 13, aInt("to", int64(tensor.Float))).run(tensor.From([]int{1}, []string{"x"})); err == nil {
		t.Fatal("Cast of \"x\" to float succeeded")
	}
	// Opset 1 names the target type by a string.
	out = onnxOp("Cast", 1, aString("to", "INT64")).mustRun(t, f32s([]int{2}, 1.9, -1.9))
	checkTensor(t, "Cast-1", out[0], []int{2}, floats(1, -1))
}

func TestMinMaxNaNAndVariadic(t *testing.T) {
	nan := float32(math.NaN())
	a := f32s([]int{3}, 1, nan, 3)
	b := f32s([]int{3}, 2, 0, nan)
	out := onnxOp("Max", 13).mustRun(t, a, b)
	checkTensor(t, "Max", out[0], []int{3}, floats(2, math.NaN(), math.NaN()))
	// Sum and Mean broadcast all inputs together.
	x := f32s([]int{2, 1}, 1, 2)
	y := f32s([]int{3}, 10, 20, 30)
	z := f32s([]int{}, 100)
	out = onnxOp("Sum", 13).mustRun(t, x, y, z)
	checkTensor(t, "Sum", out[0], []int{2, 3}, floats(111, 121, 131, 112, 122, 132))
	out = onnxOp("Mean", 13).mustRun(t, x, y, z)
	third := func(v float32) float64 { return float64(v / 3) }
	checkTensor(t, "Mean", out[0], []int{2, 3}, floats(37, third(121), third(131), third(112), third(122), 44))
}

func TestWhereBroadcast(t *testing.T) {
	c := tensor.From([]int{2, 1}, []bool{true, false})
	x := f32s([]int{3}, 1, 2, 3)
	y := f32s([]int{}, -1)
	out := onnxOp("Where", 16).mustRun(t, c, x, y)
	checkTensor(t, "Where", out[0], []int{2, 3}, floats(1, 2, 3, -1, -1, -1))
}

func TestClip(t *testing.T) {
	x := f32s([]int{4}, -2, -0.5, 0.5, 2)
	out := onnxOp("Clip", 6, aFloat("min", -1), aFloat("max", 1)).mustRun(t, x)
	checkTensor(t, "Clip-6", out[0], []int{4}, floats(-1, -0.5, 0.5, 1))
	// min > max: every value becomes max, as numpy.clip.
	out = onnxOp("Clip", 13).mustRun(t, x, tensor.Scalar(float32(1)), tensor.Scalar(float32(0)))
	checkTensor(t, "Clip min>max", out[0], []int{4}, floats(0, 0, 0, 0))
	// Integer input with only a max.
	xi := tensor.From([]int{3}, []int8{-128, 5, 127})
	out = onnxOp("Clip", 13).mustRun(t, xi, nil, tensor.Scalar(int8(6)))
	checkTensor(t, "Clip int8", out[0], []int{3}, floats(-128, 5, 6))
}

func TestActivationsFloat32(t *testing.T) {
	x := f32s([]int{5}, -3, -1, 0, 1, 3)
	cases := []struct {
		call opCall
		f    func(float64) float64
	}{
		{onnxOp("Relu", 14), func(v float64) float64 { return math.Max(v, 0) }},
		{onnxOp("Sigmoid", 13), func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }},
		{onnxOp("Tanh", 13), math.Tanh},
		{onnxOp("HardSigmoid", 6), func(v float64) float64 { return math.Max(0, math.Min(1, float64(float32(0.2))*v+0.5)) }},
		{onnxOp("HardSwish", 14), func(v float64) float64 { return v * math.Max(0, math.Min(1, v/6+0.5)) }},
		{onnxOp("LeakyRelu", 16, aFloat("alpha", 0.5)), func(v float64) float64 { return math.Max(v, v/2) }},
		{onnxOp("Elu", 6), func(v float64) float64 {
			if v < 0 {
				return math.Exp(v) - 1
			}
			return v
		}},
		{onnxOp("Softplus", 1), func(v float64) float64 { return math.Log(1 + math.Exp(v)) }},
		{onnxOp("Gelu", 20), func(v float64) float64 { return v / 2 * (1 + math.Erf(v/math.Sqrt2)) }},
		{onnxOp("Gelu", 20, aString("approximate", "tanh")), func(v float64) float64 {
			return v / 2 * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
		}},
		{onnxOp("Mish", 18), func(v float64) float64 { return v * math.Tanh(math.Log(1+math.Exp(v))) }},
		{onnxOp("Shrink", 9, aFloat("lambd", 1.5), aFloat("bias", 1)), func(v float64) float64 {
			if math.Abs(v) <= 1.5 {
				return 0
			}
			return v - math.Copysign(1, v)
		}},
	}
	for _, c := range cases {
		got := c.call.mustRun(t, x)[0].F32()
		for i, v := range x.F32() {
			want := c.f(float64(v))
			if math.Abs(float64(got[i])-want) > 1e-6*math.Max(1, math.Abs(want)) {
				t.Errorf("%s(%g) = %g, want %g", c.call.op, v, got[i], want)
			}
		}
	}
}

// TestUnaryParallel checks that float32 activations split over threads
// give the one-thread result.
func TestUnaryParallel(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := randF32(rng, 3, 100, 1000)
	for _, op := range []string{"Relu", "Sigmoid", "Tanh", "HardSwish", "Exp", "Clip"} {
		call := onnxOp(op, 14)
		one := call.mustRun(t, x)[0].F32()
		call.threads = 4
		four := call.mustRun(t, x)[0].F32()
		for i := range one {
			if one[i] != four[i] {
				t.Fatalf("%s element %d: %v on 1 thread, %v on 4", op, i, one[i], four[i])
			}
		}
	}
}

func TestPReluPerChannel(t *testing.T) {
	x := f32s([]int{1, 2, 2}, -1, 1, -1, 1)
	slope := f32s([]int{2}, 0.1, 0.5)
	// Before opset 7 a 1-D slope holds one value per channel (axis 1).
	out := onnxOp("PRelu", 6).mustRun(t, x, slope)
	checkTensor(t, "PRelu-6", out[0], []int{1, 2, 2}, floats(float64(float32(-0.1)), 1, -0.5, 1))
	// From opset 7 it broadcasts numpy-style, along the last axis.
	out = onnxOp("PRelu", 16).mustRun(t, x, slope)
	checkTensor(t, "PRelu-16", out[0], []int{1, 2, 2}, floats(float64(float32(-0.1)), 1, float64(float32(-0.1)), 1))
}

func TestDropoutInference(t *testing.T) {
	x := f32s([]int{3}, 1, 2, 3)
	call := onnxOp("Dropout", 13)
	call.nout = 2
	out := call.mustRun(t, x, tensor.Scalar(float32(0.5)), tensor.Scalar(false))
	checkTensor(t, "output", out[0], []int{3}, floats(1, 2, 3))
	checkTensor(t, "mask", out[1], []int{3}, floats(1, 1, 1))
	if _, err := call.run(x, tensor.Scalar(float32(0.5)), tensor.Scalar(true)); !IsUnsupported(err) {
		t.Fatalf("training-mode dropout: err %v, want unsupported", err)
	}
}

// BenchmarkAddPerChannel measures the residual/bias pattern
// [N,C,H,W] + [1,C,1,1].
func BenchmarkAddPerChannel(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x, y := randF32(rng, 8, 64, 28, 28), randF32(rng, 1, 64, 1, 1)
	benchKernel(b, "Add", x, y)
}

// BenchmarkMulSameShape measures a same-shape product.
func BenchmarkMulSameShape(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x, y := randF32(rng, 8, 64, 28, 28), randF32(rng, 8, 64, 28, 28)
	benchKernel(b, "Mul", x, y)
}

// BenchmarkSigmoid measures a float32 activation.
func BenchmarkSigmoid(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	benchKernel(b, "Sigmoid", randF32(rng, 8, 64, 28, 28))
}

func benchKernel(b *testing.B, op string, in ...*tensor.Tensor) {
	f, _ := Lookup(DomainONNX, op, 17)
	p := &potv1.Node{Name: "n", OpType: op}
	for range in {
		p.Inputs = append(p.Inputs, "x")
	}
	p.Outputs = []string{"y"}
	k, err := f(NewNode(p, 17, nil))
	if err != nil {
		b.Fatal(err)
	}
	ctx := NewContext(1)
	defer ctx.Close()
	out := []*tensor.Tensor{{}}
	b.SetBytes(int64(4 * in[0].Len()))
	b.ReportAllocs()
	for b.Loop() {
		if err := k.Run(ctx, in, out); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHotKernelsDoNotAllocate checks that the kernels CNNs run most
// reuse their output and plan at a fixed shape, on one thread.
func TestHotKernelsDoNotAllocate(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	x, c, s := randF32(rng, 2, 8, 5, 5), randF32(rng, 1, 8, 1, 1), randF32(rng)
	cases := []struct {
		op string
		in []*tensor.Tensor
	}{
		{"Add", []*tensor.Tensor{x, c}},
		{"Add", []*tensor.Tensor{x, x}},
		{"Mul", []*tensor.Tensor{x, s}},
		{"Relu", []*tensor.Tensor{x}},
		{"Sigmoid", []*tensor.Tensor{x}},
		{"HardSigmoid", []*tensor.Tensor{x}},
		{"HardSwish", []*tensor.Tensor{x}},
		{"Clip", []*tensor.Tensor{x, tensor.Scalar(float32(0)), tensor.Scalar(float32(6))}},
	}
	for _, tc := range cases {
		f, _ := Lookup(DomainONNX, tc.op, 17)
		p := &potv1.Node{Name: "n", OpType: tc.op, Outputs: []string{"y"}}
		for range tc.in {
			p.Inputs = append(p.Inputs, "x")
		}
		k, err := f(NewNode(p, 17, nil))
		if err != nil {
			t.Fatal(err)
		}
		ctx := NewContext(1)
		out := []*tensor.Tensor{{}}
		allocs := testing.AllocsPerRun(20, func() {
			if err := k.Run(ctx, tc.in, out); err != nil {
				t.Fatal(err)
			}
		})
		ctx.Close()
		if allocs != 0 {
			t.Errorf("%s %v: %v allocations per run", tc.op, tc.in[len(tc.in)-1].Shape, allocs)
		}
	}
}
