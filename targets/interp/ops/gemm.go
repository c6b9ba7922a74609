package ops

import (
	"fmt"
	"sync/atomic"

	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

func init() {
	// Gemm-1 and -6 had a broadcast attribute; broadcasting C is always
	// allowed here, which is a superset. From 11 on C is optional.
	for _, v := range []int64{1, 6, 7, 9, 11, 13} {
		register(DomainONNX, "Gemm", v, newGemm)
	}
}

type gemmKernel struct {
	alpha, beta    float32
	transA, transB bool
	// packed is the constant float32 B, packed at compile time.
	packed *kernels.PackedB
}

func newGemm(n *Node) (Kernel, error) {
	k := &gemmKernel{
		alpha:  n.Float("alpha", 1),
		beta:   n.Float("beta", 1),
		transA: n.Int("transA", 0) != 0,
		transB: n.Int("transB", 0) != 0,
	}
	if b := n.Const(1); b != nil && b.DType == tensor.Float && b.Rank() == 2 && !IsLarge(b) {
		kk, nn := b.Shape[0], b.Shape[1]
		if k.transB {
			kk, nn = nn, kk
		}
		pb, err := kernels.PackB(kk, nn, b.F32(), b.Shape[1], k.transB)
		if err != nil {
			return nil, fmt.Errorf("B: %w", err)
		}
		k.packed = pb
	}
	return k, nil
}

func (k *gemmKernel) Run(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 2); err != nil {
		return err
	}
	a, b := in[0], in[1]
	if a.Rank() != 2 || b.Rank() != 2 {
		return fmt.Errorf("A of shape %v and B of shape %v: want matrices", a.Shape, b.Shape)
	}
	if a.DType != b.DType {
		return fmt.Errorf("A is %v, B is %v", a.DType, b.DType)
	}
	m, ka := a.Shape[0], a.Shape[1]
	if k.transA {
		m, ka = ka, m
	}
	kb, n := b.Shape[0], b.Shape[1]
	if k.transB {
		kb, n = n, kb
	}
	if ka != kb {
		return fmt.Errorf("A of shape %v and B of shape %v (transA=%v, transB=%v) do not multiply", a.Shape, b.Shape, k.transA, k.transB)
	}
	var c *tensor.Tensor
	if len(in) > 2 && in[2] != nil && k.beta != 0 {
		c = in[2]
		if c.DType != a.DType {
			return fmt.Errorf("C is %v, A is %v", c.DType, a.DType)
		}
	}
	y := out[0]
	shape := []int{m, n}
	beta := float32(0)
	if c != nil {
		// Y starts as C broadcast to m×n and is scaled by beta.
		if cf, ok := c.Data.([]float32); ok && len(cf) == n && (c.Rank() == 1 || c.Rank() == 2 && c.Shape[0] == 1) {
			// The common bias row: no broadcast plan needed.
			y.Reset(tensor.Float, shape)
			yf := y.F32()
			for i := 0; i < m; i++ {
				copy(yf[i*n:(i+1)*n], cf)
			}
		} else if err := expandTo(ctx, c, shape, y); err != nil {
			return fmt.Errorf("C: %w", err)
		}
		beta = k.beta
	} else {
		y.Reset(a.DType, shape)
	}
	if m == 0 || n == 0 {
		return nil
	}
	lda, ldb := a.Shape[1], b.Shape[1]
	switch a.DType {
	case tensor.Float:
		if k.packed != nil && k.packed.K == ka && k.packed.N == n {
			return parallelPackedB(ctx, k.packed, k.transA, m, k.alpha, a.F32(), lda, beta, y.F32(), n)
		}
		return parallelSgemm(ctx, k.transA, k.transB, m, n, ka, k.alpha, a.F32(), lda, b.F32(), ldb, beta, y.F32(), n)
	case tensor.Float16, tensor.BFloat16:
		af, _ := asF32(a)
		bf, _ := asF32(b)
		yf := make([]float32, m*n)
		if c != nil {
			yf, _ = asF32(y)
		}
		if err := parallelSgemm(ctx, k.transA, k.transB, m, n, ka, k.alpha, af, lda, bf, ldb, beta, yf, n); err != nil {
			return err
		}
		storeHalf(y, a.DType, shape, yf)
		return nil
	}
	return naiveGemm(a, b, y, k.transA, k.transB, m, n, ka, float64(k.alpha), float64(beta), c != nil)
}

