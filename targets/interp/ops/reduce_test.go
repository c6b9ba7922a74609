package ops

import (
	"math"
	"testing"

	"github.com/potgo/pot/targets/interp/tensor"
)

func TestReduceAxesAndKeepdims(t *testing.T) {
	// x[i][j][k] = 12i + 4j + k, shape [2, 3, 4].
	x := iota64(2, 3, 4)
	xf, _ := x.Float64s()
	x32 := make([]float32, len(xf))
	for i, v := range xf {
		x32[i] = float32(v)
	}
	xt := tensor.From(x.Shape, x32)
	cases := []struct {
		name  string
		call  opCall
		axes  *tensor.Tensor // opset 18 input
		shape []int
		want  []float64
	}{
		{"sum axis 1 keep", onnxOp("ReduceSum", 11, aInts("axes", 1)), nil, []int{2, 1, 4}, floats(12, 15, 18, 21, 48, 51, 54, 57)},
		{"sum axes 0,2 drop", onnxOp("ReduceSum", 11, aInts("axes", 0, -1), aInt("keepdims", 0)), nil, []int{3}, floats(60, 92, 124)},
		{"sum all", onnxOp("ReduceSum", 11), nil, []int{1, 1, 1}, floats(276)},
		{"sum-13 axes input", onnxOp("ReduceSum", 13, aInt("keepdims", 0)), i64s([]int{1}, -2), []int{2, 4}, floats(12, 15, 18, 21, 48, 51, 54, 57)},
		{"sum-13 empty axes reduces all", onnxOp("ReduceSum", 13), i64s([]int{0}), []int{1, 1, 1}, floats(276)},
		{"sum-13 noop", onnxOp("ReduceSum", 13, aInt("noop_with_empty_axes", 1)), i64s([]int{0}), []int{2, 3, 4}, xf},
		{"max axes 0,1", onnxOp("ReduceMax", 13, aInts("axes", 0, 1), aInt("keepdims", 0)), nil, []int{4}, floats(20, 21, 22, 23)},
		{"min-18 axes input", onnxOp("ReduceMin", 18), i64s([]int{1}, 2), []int{2, 3, 1}, floats(0, 4, 8, 12, 16, 20)},
		{"mean axis 2", onnxOp("ReduceMean", 13, aInts("axes", 2), aInt("keepdims", 0)), nil, []int{2, 3}, floats(1.5, 5.5, 9.5, 13.5, 17.5, 21.5)},
		{"prod axis 0", onnxOp("ReduceProd", 13, aInts("axes", 0), aInt("keepdims", 0)), nil, []int{3, 4}, floats(0, 13, 28, 45, 64, 85, 108, 133, 160, 189, 220, 253)},
		{"l1 axis 1", onnxOp("ReduceL1", 13, aInts("axes", 1), aInt("keepdims", 0)), nil, []int{2, 4}, floats(12, 15, 18, 21, 48, 51, 54, 57)},
		{"sumsquare axis 2", onnxOp("ReduceSumSquare", 13, aInts("axes", 2), aInt("keepdims", 0)), nil, []int{2, 3}, floats(14, 126, 366, 734, 1230, 1854)},
	}
	for _, c := range cases {
		in := []*tensor.Tensor{xt}
		if c.axes != nil {
			in = append(in, c.axes)
		}
		out := c.call.mustRun(t, in...)
		checkTensor(t, c.name, out[0], c.shape, c.want)
	}
}

func TestReduceFloatFunctions(t *testing.T) {
	x := f32s([]int{2, 2}, 1, 2, 3, 4)
	cases := []struct {
		op   string
		want []float64
	}{
		{"ReduceL2", floats(math.Sqrt(5), 5)},
		{"ReduceLogSum", floats(math.Log(3), math.Log(7))},
		{"ReduceLogSumExp", floats(math.Log(math.Exp(1)+math.Exp(2)), math.Log(math.Exp(3)+math.Exp(4)))},
	}
	for _, c := range cases {
		out := onnxOp(c.op, 13, aInts("axes", 1), aInt("keepdims", 0)).mustRun(t, x)
		got := out[0].F32()
		for i, w := range c.want {
			if math.Abs(float64(got[i])-w) > 1e-6*w {
				t.Errorf("%s: %v, want %v", c.op, got, c.want)
			}
		}
	}
	// LogSumExp does not overflow where exp does.
	out := onnxOp("ReduceLogSumExp", 13, aInt("keepdims", 0)).mustRun(t, f32s([]int{2}, 1000, 1000))
	if got, want := out[0].F32()[0], float32(1000+math.Ln2); got != want {
		t.Errorf("ReduceLogSumExp(1000, 1000) = %v, want %v", got, want)
	}
}

