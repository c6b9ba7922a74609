package ops

import (
	"fmt"
	"slices"

	"github.com/potgo/pot/targets/interp/tensor"
)

func init() {
	register(DomainONNX, "ArgMax", 1, argFactory("ArgMax", true))
	register(DomainONNX, "ArgMin", 1, argFactory("ArgMin", false))
	register(DomainONNX, "TopK", 1, topKFactory)
	register(DomainONNX, "TopK", 10, topKFactory)
	register(DomainONNX, "TopK", 11, topKFactory)
}

// axisGeom views a tensor as [outer, n, inner] around one axis.
type axisGeom struct{ outer, n, inner int }

func geomAt(shape []int, axis int64) (axisGeom, int, error) {
	ax, err := NormalizeAxis(axis, len(shape))
	if err != nil {
		return axisGeom{}, 0, err
	}
	return axisGeom{
		outer: tensor.NumElements(shape[:ax]),
		n:     shape[ax],
		inner: tensor.NumElements(shape[ax+1:]),
	}, ax, nil
}

func argFactory(op string, isMax bool) Factory {
	return func(n *Node) (Kernel, error) {
		axis := n.Int("axis", 0)
		keep := n.Int("keepdims", 1) != 0
		last := n.Int("select_last_index", 0) != 0
		return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
			if err := needInputs(in, 1); err != nil {
				return err
			}
			x := in[0]
			g, ax, err := geomAt(x.Shape, axis)
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			if g.n == 0 {
				return fmt.Errorf("%s: axis %d is empty", op, ax)
			}
			shape := append([]int(nil), x.Shape...)
			if keep {
				shape[ax] = 1
			} else {
				shape = append(shape[:ax], shape[ax+1:]...)
			}
			out[0].Reset(tensor.Int64, shape)
			dst := out[0].I64()
			switch d := x.Data.(type) {
			case []float32:
				argSelect(dst, d, g, isMax, last)
			case []float64:
				argSelect(dst, d, g, isMax, last)
			case []int8:
				argSelect(dst, d, g, isMax, last)
			case []int16:
				argSelect(dst, d, g, isMax, last)
			case []int32:
				argSelect(dst, d, g, isMax, last)
			case []int64:
				argSelect(dst, d, g, isMax, last)
			case []uint8:
				argSelect(dst, d, g, isMax, last)
			case []uint16:
				argSelect(dst, d, g, isMax, last)
			case []uint32:
				argSelect(dst, d, g, isMax, last)
			case []uint64:
				argSelect(dst, d, g, isMax, last)
			case []tensor.Float16Bits, []tensor.BFloat16Bits:
				v, _ := halfToF32(x)
				argSelect(dst, v, g, isMax, last)
			default:
				return errType(op, x.DType)
			}
			return nil
		}), nil
	}
}

// argSelect writes, for each [outer, inner] position, the index along the
// axis of the greatest (isMax) or least element: the first one, or the
// last one on ties when last is set. A NaN wins over numbers.
func argSelect[T tensor.Number](dst []int64, src []T, g axisGeom, isMax, last bool) {
	for o := 0; o < g.outer; o++ {
		for i := 0; i < g.inner; i++ {
			base := o*g.n*g.inner + i
			best, at := src[base], 0
			for c := 1; c < g.n; c++ {
				v := src[base+c*g.inner]
				if best != best {
					break
				}
				better := v != v
				switch {
				case better:
				case isMax:
					better = v > best || last && v == best
				default:
					better = v < best || last && v == best
				}
				if better {
					best, at = v, c
				}
			}
			dst[o*g.inner+i] = int64(at)
		}
	}
}

