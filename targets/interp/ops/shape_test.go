package ops

import (
	"slices"
	"testing"

	"github.com/potgo/pot/targets/interp/tensor"
)

func TestReshapeDims(t *testing.T) {
	cases := []struct {
		in        []int
		shape     []int64
		allowZero bool
		want      []int
		bad       bool
	}{
		{in: []int{2, 3, 4}, shape: []int64{4, -1}, want: []int{4, 6}},
		{in: []int{2, 3, 4}, shape: []int64{0, -1}, want: []int{2, 12}},
		{in: []int{2, 3, 4}, shape: []int64{0, 0, 0}, want: []int{2, 3, 4}},
		{in: []int{0, 3}, shape: []int64{3, 0}, allowZero: true, want: []int{3, 0}},
		{in: []int{2, 3}, shape: []int64{}, bad: true},
		{in: []int{1}, shape: []int64{}, want: []int{}},
		{in: []int{2, 3}, shape: []int64{-1, -1}, bad: true},
		{in: []int{2, 3}, shape: []int64{4, -1}, bad: true},
		{in: []int{2, 3}, shape: []int64{0, 0, 0}, bad: true},
		{in: []int{2, 3}, shape: []int64{-2, 3}, bad: true},
	}
	for _, c := range cases {
		got, err := reshapeDims(c.in, c.shape, c.allowZero)
		if c.bad {
			if err == nil {
				t.Errorf("reshape %v to %v: got %v, want an error", c.in, c.shape, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("reshape %v to %v (allowzero %v) = %v, %v; want %v", c.in, c.shape, c.allowZero, got, err, c.want)
		}
	}
}

func TestReshapeCopies(t *testing.T) {
	x := iota64(2, 3)
	out := onnxOp("Reshape", 14).mustRun(t, x, i64s([]int{1}, -1))
	out[0].I64()[0] = 42
	if x.I64()[0] != 0 {
		t.Fatal("Reshape's output aliases its input")
	}
	// Opset 1 takes the shape as an attribute.
	out = onnxOp("Reshape", 1, aInts("shape", 3, 2)).mustRun(t, x)
	checkTensor(t, "Reshape-1", out[0], []int{3, 2}, floats(0, 1, 2, 3, 4, 5))
}

func TestSqueezeUnsqueezeAxes(t *testing.T) {
	x := iota64(1, 3, 1, 2)
	cases := []struct {
		name  string
		call  opCall
		in    []*tensor.Tensor
		shape []int
	}{
		{"Squeeze all", onnxOp("Squeeze", 13), []*tensor.Tensor{x}, []int{3, 2}},
		{"Squeeze negative input axes", onnxOp("Squeeze", 13), []*tensor.Tensor{x, i64s([]int{1}, -2)}, []int{1, 3, 2}},
		{"Squeeze attribute axes", onnxOp("Squeeze", 11, aInts("axes", 0, -2)), []*tensor.Tensor{x}, []int{3, 2}},
		{"Unsqueeze negative unsorted", onnxOp("Unsqueeze", 13), []*tensor.Tensor{x, i64s([]int{2}, -1, 0)}, []int{1, 1, 3, 1, 2, 1}},
		{"Unsqueeze attribute", onnxOp("Unsqueeze", 11, aInts("axes", 4)), []*tensor.Tensor{x}, []int{1, 3, 1, 2, 1}},
		{"Flatten negative axis", onnxOp("Flatten", 13, aInt("axis", -1)), []*tensor.Tensor{x}, []int{3, 2}},
		{"Flatten axis 0", onnxOp("Flatten", 13, aInt("axis", 0)), []*tensor.Tensor{x}, []int{1, 6}},
		{"Shape start/end", onnxOp("Shape", 15, aInt("start", -3), aInt("end", -1)), []*tensor.Tensor{x}, []int{2}},
	}
	for _, c := range cases {
		out, err := c.call.run(c.in...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !slices.Equal(out[0].Shape, c.shape) {
			t.Errorf("%s: shape %v, want %v", c.name, out[0].Shape, c.shape)
		}
	}
	if _, err := onnxOp("Squeeze", 13).run(x, i64s([]int{1}, 1)); err == nil {
		t.Error("squeezing an axis of size 3: no error")
	}
	out := onnxOp("Shape", 15, aInt("start", -3), aInt("end", -1)).mustRun(t, x)
	checkTensor(t, "Shape", out[0], []int{2}, floats(3, 1))
}

func TestSplitSizes(t *testing.T) {
	x := iota64(7)
	cases := []struct {
		name  string
		call  opCall
		in    []*tensor.Tensor
		sizes []int
	}{
		{"num_outputs uneven", opCall{op: "Split", opset: 18, nout: 3, attrs: []*potv1Attr{aInt("num_outputs", 3)}}, []*tensor.Tensor{x}, []int{3, 3, 1}},
		{"split input", opCall{op: "Split", opset: 13, nout: 3}, []*tensor.Tensor{x, i64s([]int{3}, 2, 0, 5)}, []int{2, 0, 5}},
		{"split attribute", opCall{op: "Split", opset: 11, nout: 2, attrs: []*potv1Attr{aInts("split", 4, 3)}}, []*tensor.Tensor{x}, []int{4, 3}},
		{"opset 1 split input", opCall{op: "Split", opset: 1, nout: 2}, []*tensor.Tensor{x, i64s([]int{2}, 1, 6)}, []int{1, 6}},
	}
	for _, c := range cases {
		out, err := c.call.run(c.in...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		next := 0.0
		for i, o := range out {
			want := make([]float64, c.sizes[i])
			for j := range want {
				want[j] = next
				next++
			}
			checkTensor(t, c.name, o, []int{c.sizes[i]}, want)
		}
	}
	if _, err := (opCall{op: "Split", opset: 13, nout: 2}).run(x); err == nil {
		t.Error("7 into 2 equal parts: no error")
	}
}
