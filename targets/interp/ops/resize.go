package ops

import (
	"fmt"
	"math"

	"github.com/potgo/pot/targets/interp/tensor"
)

// Resize (opsets 10, 11, 13, 18, 19) and Upsample (1, 7, 9). Nearest
// mode moves elements of any type; linear and cubic interpolate float
// tensors, one axis at a time.

func init() {
	register(DomainONNX, "Resize", 10, newResize)
	register(DomainONNX, "Resize", 11, newResize)
	register(DomainONNX, "Resize", 13, newResize)
	register(DomainONNX, "Resize", 18, newResize)
	register(DomainONNX, "Resize", 19, newResize)
	register(DomainONNX, "Upsample", 1, newUpsample)
	register(DomainONNX, "Upsample", 7, newUpsample)
	register(DomainONNX, "Upsample", 9, newUpsample)
}

// resizer is a configured Resize.
type resizer struct {
	opt         resizeOptions
	axes        []int64 // nil: all axes
	keepAspect  string  // stretch, not_larger, not_smaller
	legacyScale bool    // Resize-10 and Upsample: output = floor(in*scale)
}

func parseInterpMode(n *Node, m string) (interpMode, error) {
	switch m {
	case "nearest":
		return interpNearest, nil
	case "linear", "bilinear":
		return interpLinear, nil
	case "cubic":
		if n.OpType() == "Resize" && n.Opset >= 11 {
			return interpCubic, nil
		}
	}
	return 0, Unsupported(n, "mode %q is", m)
}

func newResize(n *Node) (Kernel, error) {
	r := &resizer{opt: resizeOptions{cubicA: -0.75}, keepAspect: "stretch"}
	var err error
	if r.opt.mode, err = parseInterpMode(n, n.String("mode", "nearest")); err != nil {
		return nil, err
	}
	if n.Opset < 11 {
		r.opt.coord, r.opt.nearest, r.legacyScale = coordAsymmetric, nearestSimple, true
		return r.scalesInputKernel(), nil
	}
	cm := n.String("coordinate_transformation_mode", "half_pixel")
	c, ok := coordModes[cm]
	if !ok || (c == coordHalfPixelSymmetric && n.Opset < 19) {
		return nil, Unsupported(n, "coordinate_transformation_mode %q at opset %d is", cm, n.Opset)
	}
	r.opt.coord = c
	nm := n.String("nearest_mode", "round_prefer_floor")
	if r.opt.nearest, ok = nearestModes[nm]; !ok {
		return nil, Unsupported(n, "nearest_mode %q is", nm)
	}
	r.opt.cubicA = float64(n.Float("cubic_coeff_a", -0.75))
	r.opt.excludeOutside = n.Int("exclude_outside", 0) != 0
	r.opt.extrapolationVal = float64(n.Float("extrapolation_value", 0))
	if n.Opset >= 18 {
		r.opt.antialias = n.Int("antialias", 0) != 0 && r.opt.mode != interpNearest
		if n.Has("axes") {
			r.axes = n.Ints("axes", nil)
		}
		r.keepAspect = n.String("keep_aspect_ratio_policy", "stretch")
		switch r.keepAspect {
		case "stretch", "not_larger", "not_smaller":
		default:
			return nil, Unsupported(n, "keep_aspect_ratio_policy %q is", r.keepAspect)
		}
	}
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		var roi, scales []float64
		var sizes []int64
		var err error
		if len(in) > 1 && in[1] != nil && in[1].Len() > 0 {
			if roi, err = in[1].Float64s(); err != nil {
				return fmt.Errorf("roi: %w", err)
			}
		}
		if len(in) > 2 && in[2] != nil && in[2].Len() > 0 {
			if scales, err = in[2].Float64s(); err != nil {
				return fmt.Errorf("scales: %w", err)
			}
		}
		if len(in) > 3 && in[3] != nil && in[3].Len() > 0 {
			if sizes, err = inputInts(in[3], "sizes"); err != nil {
				return err
			}
		}
		if (scales == nil) == (sizes == nil) {
			return fmt.Errorf("exactly one of scales and sizes must be given")
		}
		return r.run(ctx, out[0], in[0], roi, scales, sizes)
	}), nil
}

