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

// forPanels calls f for each panel of an m×k matrix packed in ap, in
// order: the panel's first row r, its height h (6 or 4) and how many of
// its rows are real, and its h·k values.
func forPanels(m, k int, ap []float32, f func(r, h, rows int, a []float32)) {
	off := 0
	for r := 0; r < m; {
		h, rows := panelAt(m - r)
		f(r, h, rows, ap[off:off+h*k])
		off += h * k
		r += rows
	}
}

// biasRows is the bias of rows [r, r+rows), or nil without a bias.
func biasRows(bias []float32, r, rows int) []float32 {
	if bias == nil {
		return nil
	}
	return bias[r : r+rows]
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
	forPanels(m, k, dst, func(r, h, rows int, panel []float32) {
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
	})
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
	// Rows, when its Stride is positive, stores C compacted: see
	// ColumnRows. It excludes Accumulate.
	Rows ColumnRows
	// Add, when not nil, is added after the bias and before the clamp,
	// laid out as C (a residual Add fused into the store): for
	// DirectConv.Mul only.
	Add []float32
}

// ColumnRows describes products whose columns are the points of a grid
// of rows Stride columns apart of which only the first Width hold
// results (a convolution's "grid space", see ConvLayout): product column
// j is grid column Col0+j, and it is stored only when (Col0+j) mod
// Stride < Width, at C index pos(Col0+j) - pos(Col0), where pos(q) is
// the number of such columns before q. The AVX-512 micro-kernels store
// that way directly, so that the result needs no Compact pass.
type ColumnRows struct {
	Stride, Width, Col0 int
}

// CompactsRows reports whether MulOffsets stores compacted rows
// (Epilogue.Rows) in its micro-kernels: with AVX-512. Without it a
// compacted product goes through a scratch tile and a Go loop, and a
// caller does better to store grid space and Compact it.
func CompactsRows() bool { return kernel6w != nil }

// Pos is the number of stored columns before grid column q: the C index
// of grid column Col0 is Pos(Col0).
func (cr ColumnRows) Pos(q int) int {
	return q/cr.Stride*cr.Width + min(q%cr.Stride, cr.Width)
}

// at is the C index of product column j.
func (cr ColumnRows) at(j int) int {
	if cr.Stride <= 0 {
		return j
	}
	return cr.Pos(cr.Col0+j) - cr.Pos(cr.Col0)
}

// mask has bit t set when product column j0+t, t < cols ≤ 32, is stored.
func (cr ColumnRows) mask(j0, cols int) uint32 {
	var m uint32
	q := cr.Col0 + j0
	x := q % cr.Stride
	for t := 0; t < cols; t++ {
		if x < cr.Width {
			m |= 1 << t
		}
		if x++; x == cr.Stride {
			x = 0
		}
	}
	return m
}

