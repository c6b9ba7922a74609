package ops

import (
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

// Element-wise kernels below this many elements run on the calling
// goroutine; larger ones are split over ctx.Parallel in pieces of at least
// ewGrain elements.
const (
	ewParallelMin = 1 << 15
	ewGrain       = 1 << 13
)

// splits reports whether n pieces of work of cost elements each are worth
// splitting over the context's threads.
func splits(ctx *Context, n, cost int) bool {
	return ctx != nil && ctx.Threads > 1 && n > 1 && n*cost >= ewParallelMin
}

// grainFor is the least number of pieces of cost elements each that one
// thread takes.
func grainFor(cost int) int { return max(1, ewGrain/max(1, cost)) }

// forRange calls fn over [0, n) where each index stands for cost elements
// of work: inline when the work is small, otherwise split over the
// context's threads. Hot kernels test splits first and call their body
// directly when it is false, so that the closure is not allocated.
func forRange(ctx *Context, n, cost int, fn func(lo, hi int)) {
	if !splits(ctx, n, cost) {
		fn(0, n)
		return
	}
	ctx.Parallel(n, grainFor(cost), fn)
}

// bcast is the iteration plan of an element-wise operation over operands
// broadcast numpy-style to a common output shape. Output dimensions are
// merged where every operand is contiguous (or broadcast) across them, so
// that the innermost merged dimension is as long as possible; in it each
// operand has stride 1 (it varies) or 0 (it is broadcast).
type bcast struct {
	in      [][]int // operand shapes the plan was made for
	shape   []int   // output shape
	size    int     // number of output elements
	dims    []int   // merged output dimensions, outermost first; never empty
	strides [][]int // per operand, the element stride of each merged dimension
	inner   int     // dims[len(dims)-1]
	rows    int     // size / inner
}

// newBcast plans the broadcast of operands of the given shapes.
func newBcast(shapes ...[]int) (*bcast, error) {
	out, err := Broadcast(shapes...)
	if err != nil {
		return nil, err
	}
	p := &bcast{shape: out, size: tensor.NumElements(out), in: make([][]int, len(shapes))}
	for i, s := range shapes {
		p.in[i] = append([]int(nil), s...)
	}
	full := make([][]int, len(shapes))
	for i, s := range shapes {
		full[i] = BroadcastStrides(s, out)
	}
	// Drop output dimensions of extent 1, then merge neighbours.
	var dims []int
	st := make([][]int, len(shapes))
	for d, n := range out {
		if n == 1 {
			continue
		}
		if len(dims) > 0 && mergeable(full, st, d, n) {
			last := len(dims) - 1
			dims[last] *= n
			for k := range st {
				st[k][last] = full[k][d]
			}
			continue
		}
		dims = append(dims, n)
		for k := range st {
			st[k] = append(st[k], full[k][d])
		}
	}
	if len(dims) == 0 || p.size == 0 {
		dims = []int{p.size}
		for k := range st {
			st[k] = []int{0}
			if p.size > 1 {
				st[k][0] = 1
			}
		}
	}
	if len(dims) > bcastMaxDims || len(shapes) > bcastMaxOperands {
		return nil, fmt.Errorf("broadcast of %d operands over %d dimensions is beyond the supported %d and %d", len(shapes), len(dims), bcastMaxOperands, bcastMaxDims)
	}
	p.dims, p.strides = dims, st
	p.inner = dims[len(dims)-1]
	if p.inner > 0 {
		p.rows = p.size / p.inner
	}
	return p, nil
}

// mergeable reports whether output dimension d (extent n) can be folded
// into the previous merged dimension for every operand: the operand's
// stride of the previous merged dimension equals its stride of d times n.
func mergeable(full, st [][]int, d, n int) bool {
	for k := range full {
		prev := st[k][len(st[k])-1]
		if prev != full[k][d]*n {
			return false
		}
	}
	return true
}

// matches reports whether the plan was made for operands of these shapes.
func (p *bcast) matches(shapes [][]int) bool {
	if len(shapes) != len(p.in) {
		return false
	}
	for i, s := range shapes {
		if !slices.Equal(s, p.in[i]) {
			return false
		}
	}
	return true
}

// innerStride is operand k's stride (0 or 1) in the innermost dimension.
func (p *bcast) innerStride(k int) int { return p.strides[k][len(p.dims)-1] }

// Limits of a broadcast plan: merged output dimensions and operands.
const (
	bcastMaxDims     = 64
	bcastMaxOperands = 4
)

// rowIter walks the rows of a plan, keeping each operand's offset. It
// lives on the caller's stack.
type rowIter struct {
	p   *bcast
	idx [bcastMaxDims]int
	off [bcastMaxOperands]int
}

// start positions the iterator at row r of plan p.
func (it *rowIter) start(p *bcast, r int) {
	*it = rowIter{p: p}
	for d := len(p.dims) - 2; d >= 0; d-- {
		i := r % p.dims[d]
		r /= p.dims[d]
		it.idx[d] = i
		for k := range p.strides {
			it.off[k] += i * p.strides[k][d]
		}
	}
}

// next advances to the following row.
func (it *rowIter) next() {
	p := it.p
	for d := len(p.dims) - 2; d >= 0; d-- {
		it.idx[d]++
		if it.idx[d] < p.dims[d] {
			for k := range p.strides {
				it.off[k] += p.strides[k][d]
			}
			return
		}
		for k := range p.strides {
			it.off[k] -= p.strides[k][d] * (p.dims[d] - 1)
		}
		it.idx[d] = 0
	}
}

// planCache keeps the last broadcast plan of a kernel so that runs at a
// fixed shape do not re-plan. It is safe for concurrent use.
type planCache struct{ last atomic.Pointer[bcast] }

// get returns a plan for the shapes, reusing the cached one if it fits.
func (c *planCache) get(shapes ...[]int) (*bcast, error) {
	if p := c.last.Load(); p != nil && p.matches(shapes) {
		return p, nil
	}
	p, err := newBcast(append([][]int(nil), shapes...)...) // a copy: shapes stays on the stack
	if err != nil {
		return nil, err
	}
	c.last.Store(p)
	return p, nil
}

// halfToF32 returns the values of a Float16 or BFloat16 tensor as float32
// (a new slice), or ok=false for other types.
func halfToF32(t *tensor.Tensor) (vals []float32, ok bool) {
	return halfValues(t, func(n int) []float32 { return make([]float32, n) })
}

// halfValues returns the values of a Float16 or BFloat16 tensor as
// float32, in the n values alloc gives (n the tensor's element count), or
// ok=false for other types.
func halfValues(t *tensor.Tensor, alloc func(n int) []float32) (vals []float32, ok bool) {
	switch d := t.Data.(type) {
	case []tensor.Float16Bits:
		vals = alloc(len(d))
		halfsToF32(vals, d)
	case []tensor.BFloat16Bits:
		vals = alloc(len(d))
		for i, v := range d {
			vals[i] = v.Float32()
		}
	default:
		return nil, false
	}
	return vals, true
}

// storeHalf resets out to a Float16 or BFloat16 tensor of the given shape
// holding vals rounded to nearest even.
func storeHalf(out *tensor.Tensor, dt tensor.DType, shape []int, vals []float32) {
	out.Reset(dt, shape)
	switch d := out.Data.(type) {
	case []tensor.Float16Bits:
		f32sToHalf(d, vals)
	case []tensor.BFloat16Bits:
		for i, v := range vals {
			d[i] = tensor.ToBFloat16(v)
		}
	}
}

// halfsToF32 sets dst[i] to src[i]'s value, len(src) of them.
func halfsToF32(dst []float32, src []tensor.Float16Bits) {
	for i := kernels.HalfToF32(dst, src); i < len(src); i++ {
		dst[i] = src[i].Float32()
	}
}

// f32sToHalf sets dst[i] to src[i] rounded to nearest even half,
// len(src) of them.
func f32sToHalf(dst []tensor.Float16Bits, src []float32) {
	for i := kernels.F32ToHalf(dst, src); i < len(src); i++ {
		dst[i] = tensor.ToFloat16(src[i])
	}
}

// isHalf reports whether dt is a 16-bit float type computed via float32.
func isHalf(dt tensor.DType) bool { return dt == tensor.Float16 || dt == tensor.BFloat16 }

// asF32 returns a float32 view of a Float tensor or a float32 copy of a
// Float16/BFloat16 one.
func asF32(t *tensor.Tensor) ([]float32, error) {
	if d, ok := t.Data.([]float32); ok {
		return d, nil
	}
	if d, ok := halfToF32(t); ok {
		return d, nil
	}
	return nil, fmt.Errorf("%v is not a float32 or 16-bit float tensor", t.DType)
}

// errType is the error of a kernel given an element type it does not
// handle.
func errType(op string, dt tensor.DType) error {
	return fmt.Errorf("%s: element type %v is not supported", op, dt)
}

// needInputs checks that the first n inputs are present.
func needInputs(in []*tensor.Tensor, n int) error {
	if len(in) < n {
		return fmt.Errorf("need %d inputs, have %d", n, len(in))
	}
	for i := 0; i < n; i++ {
		if in[i] == nil {
			return fmt.Errorf("input %d is missing", i)
		}
	}
	return nil
}

// expandSlice copies src, broadcast by plan p (operand 0 is src), into dst.
func expandSlice[T any](ctx *Context, p *bcast, dst, src []T) {
	if p.size == 0 {
		return
	}
	s, n := p.innerStride(0), p.inner
	forRange(ctx, p.rows, n, func(lo, hi int) {
		var it rowIter
		it.start(p, lo)
		for r := lo; r < hi; r++ {
			row := dst[r*n : (r+1)*n]
			if s == 1 {
				copy(row, src[it.off[0]:])
			} else {
				v := src[it.off[0]]
				for i := range row {
					row[i] = v
				}
			}
			it.next()
		}
	})
}

// expandTo makes out a copy of src broadcast to shape.
func expandTo(ctx *Context, src *tensor.Tensor, shape []int, out *tensor.Tensor) error {
	p, err := newBcast(src.Shape, shape)
	if err != nil {
		return err
	}
	if !slices.Equal(p.shape, shape) {
		return fmt.Errorf("cannot broadcast %v to %v", src.Shape, shape)
	}
	out.Reset(src.DType, shape)
	switch d := src.Data.(type) {
	case []float32:
		expandSlice(ctx, p, out.Data.([]float32), d)
	case []float64:
		expandSlice(ctx, p, out.Data.([]float64), d)
	case []int8:
		expandSlice(ctx, p, out.Data.([]int8), d)
	case []int16:
		expandSlice(ctx, p, out.Data.([]int16), d)
	case []int32:
		expandSlice(ctx, p, out.Data.([]int32), d)
	case []int64:
		expandSlice(ctx, p, out.Data.([]int64), d)
	case []uint8:
		expandSlice(ctx, p, out.Data.([]uint8), d)
	case []uint16:
		expandSlice(ctx, p, out.Data.([]uint16), d)
	case []uint32:
		expandSlice(ctx, p, out.Data.([]uint32), d)
	case []uint64:
		expandSlice(ctx, p, out.Data.([]uint64), d)
	case []bool:
		expandSlice(ctx, p, out.Data.([]bool), d)
	case []string:
		expandSlice(ctx, p, out.Data.([]string), d)
	case []tensor.Float16Bits:
		expandSlice(ctx, p, out.Data.([]tensor.Float16Bits), d)
	case []tensor.BFloat16Bits:
		expandSlice(ctx, p, out.Data.([]tensor.BFloat16Bits), d)
	default:
		return errType("broadcast", src.DType)
	}
	return nil
}
