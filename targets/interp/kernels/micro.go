package kernels

import "math/bits"

// Tile geometry of the micro-kernels: a tile has up to mrMax rows and
// exactly nr columns; A is packed in panels of 6 or 4 rows.
const (
	nr    = 16
	mrMax = 6
	// nrWide is the width of the 32-column tiles of the AVX-512
	// kernels, which compute bit for bit what two 16-column tiles do.
	nrWide = 2 * nr
)

// Flags of a micro-kernel call, applied in this order after the dot
// products: add the existing C, add a per-row bias, clamp at zero.
const (
	flagAccumulate = 1 << iota
	flagBias
	flagReLU
	// flagCompact (32-column kernels only, never with flagAccumulate):
	// bits 32 to 63 of the flags are a mask of the tile's columns, and
	// each row stores only the columns of the mask, one after another
	// from c[r*ldc] (see ColumnRows).
	flagCompact
	// flagAdd (masked kernels only): after the bias, before the clamp,
	// add add[r*ldc+j], an addend laid out as C (with flagCompact, whose
	// mask is then the tile's first columns, for those columns).
	flagAdd
	// flagFaultMasks (16-column masked kernels only): B's rows may
	// leave b at the masked-out columns, so the kernel must read them
	// with loads that do not fault there (see microv_amd64.s).
	flagFaultMasks
	// flagPacked (16-column masked kernels only): b holds packed panels
	// (packMaskedVGo's layout: block after block, each k rows of 16
	// floats, the masked-out columns +0) and col, steps and masks are
	// not read.
	flagPacked
	// flagStorePacked (16-column masked kernels only): the masked rows
	// of B the kernel reads are also written to pack, as the packed
	// panels flagPacked reads.
	flagStorePacked
)

// microKernel computes one tile: for r < mr and j < 16,
//
//	t = sum over p < k of a[p*h+r] * b[offs[p]+j]
//	t += c[r*ldc+j]  (flagAccumulate)
//	t += bias[r]     (flagBias)
//	t = max(t, 0)    (flagReLU)
//	c[r*ldc+j] = t
//
// where h is the panel height of the kernel (6 or 4) and mr <= h. The
// caller guarantees that every b[offs[p] : offs[p]+16] and every c row
// of the tile is in range.
type microKernel func(k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags int)

// kernelGo is the pure-Go micro-kernel for panels of height h. It
// computes each row in two halves of 8 columns held in scalar
// accumulators (registers), with one bounds check per step.
func kernelGo(h, k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags int) {
	offs = offs[:k]
	for r := 0; r < mr; r++ {
		dst := c[r*ldc : r*ldc+nr]
		for half := 0; half < nr; half += 8 {
			halfRowGo(h, r, a, b, offs, half, (*[8]float32)(dst[half:half+8]), bias, flags)
		}
	}
}

// halfRowGo computes 8 columns of row r of a tile, from column half of
// the rows of B at offs: the sums in 8 scalar accumulators, then the
// flags, into d.
func halfRowGo(h, r int, a, b []float32, offs []int, half int, d *[8]float32, bias []float32, flags int) {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	ai := r
	for _, o := range offs {
		av := a[ai]
		ai += h
		bp := (*[8]float32)(b[o+half : o+half+8])
		s0 += av * bp[0]
		s1 += av * bp[1]
		s2 += av * bp[2]
		s3 += av * bp[3]
		s4 += av * bp[4]
		s5 += av * bp[5]
		s6 += av * bp[6]
		s7 += av * bp[7]
	}
	t := [8]float32{s0, s1, s2, s3, s4, s5, s6, s7}
	for j := range t {
		v := t[j]
		if flags&flagAccumulate != 0 {
			v += d[j]
		}
		if flags&flagBias != 0 {
			v += bias[r]
		}
		if flags&flagReLU != 0 && v < 0 {
			v = 0
		}
		d[j] = v
	}
}

// blocksKernel is a microKernel over blocks consecutive 16-column blocks
// of B and C: block i is the microKernel's tile with b and c advanced by
// 16i floats (AVX2, for a panel's row of blocks in one call).
type blocksKernel func(k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags, blocks int)

