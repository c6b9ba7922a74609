package kernels

import "fmt"

// PackedB is a constant k×n right-hand matrix (such as the weights of a
// dense layer) packed once into 16-column panels, so that products with
// it skip the packing of B. It is immutable and safe for concurrent use.
type PackedB struct {
	K, N int
	data []float32 // panel j (columns 16j..16j+15) at j*K*16, row p at +p*16
}

// PackB packs the k×n matrix B, where B[p][j] is b[p*ldb+j], or
// b[j*ldb+p] when trans is true.
func PackB(k, n int, b []float32, ldb int, trans bool) (*PackedB, error) {
	if k < 0 || n < 0 {
		return nil, fmt.Errorf("pack B: negative size %d×%d", k, n)
	}
	rows, cols := k, n
	if trans {
		rows, cols = n, k
	}
	if err := checkMatrix("B", rows, cols, b, ldb); err != nil {
		return nil, err
	}
	panels := (n + nr - 1) / nr
	pb := &PackedB{K: k, N: n, data: make([]float32, panels*k*nr)}
	if k > 0 {
		packB(pb.data, k, n, b, ldb, trans, 0, 0)
	}
	return pb, nil
}

// Mul computes C = alpha·op(A)·B + beta·C for the packed B, where op(A)
// is m×K: A[i][p] is a[i*lda+p], or a[p*lda+i] when transA. As in BLAS,
// when beta is 0 C is not read.
func (pb *PackedB) Mul(transA bool, m int, alpha float32, a []float32, lda int, beta float32, c []float32, ldc int) error {
	k, n := pb.K, pb.N
	if m < 0 {
		return fmt.Errorf("packed B: negative size m=%d", m)
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	if err := checkMatrix("A", ar, ac, a, lda); err != nil {
		return err
	}
	if err := checkMatrix("C", m, n, c, ldc); err != nil {
		return err
	}
	if m == 0 || n == 0 {
		return nil
	}
	if k == 0 || beta != 0 && beta != 1 {
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			if beta == 0 {
				clear(row)
			} else {
				scale(row, beta)
			}
		}
		if k == 0 {
			return nil
		}
	}
	s := getScratch()
	defer putScratch(s)
	s.a = grow(s.a, packedSize(min(mc, m), min(kc, k)))
	for p0 := 0; p0 < k; p0 += kc {
		kcb := min(kc, k-p0)
		flags := 0
		if beta != 0 || p0 > 0 {
			flags = flagAccumulate
		}
		offs := panelOffsets(kcb, s)
		for i0 := 0; i0 < m; i0 += mc {
			mcb := min(mc, m-i0)
			ablk := a[i0*lda+p0:]
			if transA {
				ablk = a[p0*lda+i0:]
			}
			packA(s.a, mcb, kcb, ablk, lda, transA, alpha)
			for jp := 0; jp < n; jp += nr {
				cols := min(nr, n-jp)
				panel := pb.data[(jp/nr)*k*nr+p0*nr:]
				runPanels(s.a, mcb, kcb, panel, offs, c[i0*ldc+jp:], ldc, cols, nil, flags, s.tile[:])
			}
		}
	}
	return nil
}
