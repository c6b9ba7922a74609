package ops

import (
	"fmt"

	"github.com/potgo/pot/targets/interp/tensor"
)

// Concat and Split.

func init() {
	register(DomainONNX, "Concat", 1, newConcat)
	register(DomainONNX, "Concat", 4, newConcat)
	register(DomainONNX, "Concat", 11, newConcat)
	register(DomainONNX, "Split", 1, newSplit)
	register(DomainONNX, "Split", 2, newSplit)
	register(DomainONNX, "Split", 11, newSplit)
	register(DomainONNX, "Split", 13, newSplit)
	register(DomainONNX, "Split", 18, newSplit)
}

func newConcat(n *Node) (Kernel, error) {
	if n.Opset >= 4 && !n.Has("axis") {
		return nil, fmt.Errorf("attribute axis is missing")
	}
	axis := n.Int("axis", 1)
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		var first *tensor.Tensor
		for _, x := range in {
			if x != nil {
				first = x
				break
			}
		}
		if first == nil {
			return fmt.Errorf("no inputs")
		}
		r := first.Rank()
		a, err := NormalizeAxis(axis, r)
		if err != nil {
			return err
		}
		shape := append([]int(nil), first.Shape...)
		shape[a] = 0
		for i, x := range in {
			if x == nil {
				continue
			}
			if x.DType != first.DType || x.Rank() != r {
				return fmt.Errorf("input %d is %v, input 0 is %v", i, x, first)
			}
			for k, d := range x.Shape {
				if k != a && d != first.Shape[k] {
					return fmt.Errorf("input %d has shape %v, input 0 %v", i, x.Shape, first.Shape)
				}
			}
			shape[a] += x.Shape[a]
		}
		dst := out[0]
		dst.Reset(first.DType, shape)
		outer := tensor.NumElements(shape[:a])
		inner := tensor.NumElements(shape[a+1:])
		off := 0
		for _, x := range in {
			if x == nil {
				continue
			}
			w := x.Shape[a] * inner
			if err := copyStrided(ctx, dst, x, off, 0, []int{outer, w}, []int{shape[a] * inner, 1}, []int{w, 1}); err != nil {
				return err
			}
			off += w
		}
		return nil
	}), nil
}

func newSplit(n *Node) (Kernel, error) {
	axis := n.Int("axis", 0)
	nout := n.NumOutputs()
	var attrSplit []int64
	if n.Opset < 13 {
		attrSplit = n.Ints("split", nil)
	}
	numOutputs := int64(0)
	if n.Opset >= 18 {
		numOutputs = n.Int("num_outputs", 0)
		if n.Has("num_outputs") && int(numOutputs) != nout {
			return nil, fmt.Errorf("num_outputs %d, but the node has %d outputs", numOutputs, nout)
		}
	}
	splitInput := n.Opset >= 13 || n.Opset < 2
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		x := in[0]
		a, err := NormalizeAxis(axis, x.Rank())
		if err != nil {
			return err
		}
		dim := x.Shape[a]
		split := attrSplit
		if splitInput && len(in) > 1 && in[1] != nil {
			if split, err = inputInts(in[1], "split"); err != nil {
				return err
			}
		}
		sizes := make([]int, nout)
		switch {
		case len(split) > 0:
			if len(split) != nout {
				return fmt.Errorf("split %v has %d entries for %d outputs", split, len(split), nout)
			}
			sum := 0
			for i, s := range split {
				if s < 0 {
					return fmt.Errorf("split %v has a negative entry", split)
				}
				sizes[i] = int(s)
				sum += int(s)
			}
			if sum != dim {
				return fmt.Errorf("split %v does not add up to dimension %d", split, dim)
			}
		case numOutputs > 0:
			chunk := (dim + nout - 1) / nout
			for i := range sizes {
				sizes[i] = min(chunk, max(dim-i*chunk, 0))
			}
		default:
			if dim%nout != 0 {
				return fmt.Errorf("dimension %d cannot be split into %d equal parts", dim, nout)
			}
			for i := range sizes {
				sizes[i] = dim / nout
			}
		}
		outer := tensor.NumElements(x.Shape[:a])
		inner := tensor.NumElements(x.Shape[a+1:])
		off := 0
		for i, dst := range out {
			w := sizes[i] * inner
			if dst != nil {
				shape := append([]int(nil), x.Shape...)
				shape[a] = sizes[i]
				dst.Reset(x.DType, shape)
				if err := copyStrided(ctx, dst, x, 0, off, []int{outer, w}, []int{w, 1}, []int{dim * inner, 1}); err != nil {
					return err
				}
			}
			off += w
		}
		return nil
	}), nil
}
