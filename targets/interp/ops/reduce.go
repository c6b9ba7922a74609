package ops

import (
	"fmt"
	"math"

	"github.com/potgo/pot/targets/interp/tensor"
)

// reduceOp names a reduction.
type reduceOp int

const (
	redSum reduceOp = iota
	redMean
	redMax
	redMin
	redProd
	redL1
	redL2
	redSumSquare
	redLogSum
	redLogSumExp
)

func init() {
	for op, r := range map[string]reduceOp{
		"ReduceSum": redSum, "ReduceMean": redMean, "ReduceMax": redMax, "ReduceMin": redMin,
		"ReduceProd": redProd, "ReduceL1": redL1, "ReduceL2": redL2, "ReduceSumSquare": redSumSquare,
		"ReduceLogSum": redLogSum, "ReduceLogSumExp": redLogSumExp,
	} {
		inputSince := int64(18)
		if r == redSum {
			inputSince = 13
		}
		register(DomainONNX, op, 1, reduceFactory(op, r, false))
		register(DomainONNX, op, inputSince, reduceFactory(op, r, true))
	}
}

// reduceFactory builds a reduction; axesInput says whether the axes come
// from the optional second input (with noop_with_empty_axes) rather than
// the axes attribute.
func reduceFactory(op string, r reduceOp, axesInput bool) Factory {
	return func(n *Node) (Kernel, error) {
		k := &reduceKernel{op: op, red: r, keep: n.Int("keepdims", 1) != 0, axesInput: axesInput}
		if axesInput {
			k.noop = n.Int("noop_with_empty_axes", 0) != 0
		} else {
			k.axes = n.Ints("axes", nil)
		}
		return k, nil
	}
}

type reduceKernel struct {
	op        string
	red       reduceOp
	keep      bool
	noop      bool
	axesInput bool
	axes      []int64
}

// Run implements Kernel.
func (k *reduceKernel) Run(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 1); err != nil {
		return err
	}
	x := in[0]
	axes := k.axes
	if k.axesInput && len(in) > 1 && in[1] != nil {
		var err error
		if axes, err = in[1].Int64s(); err != nil {
			return fmt.Errorf("%s: axes: %w", k.op, err)
		}
	}
	if len(axes) == 0 && k.noop {
		out[0].CopyFrom(x)
		return nil
	}
	g, err := newReduceGeom(x.Shape, axes, k.keep)
	if err != nil {
		return fmt.Errorf("%s: %w", k.op, err)
	}
	o := out[0]
	switch d := x.Data.(type) {
	case []float32:
		o.Reset(x.DType, g.outShape)
		reduceTyped[float32, float64](ctx, k.red, g, o.F32(), d)
	case []float64:
		o.Reset(x.DType, g.outShape)
		reduceTyped[float64, float64](ctx, k.red, g, o.Data.([]float64), d)
	case []int8:
		o.Reset(x.DType, g.outShape)
		reduceTyped[int8, int64](ctx, k.red, g, o.Data.([]int8), d)
	case []int16:
		o.Reset(x.DType, g.outShape)
		reduceTyped[int16, int64](ctx, k.red, g, o.Data.([]int16), d)
	case []int32:
		o.Reset(x.DType, g.outShape)
		reduceTyped[int32, int64](ctx, k.red, g, o.Data.([]int32), d)
	case []int64:
		o.Reset(x.DType, g.outShape)
		reduceTyped[int64, int64](ctx, k.red, g, o.Data.([]int64), d)
	case []uint8:
		o.Reset(x.DType, g.outShape)
		reduceTyped[uint8, uint64](ctx, k.red, g, o.Data.([]uint8), d)
	case []uint16:
		o.Reset(x.DType, g.outShape)
		reduceTyped[uint16, uint64](ctx, k.red, g, o.Data.([]uint16), d)
	case []uint32:
		o.Reset(x.DType, g.outShape)
		reduceTyped[uint32, uint64](ctx, k.red, g, o.Data.([]uint32), d)
	case []uint64:
		o.Reset(x.DType, g.outShape)
		reduceTyped[uint64, uint64](ctx, k.red, g, o.Data.([]uint64), d)
	case []tensor.Float16Bits, []tensor.BFloat16Bits:
		v, _ := halfToF32(x)
		res := make([]float32, tensor.NumElements(g.outShape))
		reduceTyped[float32, float64](ctx, k.red, g, res, v)
		storeHalf(o, x.DType, g.outShape, res)
	default:
		return errType(k.op, x.DType)
	}
	return nil
}

