package ops

import (
	"math"
	"slices"
	"testing"

	"github.com/potgo/pot/targets/interp/tensor"
)

func TestResizeCoordinateModes(t *testing.T) {
	up := axisResize{in: 4, out: 8, scale: 2, roiEnd: 1}
	down := axisResize{in: 4, out: 2, scale: 0.6, roiEnd: 1} // resized length 2.4
	crop := axisResize{in: 4, out: 3, scale: 0.75, roiStart: 0.4, roiEnd: 0.6}
	cases := []struct {
		name string
		a    axisResize
		mode coordMode
		o    int
		want float64
		ok   bool
	}{
		{"half_pixel", up, coordHalfPixel, 0, -0.25, true},
		{"half_pixel", up, coordHalfPixel, 3, 1.25, true},
		{"asymmetric", up, coordAsymmetric, 3, 1.5, true},
		{"align_corners", up, coordAlignCorners, 3, 3.0 * 3 / 7, true},
		// align_corners divides by the resized length the scale implies.
		{"align_corners downscale", down, coordAlignCorners, 1, 3 / 1.4, true},
		{"pytorch_half_pixel", up, coordPytorchHalfPixel, 3, 1.25, true},
		{"pytorch_half_pixel single output", axisResize{in: 4, out: 1, scale: 0.25}, coordPytorchHalfPixel, 0, 0, true},
		{"tf_half_pixel_for_nn", up, coordTFHalfPixelForNN, 0, 0.25, true},
		{"half_pixel_symmetric", down, coordHalfPixelSymmetric, 0, 2*(1-2/2.4) + 0.5/0.6 - 0.5, true},
		{"tf_crop_and_resize", crop, coordTFCropAndResize, 1, 1*0.2*3/2 + 0.4*3, true},
		{"tf_crop_and_resize outside", axisResize{in: 4, out: 3, scale: 0.75, roiStart: -0.5, roiEnd: 0.5}, coordTFCropAndResize, 0, -1.5, false},
	}
	for _, c := range cases {
		got, ok := c.a.original(c.o, c.mode)
		if math.Abs(got-c.want) > 1e-12 || ok != c.ok {
			t.Errorf("%s: original(%d) = %v, %v; want %v, %v", c.name, c.o, got, ok, c.want, c.ok)
		}
	}
}

func TestResizeNearestModes(t *testing.T) {
	up := axisResize{in: 4, scale: 2}
	down := axisResize{in: 4, scale: 0.5}
	cases := []struct {
		a    axisResize
		x    float64
		mode nearestMode
		want int
	}{
		{up, 1.5, nearestRoundPreferFloor, 1},
		{up, 1.5, nearestRoundPreferCeil, 2},
		{up, 1.2, nearestRoundPreferCeil, 1},
		{up, 1.7, nearestRoundPreferFloor, 2},
		{up, 1.2, nearestCeil, 2},
		{up, 1.8, nearestFloor, 1},
		{up, 2, nearestCeil, 2},
		{up, -0.25, nearestRoundPreferFloor, 0},
		{up, 3.75, nearestCeil, 3},
		{up, 1.5, nearestSimple, 1},
		{down, 1.5, nearestSimple, 2},
	}
	for _, c := range cases {
		if got := c.a.nearestIndex(c.x, c.mode); got != c.want {
			t.Errorf("nearestIndex(%v, mode %d, scale %v) = %d, want %d", c.x, c.mode, c.a.scale, got, c.want)
		}
	}
}

func TestResizeKernels(t *testing.T) {
	row := f32s([]int{1, 4}, 1, 2, 3, 4)
	cases := []struct {
		name  string
		call  opCall
		in    []*tensor.Tensor
		shape []int
		want  []float64
	}{
		// Triangle filter widened to 4 taps at scale 0.5: weights
		// 1/8, 3/8, 3/8, 1/8 around x = 0.5 and 2.5, edges repeated.
		{"linear antialias", onnxOp("Resize", 18, aString("mode", "linear"), aInt("antialias", 1)),
			[]*tensor.Tensor{row, nil, f32s([]int{2}, 1, 0.5)}, []int{1, 2}, floats(1.625, 3.375)},
		{"linear asymmetric upsample", onnxOp("Resize", 13, aString("mode", "linear"), aString("coordinate_transformation_mode", "asymmetric")),
			[]*tensor.Tensor{row, nil, f32s([]int{2}, 1, 2)}, []int{1, 8}, floats(1, 1.5, 2, 2.5, 3, 3.5, 4, 4)},
		{"nearest sizes with axes", onnxOp("Resize", 18, aInts("axes", -1)),
			[]*tensor.Tensor{row, nil, nil, i64s([]int{1}, 2)}, []int{1, 2}, floats(1, 3)}, // x = 0.5, 2.5 round down
		// sizes (2, 6) of (1, 4) are scales 2 and 1.5.
		{"nearest not_larger", onnxOp("Resize", 18, aString("keep_aspect_ratio_policy", "not_larger")),
			[]*tensor.Tensor{row, nil, nil, i64s([]int{2}, 2, 6)}, []int{2, 6}, nil},
		{"nearest not_smaller", onnxOp("Resize", 18, aString("keep_aspect_ratio_policy", "not_smaller")),
			[]*tensor.Tensor{row, nil, nil, i64s([]int{2}, 2, 6)}, []int{2, 8}, nil},
		{"Resize-10 nearest downsample", onnxOp("Resize", 10),
			[]*tensor.Tensor{f32s([]int{2, 4}, 1, 2, 3, 4, 5, 6, 7, 8), f32s([]int{2}, 0.6, 0.6)}, []int{1, 2}, floats(1, 3)},
		{"Upsample-7 nearest", onnxOp("Upsample", 7, aFloats("scales", 1, 3)),
			[]*tensor.Tensor{f32s([]int{1, 2}, 1, 2)}, []int{1, 6}, floats(1, 1, 1, 2, 2, 2)},
		{"Upsample-9 linear", onnxOp("Upsample", 9, aString("mode", "linear")),
			[]*tensor.Tensor{f32s([]int{1, 2}, 1, 3), f32s([]int{2}, 1, 2)}, []int{1, 4}, floats(1, 2, 3, 3)},
	}
	for _, c := range cases {
		out, err := c.call.run(c.in...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.want == nil {
			if !slices.Equal(out[0].Shape, c.shape) {
				t.Fatalf("%s: shape %v, want %v", c.name, out[0].Shape, c.shape)
			}
			continue
		}
		checkTensor(t, c.name, out[0], c.shape, c.want)
	}
}

func TestResizeNearestIntegers(t *testing.T) {
	// Nearest mode moves elements of any type.
	x := tensor.From([]int{1, 2}, []string{"a", "b"})
	out := onnxOp("Resize", 13).mustRun(t, x, nil, f32s([]int{2}, 2, 2))
	checkTensor(t, "strings", out[0], []int{2, 4}, []string{"a", "a", "b", "b", "a", "a", "b", "b"})
	if _, err := onnxOp("Resize", 13, aString("mode", "linear")).run(iota64(1, 2), nil, f32s([]int{2}, 1, 2)); !IsUnsupported(err) {
		t.Errorf("linear on int64: %v, want unsupported", err)
	}
}
