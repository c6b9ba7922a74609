package ops

import (
	"cmp"
	"fmt"

	"github.com/potgo/pot/targets/interp/tensor"
)

// cmpOp names a comparison.
type cmpOp int

const (
	opEq cmpOp = iota
	opLt
	opGt
	opLe
	opGe
)

func init() {
	registerBinary("Equal", cmpTable(opEq), true, 7)
	registerBinary("Less", cmpTable(opLt), true, 7)
	registerBinary("Greater", cmpTable(opGt), true, 7)
	registerBinary("LessOrEqual", cmpTable(opLe), false, 12)
	registerBinary("GreaterOrEqual", cmpTable(opGe), false, 12)
	registerBinary("And", boolTable(func(a, b bool) bool { return a && b }), true, 7)
	registerBinary("Or", boolTable(func(a, b bool) bool { return a || b }), true, 7)
	registerBinary("Xor", boolTable(func(a, b bool) bool { return a != b }), true, 7)
	register(DomainONNX, "Where", 9, func(n *Node) (Kernel, error) { return &whereKernel{}, nil })
}

// cmpTable returns the implementations of a comparison for every numeric
// type (and bool and string for Equal).
func cmpTable(op cmpOp) *binTable {
	t := &binTable{}
	t[tensor.Float] = implOf(cmpLoops[float32](op))
	t[tensor.Double] = implOf(cmpLoops[float64](op))
	t[tensor.Int8] = implOf(cmpLoops[int8](op))
	t[tensor.Int16] = implOf(cmpLoops[int16](op))
	t[tensor.Int32] = implOf(cmpLoops[int32](op))
	t[tensor.Int64] = implOf(cmpLoops[int64](op))
	t[tensor.Uint8] = implOf(cmpLoops[uint8](op))
	t[tensor.Uint16] = implOf(cmpLoops[uint16](op))
	t[tensor.Uint32] = implOf(cmpLoops[uint32](op))
	t[tensor.Uint64] = implOf(cmpLoops[uint64](op))
	if op == opEq {
		t[tensor.Bool] = implOf(scalarLoops(func(a, b bool) bool { return a == b }))
		t[tensor.String] = implOf(cmpLoops[string](op))
	}
	return t
}

func cmpLoops[T cmp.Ordered](op cmpOp) binLoops[T, bool] {
	switch op {
	case opEq:
		return scalarLoops(func(a, b T) bool { return a == b })
	case opLt:
		return scalarLoops(func(a, b T) bool { return a < b })
	case opGt:
		return scalarLoops(func(a, b T) bool { return a > b })
	case opLe:
		return scalarLoops(func(a, b T) bool { return a <= b })
	}
	return scalarLoops(func(a, b T) bool { return a >= b })
}

// boolTable returns the implementation of a logical operator.
func boolTable(f func(a, b bool) bool) *binTable {
	t := &binTable{}
	t[tensor.Bool] = implOf(scalarLoops(f))
	return t
}

// whereKernel implements Where: out = cond ? x : y, broadcast.
type whereKernel struct{ cache planCache }

// Run implements Kernel.
func (k *whereKernel) Run(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 3); err != nil {
		return err
	}
	c, x, y := in[0], in[1], in[2]
	cond, ok := c.Data.([]bool)
	if !ok {
		return fmt.Errorf("Where: condition has type %v, want bool", c.DType)
	}
	if x.DType != y.DType {
		return fmt.Errorf("Where: X and Y have types %v and %v", x.DType, y.DType)
	}
	p, err := k.cache.get(c.Shape, x.Shape, y.Shape)
	if err != nil {
		return fmt.Errorf("Where: %w", err)
	}
	o := out[0]
	o.Reset(x.DType, p.shape)
	switch d := x.Data.(type) {
	case []float32:
		where(ctx, p, o.Data.([]float32), cond, d, y.Data.([]float32))
	case []float64:
		where(ctx, p, o.Data.([]float64), cond, d, y.Data.([]float64))
	case []int8:
		where(ctx, p, o.Data.([]int8), cond, d, y.Data.([]int8))
	case []int16:
		where(ctx, p, o.Data.([]int16), cond, d, y.Data.([]int16))
	case []int32:
		where(ctx, p, o.Data.([]int32), cond, d, y.Data.([]int32))
	case []int64:
		where(ctx, p, o.Data.([]int64), cond, d, y.Data.([]int64))
	case []uint8:
		where(ctx, p, o.Data.([]uint8), cond, d, y.Data.([]uint8))
	case []uint16:
		where(ctx, p, o.Data.([]uint16), cond, d, y.Data.([]uint16))
	case []uint32:
		where(ctx, p, o.Data.([]uint32), cond, d, y.Data.([]uint32))
	case []uint64:
		where(ctx, p, o.Data.([]uint64), cond, d, y.Data.([]uint64))
	case []bool:
		where(ctx, p, o.Data.([]bool), cond, d, y.Data.([]bool))
	case []string:
		where(ctx, p, o.Data.([]string), cond, d, y.Data.([]string))
	case []tensor.Float16Bits:
		where(ctx, p, o.Data.([]tensor.Float16Bits), cond, d, y.Data.([]tensor.Float16Bits))
	case []tensor.BFloat16Bits:
		where(ctx, p, o.Data.([]tensor.BFloat16Bits), cond, d, y.Data.([]tensor.BFloat16Bits))
	default:
		return errType("Where", x.DType)
	}
	return nil
}

// where fills dst over plan p (operands: cond, x, y).
func where[T any](ctx *Context, p *bcast, dst []T, cond []bool, x, y []T) {
	if p.size == 0 {
		return
	}
	sc, sx, sy, n := p.innerStride(0), p.innerStride(1), p.innerStride(2), p.inner
	forRange(ctx, p.rows, n, func(lo, hi int) {
		var it rowIter
		it.start(p, lo)
		for r := lo; r < hi; r++ {
			c, a, b := it.off[0], it.off[1], it.off[2]
			row := dst[r*n : (r+1)*n]
			for i := range row {
				if cond[c+i*sc] {
					row[i] = x[a+i*sx]
				} else {
					row[i] = y[b+i*sy]
				}
			}
			it.next()
		}
	})
}
