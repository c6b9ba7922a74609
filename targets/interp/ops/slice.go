package ops

import (
	"fmt"

	"github.com/potgo/pot/targets/interp/tensor"
)

// Slice: attributes before opset 10, inputs (with steps) from it.

func init() {
	register(DomainONNX, "Slice", 1, newSlice)
	register(DomainONNX, "Slice", 10, newSlice)
}

func newSlice(n *Node) (Kernel, error) {
	if n.Opset < 10 {
		starts, ends := n.Ints("starts", nil), n.Ints("ends", nil)
		axes := n.Ints("axes", nil)
		return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
			return slice(ctx, out[0], in[0], starts, ends, axes, nil)
		}), nil
	}
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		var vals [4][]int64
		for i, name := range []string{"starts", "ends", "axes", "steps"} {
			if i+1 < len(in) {
				v, err := inputInts(in[i+1], name)
				if err != nil {
					return err
				}
				vals[i] = v
			}
		}
		return slice(ctx, out[0], in[0], vals[0], vals[1], vals[2], vals[3])
	}), nil
}

// sliceRange resolves one axis of Slice: the first index, the number of
// elements and the step, with ONNX's clamping of start and end.
func sliceRange(start, end, step int64, dim int) (first, count int, err error) {
	if step == 0 {
		return 0, 0, fmt.Errorf("step is 0")
	}
	d := int64(dim)
	if start < 0 {
		start += d
	}
	if end < 0 {
		end += d
	}
	if step > 0 {
		start = min(max(start, 0), d)
		end = min(max(end, 0), d)
		if end <= start {
			return 0, 0, nil
		}
		return int(start), int((end - start + step - 1) / step), nil
	}
	start = min(max(start, 0), d-1)
	end = min(max(end, -1), d-1)
	if end >= start {
		return 0, 0, nil
	}
	return int(start), int((start - end - step - 1) / -step), nil
}

// slice writes x[starts:ends:steps] along axes into dst.
func slice(ctx *Context, dst, x *tensor.Tensor, starts, ends, axes, steps []int64) error {
	r := x.Rank()
	if len(starts) != len(ends) {
		return fmt.Errorf("starts %v and ends %v differ in length", starts, ends)
	}
	if axes == nil {
		axes = make([]int64, len(starts))
		for i := range axes {
			axes[i] = int64(i)
		}
	}
	if len(axes) != len(starts) || (steps != nil && len(steps) != len(starts)) {
		return fmt.Errorf("starts, ends, axes and steps differ in length")
	}
	ax, err := normalizeAxes(axes, r)
	if err != nil {
		return err
	}
	shape := append([]int(nil), x.Shape...)
	inStr := tensor.Strides(x.Shape)
	sStr := append([]int(nil), inStr...)
	sOff := 0
	for i, a := range ax {
		step := int64(1)
		if steps != nil {
			step = steps[i]
		}
		first, count, err := sliceRange(starts[i], ends[i], step, x.Shape[a])
		if err != nil {
			return fmt.Errorf("axis %d: %w", a, err)
		}
		shape[a] = count
		sOff += first * inStr[a]
		sStr[a] = int(step) * inStr[a]
	}
	dst.Reset(x.DType, shape)
	return copyStrided(ctx, dst, x, 0, sOff, shape, tensor.Strides(shape), sStr)
}
