package kernels

import "fmt"

// panelAt returns the height (6 or 4) of the A panel that covers the
// next rows of a matrix with left rows still to pack, and how many of
// its rows are real. Mixing 6- and 4-row panels covers every even row
// count exactly, so small channel counts (16, 32, 64) waste nothing.
func panelAt(left int) (h, rows int) {
	switch {
	case left <= 4:
		return 4, left
	case left == 5:
		return 6, 5
	case left == 7 || left == 8:
		return 4, 4
	default:
		return 6, 6
	}
}

// packedSize is the number of floats the panels of an m×k matrix take.
func packedSize(m, k int) int {
	size := 0
	for r := 0; r < m; {
		h, rows := panelAt(m - r)
		size += h * k
		r += rows
	}
	return size
}

// packA writes the m×k matrix alpha·A (A[i][p] = a[i*lda+p], or
// a[p*lda+i] when trans) into dst as panels: panel after panel, each
// k steps of h values, padded rows zero.
func packA(dst []float32, m, k int, a []float32, lda int, trans bool, alpha float32) {
	off := 0
	for r := 0; r < m; {
		h, rows := panelAt(m - r)
		panel := dst[off : off+h*k]
		if rows < h {
			clear(panel)
		}
		if trans {
			// A[r+i][p] = a[p*lda+r+i]: each step is a run of a.
			for p := 0; p < k; p++ {
				src := a[p*lda+r : p*lda+r+rows]
				col := panel[p*h : p*h+rows]
				for i, v := range src {
					col[i] = alpha * v
				}
			}
		} else {
			// Row by row: sequential reads, writes h apart.
			for i := 0; i < rows; i++ {
				src := a[(r+i)*lda : (r+i)*lda+k]
				if alpha == 1 {
					for p, v := range src {
						panel[p*h+i] = v
					}
				} else {
					for p, v := range src {
						panel[p*h+i] = alpha * v
					}
				}
			}
		}
		off += h * k
		r += rows
	}
}

// PackedA is a constant m×k left-hand matrix (such as convolution
// weights, one row per output channel) packed once for the
// micro-kernels. It is immutable and safe for concurrent use.
type PackedA struct {
	M, K int
	data []float32
}

// PackA packs the m×k matrix alpha·A, where A[i][p] is a[i*lda+p], or
// a[p*lda+i] when trans is true.
func PackA(m, k int, a []float32, lda int, trans bool, alpha float32) (*PackedA, error) {
	if m < 0 || k < 0 {
		return nil, fmt.Errorf("pack A: negative size %d×%d", m, k)
	}
	if m > 0 && k > 0 {
		need := (m-1)*lda + k
		if trans {
			need = (k-1)*lda + m
		}
		if len(a) < need {
			return nil, fmt.Errorf("pack A: %d×%d matrix with leading dimension %d needs %d elements, have %d", m, k, lda, need, len(a))
		}
	}
	pa := &PackedA{M: m, K: k, data: make([]float32, packedSize(m, k))}
	packA(pa.data, m, k, a, lda, trans, alpha)
	return pa, nil
}

// Epilogue says what happens to a product tile before it is stored.
type Epilogue struct {
	// Accumulate adds the product to C instead of overwriting C.
	Accumulate bool
	// Bias, when not nil, holds one value per row of C to add.
	Bias []float32
	// ReLU clamps the result at zero.
	ReLU bool
}

func (e Epilogue) flags() int {
	f := 0
	if e.Accumulate {
		f |= flagAccumulate
	}
	if e.Bias != nil {
		f |= flagBias
	}
	if e.ReLU {
		f |= flagReLU
	}
	return f
}

// MulOffsets computes C = A·B for the packed A and a B given implicitly
// by row offsets: B[p][j] = b[offs[p]+j], for j < n. This lets a
// convolution read its input in place (implicit im2col). C[i][j] is
// c[i*ldc+j]; ep says how the product is combined and stored.
//
// Columns are computed in blocks of 16; reads of b past column n (up to
// the next multiple of 16) must be in range or the block is copied into
// a zero-padded panel first, so b only needs b[offs[p]+j] for j < n.
func (pa *PackedA) MulOffsets(b []float32, offs []int, n int, c []float32, ldc int, ep Epilogue) error {
	if len(offs) != pa.K {
		return fmt.Errorf("mul offsets: %d offsets for %d rows of B", len(offs), pa.K)
	}
	if ep.Bias != nil && len(ep.Bias) < pa.M {
		return fmt.Errorf("mul offsets: bias has %d values for %d rows", len(ep.Bias), pa.M)
	}
	if pa.M == 0 || n <= 0 {
		return nil
	}
	if need := (pa.M-1)*ldc + n; len(c) < need {
		return fmt.Errorf("mul offsets: C needs %d elements, have %d", need, len(c))
	}
	maxOff, minOff := 0, 0
	for i, o := range offs {
		if i == 0 || o > maxOff {
			maxOff = o
		}
		if i == 0 || o < minOff {
			minOff = o
		}
	}
	if pa.K > 0 && (minOff < 0 || maxOff+n > len(b)) {
		return fmt.Errorf("mul offsets: B offsets [%d, %d] + %d columns exceed %d elements", minOff, maxOff, n, len(b))
	}
	s := getScratch()
	defer putScratch(s)
	mulOffsets(pa.data, pa.M, pa.K, b, offs, maxOff, n, c, ldc, ep.Bias, ep.flags(), s)
	return nil
}