// compactRow stores the columns of src whose bit is set in mask at dst,
// one after another.
func compactRow(dst, src []float32, mask uint32) {
	j := 0
	for t, v := range src {
		if mask>>t&1 != 0 {
			dst[j] = v
			j++
		}
	}
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
	if ep.Add != nil {
		return fmt.Errorf("mul offsets: an addend is for DirectConv.Mul only")
	}
	if pa.M == 0 || n <= 0 {
		return nil
	}
	cr := ep.Rows
	if cr.Stride > 0 {
		if ep.Accumulate {
			return fmt.Errorf("mul offsets: compacted rows cannot accumulate")
		}
		if cr.Width < 1 || cr.Width > cr.Stride || cr.Col0 < 0 {
			return fmt.Errorf("mul offsets: invalid column rows %+v", cr)
		}
	} else {
		cr = ColumnRows{}
	}
	if need := (pa.M-1)*ldc + cr.at(n); len(c) < need {
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
	mulOffsets(pa.data, pa.M, pa.K, b, offs, maxOff, n, c, ldc, ep.Bias, ep.flags(), cr, s)
	return nil
}

// mulOffsets is MulOffsets without the checks; cr.Stride is 0 or cr
// says how C is compacted.
func mulOffsets(ap []float32, m, k int, b []float32, offs []int, maxOff, n int, c []float32, ldc int, bias []float32, flags int, cr ColumnRows, s *scratch) {
	j0 := 0
	// sto is how the block of cols columns at j0 is stored.
	sto := func(j0, cols int) store {
		if cr.Stride <= 0 {
			return store{}
		}
		return store{compact: true, mask: cr.mask(j0, cols)}
	}
	if kernel6w != nil && k > 0 {
		// 32-column blocks while the 32-wide reads stay inside b.
		for ; j0+nrWide <= n && j0+maxOff+nrWide <= len(b); j0 += nrWide {
			runPanelsOf(kernel6w, kernel4w, nrWide, ap, m, k, b[j0:], offs, c[cr.at(j0):], ldc, nrWide, bias, flags, nil, sto(j0, nrWide))
		}
		if cols := n - j0; cols > nr && j0+maxOff+nrWide <= len(b) {
			// More than 16 columns left: one 32-column block through
			// a scratch tile rather than two 16-column ones.
			runPanelsOf(kernel6w, kernel4w, nrWide, ap, m, k, b[j0:], offs, c[cr.at(j0):], ldc, cols, bias, flags, s.tileWide[:], sto(j0, cols))
			j0 = n
		}
	}
	if kernel6n != nil && k > 0 && cr.Stride <= 0 {
		// AVX2: the full 16-column blocks whose reads stay inside b,
		// a panel's row of up to chunk of them per call, chunk sized so
		// that their rows of B (k lines of 64 bytes per block) stay in
		// a 32 KB L1 cache for the next panel.
		blocks := min(n/nr, (len(b)-maxOff)/nr)
		chunk := max(1, 12288/(k*64))
		for jb := 0; jb < blocks; jb += chunk {
			nb, j0 := min(chunk, blocks-jb), jb*nr
			forPanels(m, k, ap, func(r, h, rows int, a []float32) {
				kern := kernel6n
				if h == 4 {
					kern = kernel4n
				}
				kern(k, a, b[j0:], offs, c[r*ldc+j0:], ldc, rows, biasRows(bias, r, rows), flags, nb)
			})
		}
		j0 = max(blocks, 0) * nr
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
		if cols <= 4 && kernel6c != nil && k > 0 && flags&flagAccumulate == 0 && cr.Stride <= 0 {
			// The last 4 or fewer columns (AVX2): column kernels, a
			// panel's rows in a register's lanes.
			runCols(ap, m, k, bb[bo:], boffs, c[j0:], ldc, cols, bias, flags, (*[4 * 8]float32)(s.tile[:4*8]))
			continue
		}
		if cols <= nr/2 && kernel6h != nil && k > 0 {
			// The last 8 or fewer columns (AVX2): an 8-column tile.
			runPanelsOf(kernel6h, kernel4h, nr/2, ap, m, k, bb[bo:], boffs, c[cr.at(j0):], ldc, cols, bias, flags, s.tile[:], sto(j0, cols))
			continue
		}
		runPanelsOf(kernel6, kernel4, nr, ap, m, k, bb[bo:], boffs, c[cr.at(j0):], ldc, cols, bias, flags, s.tile[:], sto(j0, cols))
	}
}

// runCols computes cols ≤ 4 columns of C with the column kernels,
// panel by panel, and stores them with colsStore; out holds the kernels'
// results (scratch: a local array would escape to the heap through the
// kernel function values, an allocation per call).
func runCols(ap []float32, m, k int, b []float32, offs []int, c []float32, ldc, cols int, bias []float32, flags int, out *[4 * 8]float32) {
	off := 0
	for r := 0; r < m; {
		if cols == 1 && kernel6p != nil && fullPanels4(m-r) {
			// One column: four panels at a time, for more FMA chains.
			kernel6p(k, ap[off:off+4*6*k], b, offs, out)
			for i := 0; i < 4; i++ {
				var rb []float32
				if bias != nil {
					rb = bias[r+6*i : r+6*i+6]
				}
				colsStore(out[8*i:], c[(r+6*i)*ldc:], ldc, 6, 1, rb, flags)
			}
			off += 4 * 6 * k
			r += 24
			continue
		}
		h, rows := panelAt(m - r)
		kern := kernel6c
		if h == 4 {
			kern = kernel4c
		}
		kern(k, ap[off:off+h*k], b, offs, out)
		var rb []float32
		if bias != nil {
			rb = bias[r : r+rows]
		}
		colsStore(out[:], c[r*ldc:], ldc, rows, cols, rb, flags)
		off += h * k
		r += rows
	}
}

// fullPanels4 reports whether the next four panels of a product with
// left rows left are 6-row panels of 6 rows each.
func fullPanels4(left int) bool {
	for i := 0; i < 4; i++ {
		if h, rows := panelAt(left); h != 6 || rows != 6 {
			return false
		}
		left -= 6
	}
	return true
}

// store says how runPanelsOf stores a block: as it is, or compacted
// (only the columns whose bit is set in mask, one after another).
type store struct {
	compact bool
	mask    uint32
}

// runPanels runs the micro-kernels down one 16-column block of C.
// tile is scratch for partial blocks (mrMax×16 floats).
func runPanels(ap []float32, m, k int, b []float32, offs []int, c []float32, ldc, cols int, bias []float32, flags int, tile []float32) {
	runPanelsOf(kernel6, kernel4, nr, ap, m, k, b, offs, c, ldc, cols, bias, flags, tile, store{})
}

// runPanelsWide runs the 32-column micro-kernels down one 32-column
// block of C (the same results as two runPanels blocks). A block of
// fewer columns goes through tile (mrMax×32 floats).
func runPanelsWide(ap []float32, m, k int, b []float32, offs []int, c []float32, ldc, cols int, bias []float32, flags int, tile []float32) {
	runPanelsOf(kernel6w, kernel4w, nrWide, ap, m, k, b, offs, c, ldc, cols, bias, flags, tile, store{})
}

// runPanelsOf runs the 6- and 4-row micro-kernels k6 and k4, width
// columns wide, down one block of C of cols ≤ width columns; a partial
// block goes through tile (mrMax×width floats). A compacted block goes
// to the 32-column kernels with flagCompact and its mask (they store
// compacted themselves, partial blocks too), else through tile.
func runPanelsOf(k6, k4 microKernel, width int, ap []float32, m, k int, b []float32, offs []int, c []float32, ldc, cols int, bias []float32, flags int, tile []float32, st store) {
	if st.compact && st.mask == 0 {
		return // no column of the block is stored
	}
	direct := cols == width
	if st.compact {
		// The mask leaves out the columns past cols: a partial block
		// needs no tile either.
		if direct = width == nrWide; direct {
			flags |= flagCompact | int(uint64(st.mask)<<32)
		}
	}
	forPanels(m, k, ap, func(r, h, rows int, a []float32) {
		kern := k6
		if h == 4 {
			kern = k4
		}
		rb := biasRows(bias, r, rows)
		if direct {
			kern(k, a, b, offs, c[r*ldc:], ldc, rows, rb, flags)
		} else {
			if flags&flagAccumulate != 0 {
				for i := 0; i < rows; i++ {
					copy(tile[i*width:i*width+cols], c[(r+i)*ldc:(r+i)*ldc+cols])
				}
			}
			kern(k, a, b, offs, tile, width, rows, rb, flags)
			for i := 0; i < rows; i++ {
				if st.compact {
					compactRow(c[(r+i)*ldc:], tile[i*width:i*width+cols], st.mask)
				} else {
					copy(c[(r+i)*ldc:(r+i)*ldc+cols], tile[i*width:i*width+cols])
				}
			}
		}
	})
}