// kernelBlocksGo is the Go twin of the blocks kernels.
func kernelBlocksGo(h, k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags, blocks int) {
	for i := 0; i < blocks; i++ {
		var bi []float32
		if k > 0 {
			bi = b[i*nr:]
		}
		kernelGo(h, k, a, bi, offs, c[i*nr:], ldc, mr, bias, flags)
	}
}

func kernel6NGo(k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags, blocks int) {
	kernelBlocksGo(6, k, a, b, offs, c, ldc, mr, bias, flags, blocks)
}

func kernel4NGo(k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags, blocks int) {
	kernelBlocksGo(4, k, a, b, offs, c, ldc, mr, bias, flags, blocks)
}

// colsKernel computes the raw sums of a panel's rows over 4 columns of
// B, transposed: out[8t+r] = sum over p < k of a[p*h+r] * b[offs[p]+t]
// for r < h and t < 4, one accumulator from +0 with the steps in order
// (kernel6x16's sums); rows h to 7 of each column are not results. The
// caller guarantees b[offs[p] : offs[p]+4] in range.
type colsKernel func(k int, a, b []float32, offs []int, out *[4 * 8]float32)

// kernelColsGo is the Go twin of the column kernels: the sums as
// kernelGo forms them.
func kernelColsGo(h, k int, a, b []float32, offs []int, out *[4 * 8]float32) {
	offs = offs[:k]
	for t := 0; t < 4; t++ {
		for r := 0; r < h; r++ {
			var s float32
			ai := r
			for _, o := range offs {
				s += a[ai] * b[o+t]
				ai += h
			}
			out[8*t+r] = s
		}
	}
}

func kernel6CGo(k int, a, b []float32, offs []int, out *[4 * 8]float32) {
	kernelColsGo(6, k, a, b, offs, out)
}

func kernel4CGo(k int, a, b []float32, offs []int, out *[4 * 8]float32) {
	kernelColsGo(4, k, a, b, offs, out)
}

// panelsKernel computes column 0 of four consecutive 6-row panels (a:
// 6k floats each): out[8i+r] = sum over p < k of a[6k·i + 6p + r] *
// b[offs[p]], the column kernels' sums.
type panelsKernel func(k int, a, b []float32, offs []int, out *[4 * 8]float32)

// kernel6P4Go is the Go twin of the four-panel kernel.
func kernel6P4Go(k int, a, b []float32, offs []int, out *[4 * 8]float32) {
	for i := 0; i < 4; i++ {
		var o [4 * 8]float32
		kernelColsGo(6, k, a[6*k*i:], b, offs, &o)
		copy(out[8*i:8*i+6], o[:6])
	}
}

// colsStore stores cols ≤ 4 columns of rows ≤ 8 rows of a column
// kernel's sums in c (rows ldc apart) with the bias and clamp of flags
// (flagBias, flagReLU; not flagAccumulate), the operations of the
// micro-kernels' epilogue: t + bias[r], then t unless 0 > t.
func colsStore(out []float32, c []float32, ldc, rows, cols int, bias []float32, flags int) {
	for r := 0; r < rows; r++ {
		row := c[r*ldc : r*ldc+cols]
		for t := range row {
			v := out[8*t+r]
			if flags&flagBias != 0 {
				v += bias[r]
			}
			if flags&flagReLU != 0 && 0 > v {
				v = 0
			}
			row[t] = v
		}
	}
}

// kernelHalfGo is the Go twin of the 8-column micro-kernels (AVX2): the
// 16-column kernel's first half (columns 8 to 15 are neither read nor
// written).
func kernelHalfGo(h, k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags int) {
	offs = offs[:k]
	for r := 0; r < mr; r++ {
		halfRowGo(h, r, a, b, offs, 0, (*[8]float32)(c[r*ldc:r*ldc+8]), bias, flags)
	}
}

func kernel6HGo(k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags int) {
	kernelHalfGo(6, k, a, b, offs, c, ldc, mr, bias, flags)
}

func kernel4HGo(k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags int) {
	kernelHalfGo(4, k, a, b, offs, c, ldc, mr, bias, flags)
}

func kernel6Go(k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags int) {
	kernelGo(6, k, a, b, offs, c, ldc, mr, bias, flags)
}

func kernel4Go(k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags int) {
	kernelGo(4, k, a, b, offs, c, ldc, mr, bias, flags)
}