// mulOffsets is MulOffsets without the checks.
func mulOffsets(ap []float32, m, k int, b []float32, offs []int, maxOff, n int, c []float32, ldc int, bias []float32, flags int, s *scratch) {
	j0 := 0
	if kernel6w != nil && k > 0 {
		// 32-column blocks while the 32-wide reads stay inside b.
		for ; j0+nrWide <= n && j0+maxOff+nrWide <= len(b); j0 += nrWide {
			runPanelsWide(ap, m, k, b[j0:], offs, c[j0:], ldc, nrWide, bias, flags, nil)
		}
		if cols := n - j0; cols > nr && j0+maxOff+nrWide <= len(b) {
			// More than 16 columns left: one 32-column block through
			// a scratch tile rather than two 16-column ones.
			runPanelsWide(ap, m, k, b[j0:], offs, c[j0:], ldc, cols, bias, flags, s.tileWide[:])
			j0 = n
		}
	}
	for ; j0 < n; j0 += nr {
		cols := min(nr, n-j0)
		bb, bo, boffs := b, j0, offs
		if k > 0 && j0+maxOff+nr > len(b) {
			// The 16-wide reads would leave b: copy the block.
			panel := s.panel(k)
			for p := 0; p < k; p++ {
				row := panel[p*nr : p*nr+nr]
				src := offs[p] + j0
				copy(row, b[src:src+cols])
				clear(row[cols:])
			}
			bb, bo, boffs = panel, 0, panelOffsets(k, s)
		}
		runPanels(ap, m, k, bb[bo:], boffs, c[j0:], ldc, cols, bias, flags, s.tile[:])
	}
}

// runPanels runs the micro-kernels down one 16-column block of C.
// tile is scratch for partial blocks (mrMax×16 floats).
func runPanels(ap []float32, m, k int, b []float32, offs []int, c []float32, ldc, cols int, bias []float32, flags int, tile []float32) {
	runPanelsOf(kernel6, kernel4, nr, ap, m, k, b, offs, c, ldc, cols, bias, flags, tile)
}

// runPanelsWide runs the 32-column micro-kernels down one 32-column
// block of C (the same results as two runPanels blocks). A block of
// fewer columns goes through tile (mrMax×32 floats).
func runPanelsWide(ap []float32, m, k int, b []float32, offs []int, c []float32, ldc, cols int, bias []float32, flags int, tile []float32) {
	runPanelsOf(kernel6w, kernel4w, nrWide, ap, m, k, b, offs, c, ldc, cols, bias, flags, tile)
}

// runPanelsOf runs the 6- and 4-row micro-kernels k6 and k4, width
// columns wide, down one block of C of cols ≤ width columns; a partial
// block goes through tile (mrMax×width floats).
func runPanelsOf(k6, k4 microKernel, width int, ap []float32, m, k int, b []float32, offs []int, c []float32, ldc, cols int, bias []float32, flags int, tile []float32) {
	off := 0
	for r := 0; r < m; {
		h, rows := panelAt(m - r)
		kern := k6
		if h == 4 {
			kern = k4
		}
		a := ap[off : off+h*k]
		var rb []float32
		if bias != nil {
			rb = bias[r : r+rows]
		}
		if cols == width {
			kern(k, a, b, offs, c[r*ldc:], ldc, rows, rb, flags)
		} else {
			if flags&flagAccumulate != 0 {
				for i := 0; i < rows; i++ {
					copy(tile[i*width:i*width+cols], c[(r+i)*ldc:(r+i)*ldc+cols])
				}
			}
			kern(k, a, b, offs, tile, width, rows, rb, flags)
			for i := 0; i < rows; i++ {
				copy(c[(r+i)*ldc:(r+i)*ldc+cols], tile[i*width:i*width+cols])
			}
		}
		off += h * k
		r += rows
	}
}
