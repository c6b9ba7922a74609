package ops

import (
	"math"
	"math/rand/v2"
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

// TestResizeLastMatchesRows checks the last-axis path of resizeAxis bit
// for bit against its row loop run on rows of one value: random taps (one
// to four per output, negative weights, zero products of either sign,
// extrapolated outputs), on one thread and split over three at
// offsets inside rows.
func TestResizeLastMatchesRows(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const outer, in, out = 7001, 13, 29 // 203029 outputs: three pieces of parallelMin
	var taps axisTaps
	taps.start = []int{0}
	for o := 0; o < out; o++ {
		taps.extra = append(taps.extra, r.IntN(8) == 0)
		for range 1 + r.IntN(4) {
			taps.idx = append(taps.idx, r.IntN(in))
			taps.w = append(taps.w, r.NormFloat64())
		}
		taps.start = append(taps.start, len(taps.idx))
	}
	src := make([]float32, outer*in)
	for i := range src {
		src[i] = float32(r.NormFloat64())
		if i%5 == 0 {
			src[i] = float32(math.Copysign(0, r.NormFloat64()))
		}
	}
	want := make([]float32, outer*out)
	for row := range want {
		b, o := row/out, row%out
		if taps.extra[o] {
			want[row] = -7
			continue
		}
		for k := taps.start[o]; k < taps.start[o+1]; k++ {
			w := float32(taps.w[k])
			want[row] += w * src[b*in+taps.idx[k]]
		}
	}
	for _, threads := range []int{1, 3} {
		ctx := NewContext(threads)
		got := make([]float32, len(want))
		resizeAxis(ctx, got, src, outer, in, out, 1, &taps, -7)
		ctx.Close()
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%d threads: output %d = %v, want %v", threads, i, got[i], want[i])
			}
		}
	}
}