func newUpsample(n *Node) (Kernel, error) {
	r := &resizer{keepAspect: "stretch", legacyScale: true}
	r.opt.coord, r.opt.nearest = coordAsymmetric, nearestSimple
	var err error
	if r.opt.mode, err = parseInterpMode(n, n.String("mode", "nearest")); err != nil {
		return nil, err
	}
	switch {
	case n.Opset < 7:
		h, w := float64(n.Float("height_scale", 0)), float64(n.Float("width_scale", 0))
		return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
			if in[0].Rank() != 4 {
				return fmt.Errorf("input %v must be 4-D", in[0])
			}
			return r.run(ctx, out[0], in[0], nil, []float64{1, 1, h, w}, nil)
		}), nil
	case n.Opset < 9:
		f := n.Floats("scales", nil)
		scales := make([]float64, len(f))
		for i, v := range f {
			scales[i] = float64(v)
		}
		return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
			return r.run(ctx, out[0], in[0], nil, scales, nil)
		}), nil
	}
	return r.scalesInputKernel(), nil
}

// scalesInputKernel runs r with the scales of input 1 (Resize-10 and
// Upsample-9).
func (r *resizer) scalesInputKernel() Kernel {
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		scales, err := in[1].Float64s()
		if err != nil {
			return fmt.Errorf("scales: %w", err)
		}
		return r.run(ctx, out[0], in[0], nil, scales, nil)
	})
}

// plan resolves the per-axis sizes, scales and regions of interest.
func (r *resizer) plan(x *tensor.Tensor, roi, scales []float64, sizes []int64) ([]axisResize, error) {
	rank := x.Rank()
	axes := make([]int, rank)
	for i := range axes {
		axes[i] = i
	}
	if r.axes != nil {
		var err error
		if axes, err = normalizeAxes(r.axes, rank); err != nil {
			return nil, err
		}
	}
	plan := make([]axisResize, rank)
	for k, d := range x.Shape {
		plan[k] = axisResize{in: d, out: d, scale: 1, roiStart: 0, roiEnd: 1}
	}
	if roi != nil {
		if len(roi) != 2*len(axes) {
			return nil, fmt.Errorf("roi has %d values for %d axes", len(roi), len(axes))
		}
		for i, a := range axes {
			plan[a].roiStart, plan[a].roiEnd = roi[i], roi[len(axes)+i]
		}
	}
	if scales != nil {
		if len(scales) != len(axes) {
			return nil, fmt.Errorf("scales has %d values for %d axes", len(scales), len(axes))
		}
		for i, a := range axes {
			s := scales[i]
			if !(s > 0) || math.IsInf(s, 0) {
				return nil, fmt.Errorf("scale %v must be positive", s)
			}
			p := &plan[a]
			p.scale = s
			length := float64(p.in) * s
			if r.opt.coord == coordTFCropAndResize && !r.legacyScale {
				length *= p.roiEnd - p.roiStart
			}
			p.out = int(math.Floor(length))
		}
		return plan, nil
	}
	if len(sizes) != len(axes) {
		return nil, fmt.Errorf("sizes has %d values for %d axes", len(sizes), len(axes))
	}
	for i, a := range axes {
		if sizes[i] < 0 {
			return nil, fmt.Errorf("sizes %v has a negative entry", sizes)
		}
		if plan[a].in == 0 {
			return nil, fmt.Errorf("cannot resize the empty axis %d", a)
		}
		plan[a].out = int(sizes[i])
		plan[a].scale = float64(sizes[i]) / float64(plan[a].in)
	}
	if r.keepAspect != "stretch" {
		s := plan[axes[0]].scale
		for _, a := range axes[1:] {
			if r.keepAspect == "not_larger" {
				s = min(s, plan[a].scale)
			} else {
				s = max(s, plan[a].scale)
			}
		}
		for _, a := range axes {
			plan[a].scale = s
			plan[a].out = int(s*float64(plan[a].in) + 0.5)
		}
	}
	return plan, nil
}