func topKFactory(n *Node) (Kernel, error) {
	axis := n.Int("axis", -1)
	largest := n.Opset < 11 || n.Int("largest", 1) != 0
	n.Int("sorted", 1) // unsorted output may be in any order: sorted is one
	kAttr := int64(-1)
	if n.Opset < 10 {
		kAttr = n.Int("k", -1)
		if kAttr < 0 {
			return nil, fmt.Errorf("TopK: attribute k is missing")
		}
	}
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		if err := needInputs(in, 1); err != nil {
			return err
		}
		k := kAttr
		if k < 0 {
			if len(in) < 2 || in[1] == nil {
				return fmt.Errorf("TopK: input K is missing")
			}
			v, err := in[1].Int64s()
			if err != nil || len(v) != 1 {
				return fmt.Errorf("TopK: K must be one integer, is %v", in[1])
			}
			k = v[0]
		}
		x := in[0]
		g, ax, err := geomAt(x.Shape, axis)
		if err != nil {
			return fmt.Errorf("TopK: %w", err)
		}
		if k < 0 || int(k) > g.n {
			return fmt.Errorf("TopK: k %d is outside [0, %d]", k, g.n)
		}
		shape := append([]int(nil), x.Shape...)
		shape[ax] = int(k)
		if len(out) < 2 || out[0] == nil || out[1] == nil {
			return fmt.Errorf("TopK: needs both outputs")
		}
		out[1].Reset(tensor.Int64, shape)
		idx := out[1].I64()
		switch d := x.Data.(type) {
		case []float32:
			return topKTyped(out[0], x.DType, shape, idx, d, g, int(k), largest)
		case []float64:
			return topKTyped(out[0], x.DType, shape, idx, d, g, int(k), largest)
		case []int8:
			return topKTyped(out[0], x.DType, shape, idx, d, g, int(k), largest)
		case []int16:
			return topKTyped(out[0], x.DType, shape, idx, d, g, int(k), largest)
		case []int32:
			return topKTyped(out[0], x.DType, shape, idx, d, g, int(k), largest)
		case []int64:
			return topKTyped(out[0], x.DType, shape, idx, d, g, int(k), largest)
		case []uint8:
			return topKTyped(out[0], x.DType, shape, idx, d, g, int(k), largest)
		case []uint16:
			return topKTyped(out[0], x.DType, shape, idx, d, g, int(k), largest)
		case []uint32:
			return topKTyped(out[0], x.DType, shape, idx, d, g, int(k), largest)
		case []uint64:
			return topKTyped(out[0], x.DType, shape, idx, d, g, int(k), largest)
		case []tensor.Float16Bits, []tensor.BFloat16Bits:
			v, _ := halfToF32(x)
			tmp := &tensor.Tensor{}
			if err := topKTyped(tmp, tensor.Float, shape, idx, v, g, int(k), largest); err != nil {
				return err
			}
			storeHalf(out[0], x.DType, shape, tmp.F32())
			return nil
		}
		return errType("TopK", x.DType)
	}), nil
}

// topKTyped writes the k largest (or smallest) elements along the axis,
// sorted, ties broken by the lower index; NaN counts as the largest.
func topKTyped[T tensor.Number](vals *tensor.Tensor, dt tensor.DType, shape []int, idx []int64, src []T, g axisGeom, k int, largest bool) error {
	vals.Reset(dt, shape)
	dst := vals.Data.([]T)
	order := make([]int, g.n)
	less := func(a, b T) bool { // a strictly before b
		if an, bn := a != a, b != b; an || bn {
			if largest {
				return an && !bn
			}
			return bn && !an
		}
		if largest {
			return a > b
		}
		return a < b
	}
	for o := 0; o < g.outer; o++ {
		for i := 0; i < g.inner; i++ {
			base := o*g.n*g.inner + i
			for c := range order {
				order[c] = c
			}
			slices.SortStableFunc(order, func(a, b int) int {
				va, vb := src[base+a*g.inner], src[base+b*g.inner]
				switch {
				case less(va, vb):
					return -1
				case less(vb, va):
					return 1
				}
				return 0
			})
			for j := 0; j < k; j++ {
				p := o*k*g.inner + j*g.inner + i
				idx[p] = int64(order[j])
				dst[p] = src[base+order[j]*g.inner]
			}
		}
	}
	return nil
}
