package ops

import (
	"fmt"

	"github.com/potgo/pot/targets/interp/kernels"

	"github.com/potgo/pot/targets/interp/tensor"
)

func init() {
	for _, v := range []int64{1, 9, 13} {
		register(DomainONNX, "MatMul", v, newMatMul)
	}
}

// matmulKernel is MatMul, with a constant 2-D float32 B packed at
// compile time.
type matmulKernel struct {
	packed *kernels.PackedB
}

func newMatMul(n *Node) (Kernel, error) {
	k := &matmulKernel{}
	if b := n.Const(1); b != nil && b.DType == tensor.Float && b.Rank() == 2 && !IsLarge(b) {
		pb, err := kernels.PackB(b.Shape[0], b.Shape[1], b.F32(), b.Shape[1], false)
		if err != nil {
			return nil, fmt.Errorf("B: %w", err)
		}
		k.packed = pb
	}
	return k, nil
}

func (k *matmulKernel) Run(ctx *Context, in, out []*tensor.Tensor) error {
	if k.packed != nil && len(in) > 1 && in[0] != nil && in[0].DType == tensor.Float && in[0].Rank() >= 2 {
		a := in[0]
		if kk := a.Shape[a.Rank()-1]; kk == k.packed.K {
			// A's batch dimensions fold into its rows.
			shape := append(append([]int(nil), a.Shape[:a.Rank()-1]...), k.packed.N)
			y := out[0]
			y.Reset(tensor.Float, shape)
			m := a.Len() / max(kk, 1)
			if kk == 0 {
				m = tensor.NumElements(a.Shape[:a.Rank()-1])
			}
			return parallelPackedB(ctx, k.packed, false, m, 1, a.F32(), max(kk, 1), 0, y.F32(), k.packed.N)
		}
	}
	return runMatMul(ctx, in, out)
}

// matmulShape is the numpy matmul geometry of two operands: the batch
// shape, the matrix sizes, and each operand's batch strides (0 where
// broadcast).
type matmulShape struct {
	out            []int
	batch          []int
	m, n, k        int
	aStep, bStep   []int // per batch dimension, in matrices
	aBatch, bBatch int
}

func newMatmulShape(as, bs []int) (*matmulShape, error) {
	if len(as) == 0 || len(bs) == 0 {
		return nil, fmt.Errorf("matmul of a scalar (shapes %v and %v)", as, bs)
	}
	a, b := as, bs
	if len(a) == 1 {
		a = []int{1, a[0]}
	}
	if len(b) == 1 {
		b = []int{b[0], 1}
	}
	s := &matmulShape{m: a[len(a)-2], k: a[len(a)-1], n: b[len(b)-1]}
	if b[len(b)-2] != s.k {
		return nil, fmt.Errorf("matmul of shapes %v and %v: inner dimensions %d and %d differ", as, bs, s.k, b[len(b)-2])
	}
	batch, err := Broadcast(a[:len(a)-2], b[:len(b)-2])
	if err != nil {
		return nil, fmt.Errorf("matmul of shapes %v and %v: %w", as, bs, err)
	}
	s.batch = batch
	s.aStep = BroadcastStrides(a[:len(a)-2], batch)
	s.bStep = BroadcastStrides(b[:len(b)-2], batch)
	s.aBatch, s.bBatch = tensor.NumElements(a[:len(a)-2]), tensor.NumElements(b[:len(b)-2])
	s.out = append([]int(nil), batch...)
	if len(as) > 1 {
		s.out = append(s.out, s.m)
	}
	if len(bs) > 1 {
		s.out = append(s.out, s.n)
	}
	return s, nil
}

// offsets returns the matrix index in A and in B of batch entry i.
func (s *matmulShape) offsets(i int) (ai, bi int) {
	for d := len(s.batch) - 1; d >= 0; d-- {
		x := i % s.batch[d]
		i /= s.batch[d]
		ai += x * s.aStep[d]
		bi += x * s.bStep[d]
	}
	return ai, bi
}

// serialContext runs kernels on the calling goroutine only.
var serialContext = NewContext(1)

func runMatMul(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 2); err != nil {
		return err
	}
	a, b := in[0], in[1]
	if a.DType != b.DType {
		return fmt.Errorf("A is %v, B is %v", a.DType, b.DType)
	}
	s, err := newMatmulShape(a.Shape, b.Shape)
	if err != nil {
		return err
	}
	y := out[0]
	y.Reset(a.DType, s.out)
	nb := tensor.NumElements(s.batch)
	m, n, k := s.m, s.n, s.k
	if y.Len() == 0 {
		return nil
	}
	switch a.DType {
	case tensor.Float:
		ad, bd, yd := a.F32(), b.F32(), y.F32()
		if k == 0 {
			clear(yd)
			return nil
		}
		if nb == 1 || s.bBatch == 1 && s.aBatch == nb {
			// One product, or a shared B: fold the batch into the rows of A.
			return parallelSgemm(ctx, false, false, m*nb, n, k, 1, ad, k, bd, n, 0, yd, n)
		}
		errs := make([]error, nb)
		ctx.Parallel(nb, 1, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				ai, bi := s.offsets(i)
				errs[i] = parallelSgemm(serialContext, false, false, m, n, k, 1, ad[ai*m*k:], k, bd[bi*k*n:], n, 0, yd[i*m*n:], n)
			}
		})
		for _, e := range errs {
			if e != nil {
				return e
			}
		}
		return nil
	case tensor.Float16, tensor.BFloat16:
		af, _ := asF32(a)
		bf, _ := asF32(b)
		yf := make([]float32, y.Len())
		for i := 0; i < nb; i++ {
			ai, bi := s.offsets(i)
			if k == 0 {
				continue
			}
			if err := parallelSgemm(ctx, false, false, m, n, k, 1, af[ai*m*k:], k, bf[bi*k*n:], n, 0, yf[i*m*n:], n); err != nil {
				return err
			}
		}
		storeHalf(y, a.DType, s.out, yf)
		return nil
	}
	switch ad := a.Data.(type) {
	case []float64:
		matmulLoop(s, ad, b.Data.([]float64), y.Data.([]float64))
	case []int32:
		matmulLoop(s, ad, b.Data.([]int32), y.Data.([]int32))
	case []int64:
		matmulLoop(s, ad, b.Data.([]int64), y.Data.([]int64))
	case []uint32:
		matmulLoop(s, ad, b.Data.([]uint32), y.Data.([]uint32))
	case []uint64:
		matmulLoop(s, ad, b.Data.([]uint64), y.Data.([]uint64))
	default:
		return errType("MatMul", a.DType)
	}
	return nil
}

func matmulLoop[T tensor.Number](s *matmulShape, a, b, y []T) {
	m, n, k := s.m, s.n, s.k
	nb := tensor.NumElements(s.batch)
	for i := 0; i < nb; i++ {
		ai, bi := s.offsets(i)
		am, bm, ym := a[ai*m*k:], b[bi*k*n:], y[i*m*n:]
		for r := 0; r < m; r++ {
			for c := 0; c < n; c++ {
				var sum T
				for p := 0; p < k; p++ {
					sum += am[r*k+p] * bm[p*n+c]
				}
				ym[r*n+c] = sum
			}
		}
	}
}
