package ops

import (
	"math"
	"testing"

	"github.com/potgo/pot/targets/interp/tensor"
)

func TestSliceClamping(t *testing.T) {
	const big, small = math.MaxInt64, math.MinInt64
	x := iota64(10)
	cases := []struct {
		start, end, step int64
		want             []float64
	}{
		{0, 3, 1, floats(0, 1, 2)},
		{-3, 100, 1, floats(7, 8, 9)},
		{0, big, 4, floats(0, 4, 8)},
		{small, 2, 1, floats(0, 1)},
		{3, 3, 1, floats()},
		{5, 1, 1, floats()},
		{100, -100, -1, floats(9, 8, 7, 6, 5, 4, 3, 2, 1, 0)},
		{big, small, -1, floats(9, 8, 7, 6, 5, 4, 3, 2, 1, 0)},
		{5, 1, -2, floats(5, 3)},
		{-1, -11, -3, floats(9, 6, 3, 0)},
		{-20, -30, -1, floats(0)}, // start clamps to 0, end to -1 (ONNX, unlike Python)
		{1, 5, -1, floats()},
	}
	for _, c := range cases {
		out := onnxOp("Slice", 13).mustRun(t, x, i64s([]int{1}, c.start), i64s([]int{1}, c.end), nil, i64s([]int{1}, c.step))
		checkTensor(t, "Slice", out[0], []int{len(c.want)}, c.want)
	}
	if _, err := onnxOp("Slice", 13).run(x, i64s([]int{1}, 0), i64s([]int{1}, 5), nil, i64s([]int{1}, 0)); err == nil {
		t.Error("step 0: no error")
	}
}

func TestSliceOpset1Attributes(t *testing.T) {
	x := iota64(2, 4)
	out := onnxOp("Slice", 1, aInts("starts", 0, 1), aInts("ends", -1, 1000), aInts("axes", 0, -1)).mustRun(t, x)
	checkTensor(t, "Slice-1", out[0], []int{1, 3}, floats(1, 2, 3))
	// Without axes, starts and ends apply to the leading axes.
	out = onnxOp("Slice", 1, aInts("starts", 1), aInts("ends", 2)).mustRun(t, x)
	checkTensor(t, "Slice-1 default axes", out[0], []int{1, 4}, floats(4, 5, 6, 7))
}

func TestSliceInt32Inputs(t *testing.T) {
	x := iota64(3, 4)
	starts := tensor.From([]int{2}, []int32{1, -1})
	ends := tensor.From([]int{2}, []int32{3, 0})
	axes := tensor.From([]int{2}, []int32{-2, 1})
	steps := tensor.From([]int{2}, []int32{1, -2})
	out := onnxOp("Slice", 13).mustRun(t, x, starts, ends, axes, steps)
	checkTensor(t, "Slice", out[0], []int{2, 2}, floats(7, 5, 11, 9))
}
