package ops

import (
	"testing"

	"github.com/potgo/pot/targets/interp/tensor"
)

// The expected values are numpy.pad's.
func TestPadModes(t *testing.T) {
	a := f32s([]int{3}, 1, 2, 3)
	b := iota64(3, 4)
	cases := []struct {
		name  string
		call  opCall
		in    []*tensor.Tensor
		shape []int
		want  []float64
	}{
		{"reflect beyond the size", onnxOp("Pad", 13, aString("mode", "reflect")),
			[]*tensor.Tensor{a, i64s([]int{2}, 5, 6)}, []int{14},
			floats(2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2, 1)},
		{"wrap", onnxOp("Pad", 19, aString("mode", "wrap")),
			[]*tensor.Tensor{a, i64s([]int{2}, 4, 5)}, []int{12},
			floats(3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2)},
		{"edge", onnxOp("Pad", 13, aString("mode", "edge")),
			[]*tensor.Tensor{a, i64s([]int{2}, 2, 2)}, []int{7},
			floats(1, 1, 1, 2, 3, 3, 3)},
		{"reflect 2-D", onnxOp("Pad", 13, aString("mode", "reflect")),
			[]*tensor.Tensor{b, i64s([]int{4}, 1, 2, 0, 1)}, []int{4, 7},
			floats(6, 5, 4, 5, 6, 7, 6, 2, 1, 0, 1, 2, 3, 2, 6, 5, 4, 5, 6, 7, 6, 10, 9, 8, 9, 10, 11, 10)},
		{"negative pads crop", onnxOp("Pad", 13),
			[]*tensor.Tensor{b, i64s([]int{4}, -1, 1, 0, -2), tensor.Scalar(int64(9))}, []int{2, 3},
			floats(9, 4, 5, 9, 8, 9)},
		{"axes (opset 18)", onnxOp("Pad", 18),
			[]*tensor.Tensor{b, i64s([]int{2}, 1, 0), tensor.Scalar(int64(-1)), i64s([]int{1}, -1)}, []int{3, 5},
			floats(-1, 0, 1, 2, 3, -1, 4, 5, 6, 7, -1, 8, 9, 10, 11)},
		{"attributes (opset 2)", onnxOp("Pad", 2, aInts("pads", 0, 1, 0, 0), aFloat("value", 1.5)),
			[]*tensor.Tensor{f32s([]int{1, 2}, 7, 8)}, []int{1, 3}, floats(1.5, 7, 8)},
		{"paddings (opset 1)", onnxOp("Pad", 1, aInts("paddings", 1, 0, 0, 0)),
			[]*tensor.Tensor{f32s([]int{1, 2}, 7, 8)}, []int{2, 2}, floats(0, 0, 7, 8)},
	}
	for _, c := range cases {
		out, err := c.call.run(c.in...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		checkTensor(t, c.name, out[0], c.shape, c.want)
	}
}

func TestPadRejects(t *testing.T) {
	if _, err := onnxOp("Pad", 13, aString("mode", "wrap")).run(f32s([]int{1}, 1), i64s([]int{2}, 1, 1)); !IsUnsupported(err) {
		t.Errorf("wrap at opset 13: %v, want unsupported", err)
	}
	if _, err := onnxOp("Pad", 13).run(f32s([]int{2}, 1, 2), i64s([]int{2}, -2, -1)); err == nil {
		t.Error("pads removing more than the axis: no error")
	}
}
