package ops

import (
	"fmt"

	"github.com/potgo/pot/targets/interp/tensor"
)

func init() {
	register(DomainONNX, "MatMulInteger", 10, func(n *Node) (Kernel, error) { return KernelFunc(runMatMulInteger), nil })
	register(DomainONNX, "QLinearMatMul", 10, func(n *Node) (Kernel, error) { return KernelFunc(runQLinearMatMul), nil })
}

// matmulInt32 computes the batched product (a - azp)·(b - bzp) in int32,
// where azp has one value or one per row of A and bzp one value or one
// per column of B (intProduct checks their counts).
func matmulInt32(s *matmulShape, a, b, azp, bzp []int32) []int32 {
	nb := tensor.NumElements(s.batch)
	m, n, k := s.m, s.n, s.k
	y := make([]int32, nb*m*n)
	bcol := make([]int32, k)
	for i := 0; i < nb; i++ {
		ai, bi := s.offsets(i)
		am, bm, ym := a[ai*m*k:], b[bi*k*n:], y[i*m*n:]
		for c := 0; c < n; c++ {
			zb := bzp[0]
			if len(bzp) > 1 {
				zb = bzp[c]
			}
			for p := range bcol {
				bcol[p] = bm[p*n+c] - zb
			}
			for r := 0; r < m; r++ {
				za := azp[0]
				if len(azp) > 1 {
					za = azp[r]
				}
				var sum int32
				for p, bv := range bcol {
					sum += (am[r*k+p] - za) * bv
				}
				ym[r*n+c] = sum
			}
		}
	}
	return y
}

func runMatMulInteger(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 2); err != nil {
		return err
	}
	get := func(i int) *tensor.Tensor {
		if i < len(in) {
			return in[i]
		}
		return nil
	}
	y, shape, err := intProduct(ctx, in[0], in[1], get(2), get(3))
	if err != nil {
		return err
	}
	out[0].Reset(tensor.Int32, shape)
	copy(out[0].Data.([]int32), y)
	return nil
}

// intProduct is MatMulInteger's product and output shape.
func intProduct(ctx *Context, a, b, azpT, bzpT *tensor.Tensor) ([]int32, []int, error) {
	s, err := newMatmulShape(a.Shape, b.Shape)
	if err != nil {
		return nil, nil, err
	}
	av, err := intValues(a)
	if err != nil {
		return nil, nil, fmt.Errorf("A: %w", err)
	}
	bv, err := intValues(b)
	if err != nil {
		return nil, nil, fmt.Errorf("B: %w", err)
	}
	azp, err := zeroPoints(azpT, a.DType)
	if err != nil {
		return nil, nil, err
	}
	bzp, err := zeroPoints(bzpT, b.DType)
	if err != nil {
		return nil, nil, err
	}
	if len(azp) != 1 && len(azp) != s.m || len(bzp) != 1 && len(bzp) != s.n {
		return nil, nil, fmt.Errorf("zero points of %d and %d values for a %d×%d by %d×%d product", len(azp), len(bzp), s.m, s.k, s.k, s.n)
	}
	if useIntGemm {
		y, err := matmulInt32Fast(ctx, s, av, bv, azp, bzp)
		return y, s.out, err
	}
	return matmulInt32(s, av, bv, azp, bzp), s.out, nil
}

// runQLinearMatMul computes QLinearMatMul(a, a_scale, a_zp, b, b_scale,
// b_zp, y_scale, y_zp) with per-tensor output parameters; a_scale may be
// per row and b_scale per column.
func runQLinearMatMul(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 8); err != nil {
		return err
	}
	acc, shape, err := intProduct(ctx, in[0], in[3], in[2], in[5])
	if err != nil {
		return err
	}
	var scales [3][]float64
	for i, idx := range []int{1, 4, 6} {
		v, err := floatView(in[idx])
		if err != nil {
			return fmt.Errorf("input %d: %w", idx, err)
		}
		scales[i] = v
	}
	yzp, err := zeroPoints(in[7], in[7].DType)
	if err != nil {
		return err
	}
	rq, err := newRequant(in[7].DType)
	if err != nil {
		return err
	}
	m, n := in[0].Shape[in[0].Rank()-2], in[3].Shape[in[3].Rank()-1]
	if in[0].Rank() == 1 {
		m = 1
	}
	if len(scales[2]) != 1 || len(yzp) != 1 || len(scales[0]) != 1 && len(scales[0]) != m || len(scales[1]) != 1 && len(scales[1]) != n {
		return fmt.Errorf("y_scale and y_zero_point must be scalars, a_scale per tensor or row, b_scale per tensor or column")
	}
	y := out[0]
	y.Reset(rq.dtype, shape)
	for i, a := range acc {
		r, c := i/n%m, i%n
		as, bs := scales[0][0], scales[1][0]
		if len(scales[0]) > 1 {
			as = scales[0][r]
		}
		if len(scales[1]) > 1 {
			bs = scales[1][c]
		}
		rq.store(y, i, a, as, bs, scales[2][0], yzp[0])
	}
	return nil
}
