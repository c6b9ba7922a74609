package ops

import (
	"fmt"

	"github.com/potgo/pot/targets/interp/tensor"
)

// binLoops are the inner loops of a binary operator on operands of type T
// giving results of type U: vector-vector, vector-scalar and
// scalar-vector. Each writes len(dst) results.
type binLoops[T, U any] struct {
	vv func(dst []U, a, b []T)
	vs func(dst []U, a []T, b T)
	sv func(dst []U, a T, b []T)
}

// scalarLoops builds the loops of an operator from its scalar function.
func scalarLoops[T, U any](f func(a, b T) U) binLoops[T, U] {
	return binLoops[T, U]{
		vv: func(dst []U, a, b []T) {
			a, b = a[:len(dst)], b[:len(dst)]
			for i := range dst {
				dst[i] = f(a[i], b[i])
			}
		},
		vs: func(dst []U, a []T, b T) {
			a = a[:len(dst)]
			for i := range dst {
				dst[i] = f(a[i], b)
			}
		},
		sv: func(dst []U, a T, b []T) {
			b = b[:len(dst)]
			for i := range dst {
				dst[i] = f(a, b[i])
			}
		},
	}
}

// binRow computes one row: a and b start at the row's offsets and have
// inner strides sa and sb (0 or 1).
func binRow[T, U any](dst []U, a, b []T, sa, sb int, l *binLoops[T, U]) {
	n := len(dst)
	if n == 0 {
		return
	}
	switch {
	case sa == 1 && sb == 1:
		l.vv(dst, a[:n], b[:n])
	case sa == 1:
		l.vs(dst, a[:n], b[0])
	case sb == 1:
		l.sv(dst, a[0], b[:n])
	default:
		l.vs(dst[:1], a[:1], b[0])
		for i := 1; i < n; i++ {
			dst[i] = dst[0]
		}
	}
}

// runBinary computes dst = a op b over the broadcast plan p (operand 0 is
// a, operand 1 is b).
func runBinary[T, U any](ctx *Context, p *bcast, dst []U, a, b []T, l *binLoops[T, U]) {
	if p.size == 0 {
		return
	}
	sa, sb, n := p.innerStride(0), p.innerStride(1), p.inner
	switch {
	case p.rows == 1 && !splits(ctx, n, 1):
		binRow(dst, a, b, sa, sb, l)
	case p.rows == 1:
		ctx.Parallel(n, grainFor(1), func(lo, hi int) {
			binRow(dst[lo:hi], a[lo*sa:], b[lo*sb:], sa, sb, l)
		})
	case !splits(ctx, p.rows, n):
		binRows(p, dst, a, b, l, 0, p.rows)
	default:
		ctx.Parallel(p.rows, grainFor(n), func(lo, hi int) { binRows(p, dst, a, b, l, lo, hi) })
	}
}

// binRows computes rows [lo, hi) of plan p.
func binRows[T, U any](p *bcast, dst []U, a, b []T, l *binLoops[T, U], lo, hi int) {
	sa, sb, n := p.innerStride(0), p.innerStride(1), p.inner
	var it rowIter
	it.start(p, lo)
	for r := lo; r < hi; r++ {
		binRow(dst[r*n:(r+1)*n], a[it.off[0]:], b[it.off[1]:], sa, sb, l)
		it.next()
	}
}

// binaryImpl computes out = a op b for one element type over plan p.
type binaryImpl func(ctx *Context, p *bcast, a, b, out *tensor.Tensor) error

// implOf instantiates a binaryImpl for element type T with result type U.
func implOf[T, U tensor.Elem](l binLoops[T, U]) binaryImpl {
	return func(ctx *Context, p *bcast, a, b, out *tensor.Tensor) error {
		av, ok1 := a.Data.([]T)
		bv, ok2 := b.Data.([]T)
		if !ok1 || !ok2 {
			return fmt.Errorf("operands of types %v and %v, want %v", a.DType, b.DType, tensor.DTypeOf[T]())
		}
		out.Reset(tensor.DTypeOf[U](), p.shape)
		runBinary(ctx, p, out.Data.([]U), av, bv, &l)
		return nil
	}
}