func TestReduceIntegerAndParallel(t *testing.T) {
	// Integer sums are exact beyond float64's 53 bits.
	big := tensor.From([]int{2}, []int64{1 << 60, 1})
	out := onnxOp("ReduceSum", 13, aInt("keepdims", 0)).mustRun(t, big)
	if got := out[0].I64()[0]; got != 1<<60+1 {
		t.Errorf("ReduceSum int64 = %d, want %d", got, int64(1<<60+1))
	}
	// A large channel-wise mean (the squeeze-and-excitation pattern) on
	// four threads equals the one-thread result.
	n, c, hw := 4, 64, 32*32
	v := make([]float32, n*c*hw)
	for i := range v {
		v[i] = float32(i%97) / 7
	}
	x := tensor.From([]int{n, c, 32, 32}, v)
	call := onnxOp("ReduceMean", 13, aInts("axes", 2, 3))
	one := call.mustRun(t, x)[0].F32()
	call.threads = 4
	four := call.mustRun(t, x)[0].F32()
	for i := range one {
		sum := 0.0
		for _, e := range v[i*hw : (i+1)*hw] {
			sum += float64(e)
		}
		if want := float32(sum / float64(hw)); one[i] != want || four[i] != want {
			t.Fatalf("mean %d: %v (1 thread), %v (4 threads), want %v", i, one[i], four[i], want)
		}
	}
}

func TestArgMaxSelectLastIndex(t *testing.T) {
	x := f32s([]int{2, 3}, 2, 5, 5, 7, 7, 1)
	cases := []struct {
		call  opCall
		shape []int
		want  []float64
	}{
		{onnxOp("ArgMax", 13, aInt("axis", 1)), []int{2, 1}, floats(1, 0)},
		{onnxOp("ArgMax", 13, aInt("axis", 1), aInt("select_last_index", 1)), []int{2, 1}, floats(2, 1)},
		{onnxOp("ArgMin", 13, aInt("axis", -1), aInt("keepdims", 0)), []int{2}, floats(0, 2)},
		{onnxOp("ArgMax", 13, aInt("axis", 0), aInt("keepdims", 0)), []int{3}, floats(1, 1, 0)},
	}
	for _, c := range cases {
		out := c.call.mustRun(t, x)
		if out[0].DType != tensor.Int64 {
			t.Fatalf("%s: type %v", c.call.op, out[0].DType)
		}
		checkTensor(t, c.call.op, out[0], c.shape, c.want)
	}
}

func TestTopK(t *testing.T) {
	x := f32s([]int{2, 4}, 3, 1, 3, 2, 0, -1, 5, 5)
	call := onnxOp("TopK", 11, aInt("axis", 1))
	call.nout = 2
	out := call.mustRun(t, x, i64s([]int{1}, 3))
	checkTensor(t, "values", out[0], []int{2, 3}, floats(3, 3, 2, 5, 5, 0))
	checkTensor(t, "indices", out[1], []int{2, 3}, floats(0, 2, 3, 2, 3, 0))
	call = onnxOp("TopK", 11, aInt("axis", 0), aInt("largest", 0))
	call.nout = 2
	out = call.mustRun(t, x, i64s([]int{1}, 1))
	checkTensor(t, "smallest values", out[0], []int{1, 4}, floats(0, -1, 3, 2))
	checkTensor(t, "smallest indices", out[1], []int{1, 4}, floats(1, 1, 0, 0))
	if _, err := call.run(x, i64s([]int{1}, 3)); err == nil {
		t.Fatal("TopK with k above the axis length succeeded")
	}
}

func TestCumSum(t *testing.T) {
	x := f32s([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	cases := []struct {
		call opCall
		axis int64
		want []float64
	}{
		{onnxOp("CumSum", 14), 1, floats(1, 3, 6, 4, 9, 15)},
		{onnxOp("CumSum", 14, aInt("exclusive", 1)), 1, floats(0, 1, 3, 0, 4, 9)},
		{onnxOp("CumSum", 14, aInt("reverse", 1)), -1, floats(6, 5, 3, 15, 11, 6)},
		{onnxOp("CumSum", 14, aInt("reverse", 1), aInt("exclusive", 1)), 0, floats(4, 5, 6, 0, 0, 0)},
	}
	for _, c := range cases {
		out := c.call.mustRun(t, x, tensor.Scalar(int32(c.axis)))
		checkTensor(t, "CumSum", out[0], []int{2, 3}, c.want)
	}
}

// TestSoftmaxOpsetAxis checks the coerce-to-2-D rule before opset 13
// against the single-axis rule from 13.
func TestSoftmaxOpsetAxis(t *testing.T) {
	x := f32s([]int{1, 2, 2}, 0, 0, 0, math.Float32frombits(0x3f317218)) // ln 2
	// Opset 11, axis 1: one softmax over all four values: 1,1,1,2 / 5.
	out := onnxOp("Softmax", 11).mustRun(t, x)
	checkTensor(t, "Softmax-11", out[0], []int{1, 2, 2}, floats(float64(float32(0.2)), float64(float32(0.2)), float64(float32(0.2)), float64(float32(0.4))))
	// Opset 13, axis -1: per row of two: [1/2 1/2] and [1/3 2/3].
	out = onnxOp("Softmax", 13).mustRun(t, x)
	checkTensor(t, "Softmax-13", out[0], []int{1, 2, 2}, floats(0.5, 0.5, float64(float32(1.0/3)), float64(float32(2.0/3))))
	out = onnxOp("Hardmax", 13, aInt("axis", 1)).mustRun(t, x)
	checkTensor(t, "Hardmax", out[0], []int{1, 2, 2}, floats(1, 0, 0, 1))
	out = onnxOp("LogSoftmax", 13).mustRun(t, f32s([]int{2}, 1000, 1000))
	checkTensor(t, "LogSoftmax", out[0], []int{2}, floats(float64(float32(-math.Ln2)), float64(float32(-math.Ln2))))
}
