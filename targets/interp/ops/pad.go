package ops

import (
	"fmt"

	"github.com/potgo/pot/targets/interp/tensor"
)

// Pad: attributes before opset 11, inputs from it; axes from 18; wrap
// mode from 19. Negative pads crop.

func init() {
	register(DomainONNX, "Pad", 1, newPad)
	register(DomainONNX, "Pad", 2, newPad)
	register(DomainONNX, "Pad", 11, newPad)
	register(DomainONNX, "Pad", 18, newPad)
	register(DomainONNX, "Pad", 19, newPad)
}

type padMode int

const (
	padConstant padMode = iota
	padReflect
	padEdge
	padWrap
)

func newPad(n *Node) (Kernel, error) {
	var mode padMode
	switch m := n.String("mode", "constant"); {
	case m == "constant":
		mode = padConstant
	case m == "reflect":
		mode = padReflect
	case m == "edge":
		mode = padEdge
	case m == "wrap" && n.Opset >= 19:
		mode = padWrap
	default:
		return nil, Unsupported(n, "mode %q at opset %d is", m, n.Opset)
	}
	if n.Opset < 11 {
		name := "pads"
		if n.Opset < 2 {
			name = "paddings"
		}
		if !n.Has(name) {
			return nil, fmt.Errorf("attribute %s is missing", name)
		}
		pads := n.Ints(name, nil)
		value := float64(n.Float("value", 0))
		return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
			var fill *tensor.Tensor
			if value != 0 {
				v, err := numberTensor(in[0].DType, []int{}, []float64{value})
				if err != nil {
					return err
				}
				fill = v
			}
			return pad(ctx, out[0], in[0], pads, nil, mode, fill)
		}), nil
	}
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		pads, err := inputInts(in[1], "pads")
		if err != nil {
			return err
		}
		var fill *tensor.Tensor
		if len(in) > 2 && in[2] != nil {
			fill = in[2]
			if fill.DType != in[0].DType || fill.Len() != 1 {
				return fmt.Errorf("constant_value %v for data %v", fill, in[0])
			}
		}
		var axes []int64
		if n.Opset >= 18 && len(in) > 3 && in[3] != nil {
			if axes, err = inputInts(in[3], "axes"); err != nil {
				return err
			}
		}
		return pad(ctx, out[0], in[0], pads, axes, mode, fill)
	}), nil
}

// pad writes x padded by pads (begins then ends, for axes or every axis)
// into dst; fill (nil for zero) is the constant of constant mode.
func pad(ctx *Context, dst, x *tensor.Tensor, pads, axes []int64, mode padMode, fill *tensor.Tensor) error {
	r := x.Rank()
	ax := make([]int, r)
	for i := range ax {
		ax[i] = i
	}
	if axes != nil {
		var err error
		if ax, err = normalizeAxes(axes, r); err != nil {
			return err
		}
	}
	if len(pads) != 2*len(ax) {
		return fmt.Errorf("pads %v: want %d entries", pads, 2*len(ax))
	}
	begin := make([]int, r)
	end := make([]int, r)
	for i, a := range ax {
		begin[a], end[a] = int(pads[i]), int(pads[len(ax)+i])
	}
	shape := make([]int, r)
	for k := range r {
		shape[k] = x.Shape[k] + begin[k] + end[k]
		if shape[k] < 0 {
			return fmt.Errorf("pads %v remove more than dimension %d of %v", pads, k, x.Shape)
		}
		if mode != padConstant && x.Shape[k] == 0 && shape[k] > 0 {
			return fmt.Errorf("cannot pad the empty axis %d in reflect, edge or wrap mode", k)
		}
	}
	dst.Reset(x.DType, shape)
	if mode == padConstant {
		if fill != nil {
			fillTensor(dst, fill, 0)
		} else {
			dst.Zero()
		}
		// Copy the part of x that survives cropping.
		inStr, outStr := tensor.Strides(x.Shape), tensor.Strides(shape)
		view := make([]int, r)
		sOff, dOff := 0, 0
		for k := range r {
			lo := max(0, -begin[k])
			hi := x.Shape[k] - max(0, -end[k])
			if hi <= lo {
				return nil
			}
			view[k] = hi - lo
			sOff += lo * inStr[k]
			dOff += max(0, begin[k]) * outStr[k]
		}
		return copyStrided(ctx, dst, x, dOff, sOff, view, outStr, inStr)
	}
	inStr := tensor.Strides(x.Shape)
	offs := make([][]int, r)
	for k := range r {
		d := x.Shape[k]
		offs[k] = make([]int, shape[k])
		for o := range offs[k] {
			offs[k][o] = padSource(o-begin[k], d, mode) * inStr[k]
		}
	}
	return gatherAxes(ctx, dst, x, offs)
}

// padSource maps a coordinate c, possibly outside [0, d), to the input
// coordinate it copies in the given mode.
func padSource(c, d int, mode padMode) int {
	if c >= 0 && c < d {
		return c
	}
	switch mode {
	case padEdge:
		return min(max(c, 0), d-1)
	case padWrap:
		return ((c % d) + d) % d
	default: // reflect
		if d == 1 {
			return 0
		}
		p := 2 * (d - 1)
		c = ((c % p) + p) % p
		if c >= d {
			c = p - c
		}
		return c
	}
}