// binTable holds an operator's implementation per element type, indexed
// by DType. Float16 and BFloat16 operands use the Float entry.
type binTable [32]binaryImpl

// run computes out = a op b with numpy broadcasting.
func (t *binTable) run(ctx *Context, cache *planCache, op string, a, b, out *tensor.Tensor) error {
	if a.DType != b.DType {
		return fmt.Errorf("%s: operand types %v and %v differ", op, a.DType, b.DType)
	}
	p, err := cache.get(a.Shape, b.Shape)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	dt := a.DType
	if isHalf(dt) && t[tensor.Float] != nil && t[dt] == nil {
		return t.runHalf(ctx, p, a, b, out)
	}
	if int(dt) >= len(t) || t[dt] == nil {
		return errType(op, dt)
	}
	return t[dt](ctx, p, a, b, out)
}

// runHalf computes a 16-bit float operation in float32 and rounds the
// result back (a bool result is kept as is).
func (t *binTable) runHalf(ctx *Context, p *bcast, a, b, out *tensor.Tensor) error {
	var s halfScratch
	defer s.free()
	af, _ := s.values(a)
	bf, _ := s.values(b)
	tmp := s.result(max(len(af), len(bf)))
	if err := t[tensor.Float](ctx, p, tensor.From(a.Shape, af), tensor.From(b.Shape, bf), tmp); err != nil {
		return err
	}
	if tmp.DType != tensor.Float {
		out.CopyFrom(tmp)
		return nil
	}
	storeHalf(out, a.DType, tmp.Shape, tmp.F32())
	return nil
}

// binaryKernel is the kernel of a broadcasting binary operator.
type binaryKernel struct {
	op    string
	table *binTable
	cache planCache
	// legacyAxis >= 0 places B's dimensions at this axis of A (opset < 7
	// broadcast=1 with an axis attribute).
	legacyAxis int
}

// Run implements Kernel.
func (k *binaryKernel) Run(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 2); err != nil {
		return err
	}
	a, b := in[0], in[1]
	if k.legacyAxis >= 0 {
		var err error
		if b, err = legacyBroadcast(a, b, k.legacyAxis); err != nil {
			return fmt.Errorf("%s: %w", k.op, err)
		}
	}
	return k.table.run(ctx, &k.cache, k.op, a, b, out[0])
}

// legacyBroadcast reshapes b for the opset 1-6 broadcast rule: b's shape
// is a contiguous part of a's shape starting at axis.
func legacyBroadcast(a, b *tensor.Tensor, axis int) (*tensor.Tensor, error) {
	if axis < 0 {
		axis += len(a.Shape)
	}
	if axis < 0 || axis+len(b.Shape) > len(a.Shape) {
		return nil, fmt.Errorf("cannot broadcast %v to %v at axis %d", b.Shape, a.Shape, axis)
	}
	shape := make([]int, len(a.Shape))
	for i := range shape {
		shape[i] = 1
	}
	copy(shape[axis:], b.Shape)
	return &tensor.Tensor{DType: b.DType, Shape: shape, Data: b.Data}, nil
}

// binaryFactory returns the factory of a binary operator, reading the
// opset 1-6 broadcast and axis attributes when legacy is set.
func binaryFactory(op string, table *binTable, legacy bool) Factory {
	return func(n *Node) (Kernel, error) {
		k := &binaryKernel{op: op, table: table, legacyAxis: -1}
		if legacy {
			n.Int("consumed_inputs", 0)
			if n.Int("broadcast", 0) != 0 && n.Has("axis") {
				k.legacyAxis = int(n.Int("axis", 0))
			}
		}
		return k, nil
	}
}

// registerBinary registers a broadcasting binary operator: with the
// legacy broadcast attributes before opset 7 when legacy1 is set, and
// numpy broadcasting from since.
func registerBinary(op string, table *binTable, legacy1 bool, since int64) {
	if legacy1 {
		register(DomainONNX, op, 1, binaryFactory(op, table, true))
	}
	register(DomainONNX, op, since, binaryFactory(op, table, false))
}
