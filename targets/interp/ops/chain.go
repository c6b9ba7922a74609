package ops

import (
	"sync"

	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

// chainBlock is how many elements a chain carries through all its
// operations at a time: the results of a dozen operations stay within
// the first-level caches.
const chainBlock = 1024

// Chain runs a sequence of element-wise float32 operations, each on the
// chain's input or on earlier results, as one pass over the input: block
// by block, instead of a pass over the whole tensor per operation. Each
// operation is the very function its kernel runs on float32 data, so a
// chain computes every element bit for bit as the kernels one after the
// other would.
//
// Exporters spell common functions as such sequences: PaddlePaddle's
// hard-swish is Add(3), Clip(0, 6), Mul and Div(6), its learnable affine
// a Mul and an Add of scalars.
type Chain struct {
	ops []chainOp
	// rank is the largest rank among the constants: an input of lower
	// rank would take its shape from them, which the chain does not do.
	rank int
	pool sync.Pool // *[]float32 scratch of len(ops) blocks
}

// chainOp is one operation of a chain: f1 of operand a, or f2 of
// operands a and b. An operand is -1 for the chain's input, else the
// index of an earlier operation.
type chainOp struct {
	a, b int
	f1   func(dst, src []float32)
	f2   func(dst, a, b []float32)
}

// ChainStep describes the step a kernel would add to a chain: which of
// its inputs are values (the others being constants) and the operation.
type ChainStep struct {
	// Values lists the positions of the inputs that are values of the
	// chain: one or two.
	Values []int
	op     chainOp
	rank   int
}

// ChainInput is an input of a step offered to a chain: its constant
// value, nil when it is computed at run time; Absent marks an omitted
// optional input.
type ChainInput struct {
	Const  *tensor.Tensor
	Absent bool
}

// isValue reports whether the input is computed at run time.
func (in ChainInput) isValue() bool { return in.Const == nil && !in.Absent }

// Chainable returns the chain step of kernel k given its inputs: a unary
// float function (Relu, Sigmoid, HardSigmoid, ...), Clip with constant
// bounds, or Add, Sub, Mul, Div of two values or of a value and a scalar
// constant. ok is false for any other kernel or input.
func Chainable(k Kernel, in []ChainInput) (ChainStep, bool) {
	switch k := k.(type) {
	case *unaryKernel:
		if len(in) != 1 || !in[0].isValue() || k.flt == nil {
			return ChainStep{}, false
		}
		return ChainStep{Values: []int{0}, op: chainOp{f1: k.flt.run32}}, true
	case *clipKernel:
		return k.chainStep(in)
	case *binaryKernel:
		l, ok := f32ArithLoops[k.op]
		if !ok || k.legacyAxis >= 0 || len(in) != 2 || in[0].Absent || in[1].Absent {
			return ChainStep{}, false
		}
		a, b := in[0].Const, in[1].Const
		switch {
		case a == nil && b == nil:
			return ChainStep{Values: []int{0, 1}, op: chainOp{f2: l.vv}}, true
		case a == nil && isScalarF32(b):
			s := b.F32()[0]
			return ChainStep{Values: []int{0}, op: chainOp{f1: func(dst, src []float32) { l.vs(dst, src, s) }}, rank: b.Rank()}, true
		case b == nil && isScalarF32(a):
			s := a.F32()[0]
			return ChainStep{Values: []int{1}, op: chainOp{f1: func(dst, src []float32) { l.sv(dst, s, src) }}, rank: a.Rank()}, true
		}
	}
	return ChainStep{}, false
}

// isScalarF32 reports whether t is a float32 constant of one element.
func isScalarF32(t *tensor.Tensor) bool {
	return t != nil && t.DType == tensor.Float && t.Len() == 1
}

// Append adds a step whose value operands are the chain's input (-1) or
// the result of an earlier step (its index), one per s.Values.
func (c *Chain) Append(s ChainStep, operands ...int) {
	op := s.op
	op.a, op.b = operands[0], -1
	if len(operands) > 1 {
		op.b = operands[1]
	}
	c.ops = append(c.ops, op)
	c.rank = max(c.rank, s.rank)
}

// Run computes the chain of x into out. It reports false, having done
// nothing, when x is not float32 or has a lower rank than a constant:
// the kernels one by one then give the result, or the error.
func (c *Chain) Run(ctx *Context, x, out *tensor.Tensor) bool {
	if x.DType != tensor.Float || x.Rank() < c.rank || len(c.ops) == 0 {
		return false
	}
	out.Reset(tensor.Float, x.Shape)
	src, dst := x.F32(), out.F32()
	cost := len(c.ops)
	if !splits(ctx, len(src), cost) {
		c.blocks(src, dst, 0, len(src))
		return true
	}
	ctx.Parallel(len(src), max(grainFor(cost), chainBlock), func(lo, hi int) { c.blocks(src, dst, lo, hi) })
	return true
}

// blocks computes elements [lo, hi) of the chain's result.
func (c *Chain) blocks(src, dst []float32, lo, hi int) {
	buf, _ := c.pool.Get().(*[]float32)
	if buf == nil {
		b := make([]float32, len(c.ops)*chainBlock)
		buf = &b
	}
	scratch := *buf
	last := len(c.ops) - 1
	for b := lo; b < hi; b += chainBlock {
		e := min(b+chainBlock, hi)
		in := src[b:e]
		for i, op := range c.ops {
			d := dst[b:e]
			if i < last {
				d = scratch[i*chainBlock : i*chainBlock+e-b]
			}
			a := chainOperand(op.a, in, scratch, e-b)
			if op.f2 != nil {
				op.f2(d, a, chainOperand(op.b, in, scratch, e-b))
			} else {
				op.f1(d, a)
			}
		}
	}
	c.pool.Put(buf)
}

// chainOperand is the block of operand k: the input's, or step k's
// result in scratch.
func chainOperand(k int, in, scratch []float32, n int) []float32 {
	if k < 0 {
		return in
	}
	return scratch[k*chainBlock : k*chainBlock+n]
}

// chainStep is Clip's ChainStep: kernels.ClipF32 with the bounds
// clipTyped would take for float32.
func (k *clipKernel) chainStep(in []ChainInput) (ChainStep, bool) {
	if len(in) == 0 || !in[0].isValue() {
		return ChainStep{}, false
	}
	lo, hi := lowest[float32](), highest[float32]()
	if k.attr {
		if len(in) != 1 {
			return ChainStep{}, false
		}
		lo, hi = float32(k.lo), float32(k.hi)
	} else {
		if len(in) > 3 {
			return ChainStep{}, false
		}
		bounds := []*float32{&lo, &hi}
		for i, b := range in[1:] {
			switch {
			case b.Absent:
			case isScalarF32(b.Const):
				*bounds[i] = b.Const.F32()[0]
			default: // computed at run time, or not a float32 scalar
				return ChainStep{}, false
			}
		}
	}
	return ChainStep{Values: []int{0}, op: chainOp{f1: func(dst, src []float32) { kernels.ClipF32(dst, src, lo, hi) }}}, true
}
