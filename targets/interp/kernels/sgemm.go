package kernels

import "fmt"

// Cache blocking of Sgemm: a kc×nc block of B is packed (to stay in
// L2), an mc×kc block of A is packed (L2), and each 16-column panel of B
// (kc×16, L1) is reused across the rows of the A block.
const (
	kc = 256
	mc = 120
	nc = 512
)

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float32
// matrices, where op(A) is m×k and op(B) is k×n. op(X) is X, or its
// transpose when the trans flag is set: A is m×k (lda >= k) or k×m
// (lda >= m), B is k×n (ldb >= n) or n×k (ldb >= k), C is m×n (ldc >=
// n). As in BLAS, when beta is 0 C is not read (NaNs in it vanish).
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) error {
	return SgemmEpilogue(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil, false)
}

// SgemmEpilogue is Sgemm that also adds bias[i] to every row i of the
// result (when bias is not nil) and then clamps at zero (when relu).
func SgemmEpilogue(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32, relu bool) error {
	if err := checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc); err != nil {
		return err
	}
	if bias != nil && len(bias) < m {
		return fmt.Errorf("sgemm: bias has %d values for %d rows", len(bias), m)
	}
	if m == 0 || n == 0 {
		return nil
	}
	s := getScratch()
	defer putScratch(s)
	sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, relu, s)
	return nil
}

func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) error {
	if m < 0 || n < 0 || k < 0 {
		return fmt.Errorf("sgemm: negative size m=%d n=%d k=%d", m, n, k)
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if err := checkMatrix("A", ar, ac, a, lda); err != nil {
		return err
	}
	if err := checkMatrix("B", br, bc, b, ldb); err != nil {
		return err
	}
	return checkMatrix("C", m, n, c, ldc)
}

// checkMatrix checks that a rows×cols matrix with leading dimension ld
// fits in buf.
func checkMatrix(name string, rows, cols int, buf []float32, ld int) error {
	if rows == 0 || cols == 0 {
		return nil
	}
	if ld < cols {
		return fmt.Errorf("sgemm: leading dimension of %s is %d, less than %d columns", name, ld, cols)
	}
	if n := (rows-1)*ld + cols; len(buf) < n {
		return fmt.Errorf("sgemm: %s is %d×%d (leading dimension %d), needs %d elements, has %d", name, rows, cols, ld, n, len(buf))
	}
	return nil
}

// sgemm is Sgemm without the checks, on non-empty C.
func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32, relu bool, s *scratch) {
	if k == 0 {
		// The product is empty: C = beta·C, then the epilogue.
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			if beta == 0 {
				clear(row)
			} else if beta != 1 {
				scale(row, beta)
			}
		}
		epilogueOnly(m, n, c, ldc, bias, relu)
		return
	}
	accumulate := beta != 0
	if beta != 0 && beta != 1 {
		for i := 0; i < m; i++ {
			scale(c[i*ldc:i*ldc+n], beta)
		}
	}
	s.b = grow(s.b, kc*((min(nc, n)+nr-1)/nr*nr))
	s.a = grow(s.a, packedSize(min(mc, m), min(kc, k)))
	for j0 := 0; j0 < n; j0 += nc {
		ncb := min(nc, n-j0)
		for p0 := 0; p0 < k; p0 += kc {
			kcb := min(kc, k-p0)
			packB(s.b, kcb, ncb, b, ldb, transB, p0, j0)
			flags := 0
			if accumulate || p0 > 0 {
				flags |= flagAccumulate
			}
			last := p0+kcb == k
			if last && bias != nil {
				flags |= flagBias
			}
			if last && relu {
				flags |= flagReLU
			}
			offs := panelOffsets(kcb, s)
			for i0 := 0; i0 < m; i0 += mc {
				mcb := min(mc, m-i0)
				var ablk []float32
				if transA {
					ablk = a[p0*lda+i0:]
				} else {
					ablk = a[i0*lda+p0:]
				}
				packA(s.a, mcb, kcb, ablk, lda, transA, alpha)
				var rb []float32
				if flags&flagBias != 0 {
					rb = bias[i0 : i0+mcb]
				}
				for jp := 0; jp < ncb; jp += nr {
					cols := min(nr, ncb-jp)
					panel := s.b[jp*kcb : jp*kcb+nr*kcb]
					runPanels(s.a, mcb, kcb, panel, offs, c[i0*ldc+j0+jp:], ldc, cols, rb, flags, s.tile[:])
				}
			}
		}
	}
}

// packB writes the kcb×ncb block of op(B) at (p0, j0) into dst as
// 16-column panels (kcb×16 each, zero-padded past ncb).
func packB(dst []float32, kcb, ncb int, b []float32, ldb int, trans bool, p0, j0 int) {
	for jp := 0; jp < ncb; jp += nr {
		cols := min(nr, ncb-jp)
		panel := dst[jp*kcb : jp*kcb+nr*kcb]
		if !trans {
			if cols == nr {
				copyRows(panel, nr, b[p0*ldb+j0+jp:], ldb, kcb, nr)
				continue
			}
			for p := 0; p < kcb; p++ {
				src := (p0+p)*ldb + j0 + jp
				row := panel[p*nr : p*nr+nr]
				copy(row, b[src:src+cols])
				clear(row[cols:])
			}
			continue
		}
		if cols < nr {
			clear(panel)
		}
		// Column by column of the panel: sequential reads of B's rows.
		for j := 0; j < cols; j++ {
			src := b[(j0+jp+j)*ldb+p0 : (j0+jp+j)*ldb+p0+kcb]
			for p, v := range src {
				panel[p*nr+j] = v
			}
		}
	}
}

// epilogueOnly adds the bias and applies ReLU to C in place.
func epilogueOnly(m, n int, c []float32, ldc int, bias []float32, relu bool) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if bias != nil {
			for j := range row {
				row[j] += bias[i]
			}
		}
		if relu {
			for j := range row {
				row[j] = max(row[j], 0)
			}
		}
	}
}

func scale(x []float32, f float32) {
	for i := range x {
		x[i] *= f
	}
}