// kernelWideGo is the Go twin of the 32-column micro-kernels: the
// 16-column kernel on each half of the tile.
func kernelWideGo(h, k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags int) {
	if flags&flagCompact != 0 {
		mask := uint32(uint64(flags) >> 32)
		var tile [mrMax * nrWide]float32
		kernelWideGo(h, k, a, b, offs, tile[:], nrWide, mr, bias, flags&(flagBias|flagReLU))
		for r := 0; r < mr; r++ {
			compactRow(c[r*ldc:], tile[r*nrWide:(r+1)*nrWide], mask)
		}
		return
	}
	kernelGo(h, k, a, b, offs, c, ldc, mr, bias, flags)
	var hi []float32
	if k > 0 {
		hi = b[nr:]
	}
	kernelGo(h, k, a, hi, offs, c[nr:], ldc, mr, bias, flags)
}

func kernel6WGo(k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags int) {
	kernelWideGo(6, k, a, b, offs, c, ldc, mr, bias, flags)
}

func kernel4WGo(k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags int) {
	kernelWideGo(4, k, a, b, offs, c, ldc, mr, bias, flags)
}

// maskedKernel is a 32-column micro-kernel whose rows of B are read
// under column masks (DirectConv): step p reads B[p][j] =
// b[col+steps[2p]+j] when bit j of masks[steps[2p+1]] is set, else +0;
// the reads it leaves out are never made, so col+steps[2p] may point
// outside b. Everything else
// is as for microKernel, flagCompact included, and flagAdd adds add.
type maskedKernel func(k int, a, b []float32, col int, steps []int, c []float32, ldc, mr int, bias []float32, flags int, masks []uint32, add []float32)

// kernelMaskedGo is the Go twin of the masked micro-kernels: the
// 32-column Go kernel on a copy of the masked rows of B.
func kernelMaskedGo(h, k int, a, b []float32, col int, steps []int, c []float32, ldc, mr int, bias []float32, flags int, masks []uint32, add []float32) {
	if flags&flagAdd != 0 {
		// The product and bias into a tile, then the addend, the clamp
		// and the (compacted) store.
		var tile [mrMax * nrWide]float32
		kernelMaskedGo(h, k, a, b, col, steps, tile[:], nrWide, mr, bias, flags&flagBias, masks, nil)
		cols := nrWide
		if flags&flagCompact != 0 {
			cols = bits.TrailingZeros32(^uint32(uint64(flags) >> 32))
		}
		addStore(c, ldc, tile[:], nrWide, add, mr, cols, flags&flagReLU != 0)
		return
	}
	panel := make([]float32, k*nrWide+nrWide)
	offs := make([]int, max(k, 1))
	for p := 0; p < k; p++ {
		offs[p] = p * nrWide
		m := masks[steps[2*p+1]]
		for j := 0; j < nrWide; j++ {
			if m>>j&1 != 0 {
				panel[p*nrWide+j] = b[col+steps[2*p]+j]
			}
		}
	}
	kernelWideGo(h, k, a, panel, offs, c, ldc, mr, bias, flags)
}

// addStore is the masked Go twins' store with an addend: the first cols
// columns of mr rows of tile (rows tw apart) plus add, clamped at 0 with
// relu, into c (add and c rows ldc apart).
func addStore(c []float32, ldc int, tile []float32, tw int, add []float32, mr, cols int, relu bool) {
	for r := 0; r < mr; r++ {
		for j := 0; j < cols; j++ {
			v := tile[r*tw+j] + add[r*ldc+j]
			if relu && v < 0 {
				v = 0
			}
			c[r*ldc+j] = v
		}
	}
}

func kernel6MGo(k int, a, b []float32, col int, steps []int, c []float32, ldc, mr int, bias []float32, flags int, masks []uint32, add []float32) {
	kernelMaskedGo(6, k, a, b, col, steps, c, ldc, mr, bias, flags, masks, add)
}

func kernel4MGo(k int, a, b []float32, col int, steps []int, c []float32, ldc, mr int, bias []float32, flags int, masks []uint32, add []float32) {
	kernelMaskedGo(4, k, a, b, col, steps, c, ldc, mr, bias, flags, masks, add)
}

