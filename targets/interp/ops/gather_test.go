package ops

import (
	"testing"

	"github.com/potgo/pot/targets/interp/tensor"
)

func TestGatherFamily(t *testing.T) {
	x := iota64(2, 3)
	cases := []struct {
		name  string
		call  opCall
		in    []*tensor.Tensor
		shape []int
		want  []float64
	}{
		{"Gather negative axis and indices", onnxOp("Gather", 13, aInt("axis", -1)),
			[]*tensor.Tensor{x, i64s([]int{2, 2}, -1, 0, 1, 1)}, []int{2, 2, 2}, floats(2, 0, 1, 1, 5, 3, 4, 4)},
		{"Gather scalar index", onnxOp("Gather", 13),
			[]*tensor.Tensor{x, tensor.Scalar(int64(1))}, []int{3}, floats(3, 4, 5)},
		{"GatherElements", onnxOp("GatherElements", 13, aInt("axis", 1)),
			[]*tensor.Tensor{x, i64s([]int{2, 2}, 2, -3, 0, 1)}, []int{2, 2}, floats(2, 0, 3, 4)},
		{"GatherND batch_dims 1", onnxOp("GatherND", 13, aInt("batch_dims", 1)),
			[]*tensor.Tensor{x, i64s([]int{2, 1}, 2, -1)}, []int{2}, floats(2, 5)},
		{"GatherND slices", onnxOp("GatherND", 13),
			[]*tensor.Tensor{x, i64s([]int{1, 1}, 1)}, []int{1, 3}, floats(3, 4, 5)},
		{"Compress without axis", onnxOp("Compress", 11),
			[]*tensor.Tensor{x, tensor.From([]int{4}, []bool{false, true, false, true})}, []int{2}, floats(1, 3)},
		{"Compress axis -1", onnxOp("Compress", 11, aInt("axis", -1)),
			[]*tensor.Tensor{x, tensor.From([]int{2}, []bool{true, false})}, []int{2, 1}, floats(0, 3)},
		{"OneHot negative index", onnxOp("OneHot", 11, aInt("axis", 0)),
			[]*tensor.Tensor{i64s([]int{2}, -1, 5), tensor.Scalar(float32(3)), f32s([]int{2}, 0, 7)}, []int{3, 2}, floats(0, 0, 0, 0, 7, 0)},
		{"Trilu lower k=-1", onnxOp("Trilu", 14, aInt("upper", 0)),
			[]*tensor.Tensor{iota64(3, 3), tensor.Scalar(int64(-1))}, []int{3, 3}, floats(0, 0, 0, 3, 0, 0, 6, 7, 0)},
		{"EyeLike k=1", onnxOp("EyeLike", 9, aInt("k", 1), aInt("dtype", int64(tensor.Int32))),
			[]*tensor.Tensor{f32s([]int{2, 3}, 0, 0, 0, 0, 0, 0)}, []int{2, 3}, floats(0, 1, 0, 0, 0, 1)},
		{"ReverseSequence batch-major", onnxOp("ReverseSequence", 10, aInt("time_axis", 1), aInt("batch_axis", 0)),
			[]*tensor.Tensor{x, i64s([]int{2}, 2, 3)}, []int{2, 3}, floats(1, 0, 2, 5, 4, 3)},
		{"NonZero", onnxOp("NonZero", 13),
			[]*tensor.Tensor{f32s([]int{2, 2}, 1, 0, 0, -2)}, []int{2, 2}, floats(0, 1, 0, 1)},
	}
	for _, c := range cases {
		out, err := c.call.run(c.in...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		checkTensor(t, c.name, out[0], c.shape, c.want)
	}
	if _, err := onnxOp("Gather", 13).run(x, i64s([]int{1}, 2)); err == nil {
		t.Error("Gather index out of range: no error")
	}
}

func TestScatterReductions(t *testing.T) {
	data := f32s([]int{4}, 1, 2, 3, 4)
	cases := []struct {
		name string
		call opCall
		in   []*tensor.Tensor
		want []float64
	}{
		{"ScatterElements none, negative index", onnxOp("ScatterElements", 13),
			[]*tensor.Tensor{data, i64s([]int{2}, -1, 0), f32s([]int{2}, 9, 8)}, floats(8, 2, 3, 9)},
		{"ScatterElements add duplicates", onnxOp("ScatterElements", 16, aString("reduction", "add")),
			[]*tensor.Tensor{data, i64s([]int{3}, 1, 1, 3), f32s([]int{3}, 10, 20, 1)}, floats(1, 32, 3, 5)},
		{"ScatterElements max", onnxOp("ScatterElements", 18, aString("reduction", "max")),
			[]*tensor.Tensor{data, i64s([]int{2}, 0, 3), f32s([]int{2}, 5, 0)}, floats(5, 2, 3, 4)},
		{"ScatterND mul", onnxOp("ScatterND", 16, aString("reduction", "mul")),
			[]*tensor.Tensor{data, i64s([]int{2, 1}, 2, 2), f32s([]int{2}, 2, 3)}, floats(1, 2, 18, 4)},
		{"ScatterND min", onnxOp("ScatterND", 18, aString("reduction", "min")),
			[]*tensor.Tensor{data, i64s([]int{2, 1}, 0, 3), f32s([]int{2}, -1, 7)}, floats(-1, 2, 3, 4)},
	}
	for _, c := range cases {
		out, err := c.call.run(c.in...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		checkTensor(t, c.name, out[0], []int{4}, c.want)
	}
	if _, err := onnxOp("ScatterND", 16, aString("reduction", "max")).run(data, i64s([]int{1, 1}, 0), f32s([]int{1}, 1)); !IsUnsupported(err) {
		t.Errorf("reduction max at opset 16: %v, want unsupported", err)
	}
}

func TestUnique(t *testing.T) {
	x := f32s([]int{6}, 2, 1, 1, 3, 4, 3)
	for _, sorted := range []bool{true, false} {
		s := int64(0)
		if sorted {
			s = 1
		}
		out := opCall{op: "Unique", opset: 11, nout: 4, attrs: []*potv1Attr{aInt("sorted", s)}}.mustRun(t, x)
		if sorted {
			checkTensor(t, "Y", out[0], []int{4}, floats(1, 2, 3, 4))
			checkTensor(t, "indices", out[1], []int{4}, floats(1, 0, 3, 4))
			checkTensor(t, "inverse", out[2], []int{6}, floats(1, 0, 0, 2, 3, 2))
			checkTensor(t, "counts", out[3], []int{4}, floats(2, 1, 2, 1))
		} else {
			checkTensor(t, "Y", out[0], []int{4}, floats(2, 1, 3, 4))
			checkTensor(t, "indices", out[1], []int{4}, floats(0, 1, 3, 4))
			checkTensor(t, "inverse", out[2], []int{6}, floats(0, 1, 1, 2, 3, 2))
			checkTensor(t, "counts", out[3], []int{4}, floats(1, 2, 2, 1))
		}
	}
}