// reduceGeom describes a reduction of a row-major tensor: each output
// element reduces the input elements at base(o) + redOffs[j], where the
// bases walk the kept dimensions in order.
type reduceGeom struct {
	outShape    []int
	keptShape   []int // kept dimensions of the input (extent > 1)
	keptStrides []int
	redOffs     []int // offsets of the reduced index combinations
	contiguous  bool  // redOffs[j] == j
}

// newReduceGeom plans the reduction of shape over axes (all axes when
// empty), keeping reduced axes as 1 when keep is set.
func newReduceGeom(shape []int, axes []int64, keep bool) (*reduceGeom, error) {
	rank := len(shape)
	red := make([]bool, rank)
	if len(axes) == 0 {
		for i := range red {
			red[i] = true
		}
	}
	for _, a := range axes {
		ax, err := NormalizeAxis(a, rank)
		if err != nil {
			return nil, err
		}
		red[ax] = true
	}
	g := &reduceGeom{outShape: []int{}}
	strides := tensor.Strides(shape)
	var redShape, redStrides []int
	for i, n := range shape {
		switch {
		case red[i]:
			if keep {
				g.outShape = append(g.outShape, 1)
			}
			if n != 1 {
				redShape = append(redShape, n)
				redStrides = append(redStrides, strides[i])
			}
		default:
			g.outShape = append(g.outShape, n)
			if n != 1 {
				g.keptShape = append(g.keptShape, n)
				g.keptStrides = append(g.keptStrides, strides[i])
			}
		}
	}
	g.redOffs = make([]int, tensor.NumElements(redShape))
	Offsets(g.redOffs, redShape, redStrides)
	g.contiguous = true
	for j, o := range g.redOffs {
		if o != j {
			g.contiguous = false
			break
		}
	}
	return g, nil
}

// base returns the input offset of the first reduced element of output
// element o.
func (g *reduceGeom) base(o int) int {
	off := 0
	for d := len(g.keptShape) - 1; d >= 0; d-- {
		off += (o % g.keptShape[d]) * g.keptStrides[d]
		o /= g.keptShape[d]
	}
	return off
}

// reduceTyped reduces src into dst with accumulator type A.
func reduceTyped[T tensor.Number, A int64 | uint64 | float64](ctx *Context, op reduceOp, g *reduceGeom, dst, src []T) {
	r := len(g.redOffs)
	forRange(ctx, len(dst), max(r, 1), func(lo, hi int) {
		for o := lo; o < hi; o++ {
			b := g.base(o)
			var run []T
			if g.contiguous {
				run = src[b : b+r]
			}
			dst[o] = reduceOne[T, A](op, src, run, b, g.redOffs)
		}
	})
}

// reduceOne reduces the elements src[b+offs[j]] (or run, when not nil,
// which holds them contiguously).
func reduceOne[T tensor.Number, A int64 | uint64 | float64](op reduceOp, src, run []T, b int, offs []int) T {
	at := func(j int) T {
		if run != nil {
			return run[j]
		}
		return src[b+offs[j]]
	}
	n := len(offs)
	switch op {
	case redSum, redMean:
		var acc A
		if run != nil {
			for _, v := range run {
				acc += A(v)
			}
		} else {
			for _, o := range offs {
				acc += A(src[b+o])
			}
		}
		if op == redMean {
			return T(float64(acc) / float64(n))
		}
		return T(acc)
	case redMax, redMin:
		best := highest[T]()
		if op == redMax {
			best = lowest[T]()
		}
		for j := 0; j < n; j++ {
			v := at(j)
			if v != v {
				return v
			}
			if op == redMax && v > best || op == redMin && v < best {
				best = v
			}
		}
		return best
	case redProd:
		acc := A(1)
		for j := 0; j < n; j++ {
			acc *= A(at(j))
		}
		return T(acc)
	case redL1:
		var acc A
		for j := 0; j < n; j++ {
			v := A(at(j))
			if v < 0 {
				v = -v
			}
			acc += v
		}
		return T(acc)
	case redSumSquare:
		var acc A
		for j := 0; j < n; j++ {
			v := A(at(j))
			acc += v * v
		}
		return T(acc)
	case redL2:
		acc := 0.0
		for j := 0; j < n; j++ {
			v := float64(at(j))
			acc += v * v
		}
		return T(math.Sqrt(acc))
	case redLogSum:
		acc := 0.0
		for j := 0; j < n; j++ {
			acc += float64(at(j))
		}
		return T(math.Log(acc))
	case redLogSumExp:
		m := math.Inf(-1)
		for j := 0; j < n; j++ {
			m = max(m, float64(at(j)))
		}
		if math.IsInf(m, 0) {
			return T(m)
		}
		acc := 0.0
		for j := 0; j < n; j++ {
			acc += math.Exp(float64(at(j)) - m)
		}
		return T(math.Log(acc) + m)
	}
	return 0
}