func (r *resizer) run(ctx *Context, dst, x *tensor.Tensor, roi, scales []float64, sizes []int64) error {
	plan, err := r.plan(x, roi, scales, sizes)
	if err != nil {
		return err
	}
	shape := make([]int, len(plan))
	for k, p := range plan {
		shape[k] = p.out
		if p.out > 0 && p.in == 0 {
			return fmt.Errorf("cannot resize the empty axis %d", k)
		}
	}
	if tensor.NumElements(shape) == 0 {
		dst.Reset(x.DType, shape)
		return nil
	}
	taps := make([]axisTaps, len(plan))
	extra := false
	for k, p := range plan {
		taps[k] = p.taps(&r.opt)
		for _, e := range taps[k].extra {
			extra = extra || e
		}
	}
	if r.opt.mode == interpNearest && !extra {
		// Pure data movement: one input index per output index and axis.
		str := tensor.Strides(x.Shape)
		offs := make([][]int, len(plan))
		for k := range plan {
			offs[k] = make([]int, plan[k].out)
			for o := range offs[k] {
				offs[k][o] = taps[k].idx[o] * str[k]
			}
		}
		dst.Reset(x.DType, shape)
		return gatherAxes(ctx, dst, x, offs)
	}
	switch d := x.Data.(type) {
	case []float32:
		dst.Reset(x.DType, shape)
		interpolate(ctx, dst.F32(), d, x.Shape, plan, taps, float32(r.opt.extrapolationVal))
		return nil
	case []float64:
		dst.Reset(x.DType, shape)
		interpolate(ctx, dst.Data.([]float64), d, x.Shape, plan, taps, r.opt.extrapolationVal)
		return nil
	case []tensor.Float16Bits, []tensor.BFloat16Bits:
		var s halfScratch
		defer s.free()
		f, _ := s.values(x)
		y := s.zeros(tensor.NumElements(shape))
		interpolate(ctx, y, f, x.Shape, plan, taps, float32(r.opt.extrapolationVal))
		storeHalf(dst, x.DType, shape, y)
		return nil
	}
	return &UnsupportedError{OpType: "Resize", Reason: fmt.Sprintf("interpolation of %v elements is", x.DType)}
}

// interpolate resizes src (of shape in) into dst, one axis at a time in
// a temporary buffer, skipping axes whose taps copy them unchanged.
func interpolate[T float32 | float64](ctx *Context, dst, src []T, in []int, plan []axisResize, taps []axisTaps, extra T) {
	shape := append([]int(nil), in...)
	var todo []int
	for k := range plan {
		if !taps[k].identity() {
			todo = append(todo, k)
		}
	}
	cur := src
	if len(todo) == 0 {
		copy(dst, src)
		return
	}
	for j, k := range todo {
		next := shape[k]
		shape[k] = plan[k].out
		var out []T
		if j == len(todo)-1 {
			out = dst
		} else {
			out = make([]T, tensor.NumElements(shape))
		}
		outer := tensor.NumElements(shape[:k])
		inner := tensor.NumElements(shape[k+1:])
		resizeAxis(ctx, out, cur, outer, next, plan[k].out, inner, &taps[k], extra)
		cur = out
	}
}

// resizeAxis resizes the middle axis of src viewed as (outer, in, inner)
// to length out.
func resizeAxis[T float32 | float64](ctx *Context, dst, src []T, outer, in, out, inner int, t *axisTaps, extra T) {
	if inner == 1 {
		resizeLast(ctx, dst, src, outer, in, out, t, extra)
		return
	}
	ctx.Parallel(outer*out, max(1, parallelMin/max(inner, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, o := r/out, r%out
			row := dst[r*inner : (r+1)*inner]
			if t.extra[o] {
				for i := range row {
					row[i] = extra
				}
				continue
			}
			clear(row)
			for k := t.start[o]; k < t.start[o+1]; k++ {
				w := T(t.w[k])
				s := src[(b*in+t.idx[k])*inner : (b*in+t.idx[k]+1)*inner]
				for i, v := range s {
					row[i] += w * v
				}
			}
		}
	})
}

// resizeLast is resizeAxis of the last axis (inner 1): each output value
// sums its taps in the order, and with the operations, of resizeAxis's
// rows of one, without a row's slicing per value (the width pass of an
// image resize spent most of its time there).
func resizeLast[T float32 | float64](ctx *Context, dst, src []T, outer, in, out int, t *axisTaps, extra T) {
	ctx.Parallel(outer*out, parallelMin, func(lo, hi int) {
		b, o := lo/out, lo%out
		for r := lo; r < hi; r++ {
			if t.extra[o] {
				dst[r] = extra
			} else {
				row := src[b*in : (b+1)*in]
				var acc T
				for k := t.start[o]; k < t.start[o+1]; k++ {
					w := T(t.w[k])
					acc += w * row[t.idx[k]]
				}
				dst[r] = acc
			}
			if o++; o == out {
				b, o = b+1, 0
			}
		}
	})
}