// maskedKernelV is a 16-column micro-kernel whose rows of B are read
// under column masks (DirectConv without AVX-512): step p, packed in one
// int as steps[p] = o<<16 | 64·t (o the row's offset, t its tap, below
// 1024), reads B[p][j] = b[col+o+j] when masks[16t+j] is not zero (all
// bits set), else +0; the reads it leaves out are never made, so col+o
// may point outside b. Everything else is as for microKernel, without
// flagAccumulate; flagAdd adds add. (One int per step: the kernel's
// loads, not its FMAs, are its bound on Zen 3.)
//
// It computes blocks consecutive 16-column blocks: block i with col, c
// and add advanced by 16i and its masks the i-th of blocks equal parts
// of masks.
type maskedKernelV func(k int, a, b []float32, col int, steps []int, c []float32, ldc, mr int, bias []float32, flags int, masks []int32, add []float32, blocks int, pack []float32)

// packStepV packs a step of a maskedKernelV.
func packStepV(off, tap int) int { return off<<16 | tap*64 }

// kernelMaskedVGo is the Go twin of the 16-column masked micro-kernels:
// for each block, the 16-column Go kernel on a copy of the masked rows
// of B.
func kernelMaskedVGo(h, k int, a, b []float32, col int, steps []int, c []float32, ldc, mr int, bias []float32, flags int, masks []int32, add []float32, blocks int, pack []float32) {
	if flags&flagStorePacked != 0 {
		packMaskedVGo(k, b, col, steps, masks, pack, blocks)
		flags &^= flagStorePacked
	}
	if blocks > 1 {
		per := len(masks) / blocks
		for i := 0; i < blocks; i++ {
			var ai []float32
			if flags&flagAdd != 0 {
				ai = add[i*nr:]
			}
			bi, ci := b, col+i*nr
			if flags&flagPacked != 0 {
				bi, ci = b[i*k*nr:], 0
			}
			kernelMaskedVGo(h, k, a, bi, ci, steps, c[i*nr:], ldc, mr, bias, flags, masks[i*per:(i+1)*per], ai, 1, nil)
		}
		return
	}
	if flags&flagAdd != 0 {
		// The product and bias into a tile, then the addend, the clamp
		// and the store.
		var tile [mrMax * nr]float32
		kernelMaskedVGo(h, k, a, b, col, steps, tile[:], nr, mr, bias, flags&(flagBias|flagPacked), masks, nil, 1, nil)
		addStore(c, ldc, tile[:], nr, add, mr, nr, flags&flagReLU != 0)
		return
	}
	panel := b
	if flags&flagPacked == 0 {
		panel = make([]float32, k*nr+nr)
		packMaskedVGo(k, b, col, steps, masks, panel, 1)
	}
	offs := make([]int, max(k, 1))
	for p := range k {
		offs[p] = p * nr
	}
	kernelGo(h, k, a, panel, offs, c, ldc, mr, bias, flags)
}

// packMaskedVGo writes the masked rows of B that a 16-column masked
// kernel reads for blocks consecutive blocks from column col of b, k
// steps each, as the packed panels of flagPacked: block i's step p at
// dst[(i*k+p)*16:], the columns its tap's mask leaves out +0: what the
// masked kernels store with flagStorePacked.
func packMaskedVGo(k int, b []float32, col int, steps []int, masks []int32, dst []float32, blocks int) {
	if blocks < 1 {
		return
	}
	per := len(masks) / blocks
	for i := 0; i < blocks; i++ {
		bm, out := masks[i*per:], dst[i*k*nr:]
		for p := 0; p < k; p++ {
			o, t := steps[p]>>16, steps[p]&0xFFFF/64
			m, row := bm[t*nr:t*nr+nr], out[p*nr:p*nr+nr]
			for j := range row {
				row[j] = 0
				if m[j] != 0 {
					row[j] = b[col+i*nr+o+j]
				}
			}
		}
	}
}

func kernel6VGo(k int, a, b []float32, col int, steps []int, c []float32, ldc, mr int, bias []float32, flags int, masks []int32, add []float32, blocks int, pack []float32) {
	kernelMaskedVGo(6, k, a, b, col, steps, c, ldc, mr, bias, flags, masks, add, blocks, pack)
}

func kernel4VGo(k int, a, b []float32, col int, steps []int, c []float32, ldc, mr int, bias []float32, flags int, masks []int32, add []float32, blocks int, pack []float32) {
	kernelMaskedVGo(4, k, a, b, col, steps, c, ldc, mr, bias, flags, masks, add, blocks, pack)
}