// parallelSgemm splits C into row blocks (or column blocks when it has
// few rows) over the context's threads.
func parallelSgemm(ctx *Context, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) error {
	const minWork = 1 << 16 // multiply-adds per task
	if ctx.Threads <= 1 || m*n*k < 2*minWork {
		return kernels.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
	errs := make([]error, ctx.Threads)
	if m >= 4*ctx.Threads || m >= n {
		ctx.Parallel(m, max(1, minWork/(n*k+1)), func(lo, hi int) {
			ao := lo * lda
			if transA {
				ao = lo
			}
			if err := kernels.Sgemm(transA, transB, hi-lo, n, k, alpha, a[ao:], lda, b, ldb, beta, c[lo*ldc:], ldc); err != nil {
				errs[lo*ctx.Threads/m] = err
			}
		})
	} else {
		ctx.Parallel(n, max(16, minWork/(m*k+1)), func(lo, hi int) {
			bo := lo
			if transB {
				bo = lo * ldb
			}
			if err := kernels.Sgemm(transA, transB, m, hi-lo, k, alpha, a, lda, b[bo:], ldb, beta, c[lo:], ldc); err != nil {
				errs[lo*ctx.Threads/n] = err
			}
		})
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// parallelPackedB splits the rows of C over the context's threads.
func parallelPackedB(ctx *Context, pb *kernels.PackedB, transA bool, m int, alpha float32, a []float32, lda int, beta float32, c []float32, ldc int) error {
	const minWork = 1 << 16
	work := pb.K * pb.N
	if ctx.Threads <= 1 || m*work < 2*minWork || m < 2 {
		return pb.Mul(transA, m, alpha, a, lda, beta, c, ldc)
	}
	var firstErr atomic.Pointer[error]
	ctx.Parallel(m, max(1, minWork/(work+1)), func(lo, hi int) {
		ao := lo * lda
		if transA {
			ao = lo
		}
		if err := pb.Mul(transA, hi-lo, alpha, a[ao:], lda, beta, c[lo*ldc:], ldc); err != nil {
			e := err // a copy: &err would put err on the heap on every call
			firstErr.CompareAndSwap(nil, &e)
		}
	})
	if e := firstErr.Load(); e != nil {
		return *e
	}
	return nil
}

// naiveGemm computes Gemm for the element types without a fast kernel:
// y = alpha·op(a)·op(b) + beta·y (y holds C when hasC).
func naiveGemm(a, b, y *tensor.Tensor, transA, transB bool, m, n, k int, alpha, beta float64, hasC bool) error {
	switch ad := a.Data.(type) {
	case []float64:
		gemmLoop(ad, b.Data.([]float64), y.Data.([]float64), transA, transB, m, n, k, alpha, beta, hasC)
	case []int32:
		gemmLoop(ad, b.Data.([]int32), y.Data.([]int32), transA, transB, m, n, k, alpha, beta, hasC)
	case []int64:
		gemmLoop(ad, b.Data.([]int64), y.Data.([]int64), transA, transB, m, n, k, alpha, beta, hasC)
	case []uint32:
		gemmLoop(ad, b.Data.([]uint32), y.Data.([]uint32), transA, transB, m, n, k, alpha, beta, hasC)
	case []uint64:
		gemmLoop(ad, b.Data.([]uint64), y.Data.([]uint64), transA, transB, m, n, k, alpha, beta, hasC)
	default:
		return errType("Gemm", a.DType)
	}
	return nil
}

func gemmLoop[T tensor.Number](a, b, y []T, transA, transB bool, m, n, k int, alpha, beta float64, hasC bool) {
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var sum T
			for p := 0; p < k; p++ {
				av, bv := a[i*lda+p], b[p*ldb+j]
				if transA {
					av = a[p*lda+i]
				}
				if transB {
					bv = b[j*ldb+p]
				}
				sum += av * bv
			}
			v := alpha * float64(sum)
			if hasC {
				v += beta * float64(y[i*n+j])
			}
			y[i*n+j] = T(v)
		}
	}
}
