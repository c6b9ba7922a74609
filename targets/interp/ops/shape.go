package ops

import (
	"fmt"

	"github.com/potgo/pot/targets/interp/tensor"
)

// Shape, Size, Reshape, Flatten, Squeeze and Unsqueeze. The reshaping
// operators copy their input: outputs never alias inputs in this runtime.

func init() {
	register(DomainONNX, "Shape", 1, newShape)
	register(DomainONNX, "Shape", 15, newShape)
	register(DomainONNX, "Size", 1, newSize)
	register(DomainONNX, "Reshape", 1, newReshape)
	register(DomainONNX, "Reshape", 5, newReshape)
	register(DomainONNX, "Reshape", 14, newReshape)
	register(DomainONNX, "Flatten", 1, newFlatten)
	register(DomainONNX, "Squeeze", 1, newSqueeze)
	register(DomainONNX, "Squeeze", 13, newSqueeze)
	register(DomainONNX, "Unsqueeze", 1, newUnsqueeze)
	register(DomainONNX, "Unsqueeze", 13, newUnsqueeze)
}

func newShape(n *Node) (Kernel, error) {
	start, end := int64(0), int64(1<<62)
	if n.Opset >= 15 {
		start = n.Int("start", 0)
		end = n.Int("end", end)
	}
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		r := int64(in[0].Rank())
		lo, hi := clampIndex(start, r), clampIndex(end, r)
		hi = max(hi, lo)
		out[0].Reset(tensor.Int64, []int{int(hi - lo)})
		d := out[0].I64()
		for i := range d {
			d[i] = int64(in[0].Shape[int(lo)+i])
		}
		return nil
	}), nil
}

// clampIndex maps a possibly negative index (counting from n) into
// [0, n], as Shape's start and end.
func clampIndex(i, n int64) int64 {
	if i < 0 {
		i += n
	}
	return min(max(i, 0), n)
}

func newSize(n *Node) (Kernel, error) {
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		out[0].Reset(tensor.Int64, []int{})
		out[0].I64()[0] = int64(in[0].Len())
		return nil
	}), nil
}

func newReshape(n *Node) (Kernel, error) {
	allowZero := n.Opset >= 14 && n.Int("allowzero", 0) != 0
	if n.Opset < 5 {
		if !n.Has("shape") {
			return nil, fmt.Errorf("attribute shape is missing")
		}
		shape := n.Ints("shape", nil)
		return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
			s, err := reshapeDims(in[0].Shape, shape, false)
			if err != nil {
				return err
			}
			return copyAll(out[0], in[0], s)
		}), nil
	}
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		shape, err := inputInts(in[1], "shape")
		if err != nil {
			return err
		}
		s, err := reshapeDims(in[0].Shape, shape, allowZero)
		if err != nil {
			return err
		}
		return copyAll(out[0], in[0], s)
	}), nil
}

// reshapeDims resolves Reshape's target shape: 0 copies the input
// dimension (unless allowZero), -1 is inferred from the element count.
func reshapeDims(in []int, shape []int64, allowZero bool) ([]int, error) {
	out := make([]int, len(shape))
	infer := -1
	known := 1
	total := tensor.NumElements(in)
	for i, d := range shape {
		switch {
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has more than one -1", shape)
			}
			infer = i
			continue
		case d == 0 && !allowZero:
			if i >= len(in) {
				return nil, fmt.Errorf("shape %v copies dimension %d of an input of rank %d", shape, i, len(in))
			}
			out[i] = in[i]
		case d < 0:
			return nil, fmt.Errorf("shape %v has a negative dimension", shape)
		default:
			out[i] = int(d)
		}
		known *= out[i]
	}
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v to %v", in, shape)
		}
		out[infer] = total / known
	} else if known != total {
		return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v", in, total, shape)
	}
	return out, nil
}

func newFlatten(n *Node) (Kernel, error) {
	axis := n.Int("axis", 1)
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		r := in[0].Rank()
		a := int(axis)
		if a < 0 {
			a += r
		}
		if a < 0 || a > r {
			return fmt.Errorf("axis %d out of range for rank %d", axis, r)
		}
		return copyAll(out[0], in[0], []int{tensor.NumElements(in[0].Shape[:a]), tensor.NumElements(in[0].Shape[a:])})
	}), nil
}

// axesSource reads the axes of Squeeze and Unsqueeze: an attribute before
// opset 13, an optional input from it.
func axesSource(n *Node, inputIndex int) func(in []*tensor.Tensor) ([]int64, bool, error) {
	if n.Opset < 13 {
		has := n.Has("axes")
		axes := n.Ints("axes", nil)
		return func([]*tensor.Tensor) ([]int64, bool, error) { return axes, has, nil }
	}
	return func(in []*tensor.Tensor) ([]int64, bool, error) {
		if len(in) <= inputIndex || in[inputIndex] == nil {
			return nil, false, nil
		}
		v, err := inputInts(in[inputIndex], "axes")
		return v, true, err
	}
}

func newSqueeze(n *Node) (Kernel, error) {
	axesOf := axesSource(n, 1)
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		x := in[0]
		axes, has, err := axesOf(in)
		if err != nil {
			return err
		}
		drop := make([]bool, x.Rank())
		if has && len(axes) > 0 {
			ax, err := normalizeAxes(axes, x.Rank())
			if err != nil {
				return err
			}
			for _, a := range ax {
				if x.Shape[a] != 1 {
					return fmt.Errorf("cannot squeeze axis %d of size %d", a, x.Shape[a])
				}
				drop[a] = true
			}
		} else {
			for i, d := range x.Shape {
				drop[i] = d == 1
			}
		}
		shape := make([]int, 0, x.Rank())
		for i, d := range x.Shape {
			if !drop[i] {
				shape = append(shape, d)
			}
		}
		return copyAll(out[0], x, shape)
	}), nil
}

func newUnsqueeze(n *Node) (Kernel, error) {
	axesOf := axesSource(n, 1)
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		x := in[0]
		axes, has, err := axesOf(in)
		if err != nil {
			return err
		}
		if !has {
			return fmt.Errorf("axes are missing")
		}
		r := x.Rank() + len(axes)
		ax, err := normalizeAxes(axes, r)
		if err != nil {
			return err
		}
		ones := make([]bool, r)
		for _, a := range ax {
			ones[a] = true
		}
		shape := make([]int, r)
		j := 0
		for i := range shape {
			if ones[i] {
				shape[i] = 1
				continue
			}
			shape[i] = x.Shape[j]
			j++
		}
		return copyAll(out[0], x, shape)
	}), nil
}
