package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
)

// QModel is the arithmetic of an integer dot product of unsigned 8-bit
// activations with signed 8-bit weights.
type QModel uint8

const (
	// QExact accumulates every product in int32, as VPDPBUSD (AVX-512
	// VNNI, AVX-VNNI) does.
	QExact QModel = iota
	// QSaturating sums the products of adjacent pairs (k, k+1), k even,
	// into int16 with saturation before widening to int32, as
	// VPMADDUBSW followed by VPMADDWD does on AVX2 CPUs without VNNI.
	QSaturating
)

// String names the model by the instruction set it stands for.
func (m QModel) String() string {
	switch m {
	case QExact:
		return "vnni"
	case QSaturating:
		return "avx2"
	}
	return fmt.Sprintf("QModel(%d)", uint8(m))
}

// qKernel is the kernel, and with it the weight layout, that computes a
// QPackedB's model.
type qKernel uint8

const (
	// kernPairs sums adjacent pairs of u8·s8 products into int16 with
	// saturation (VPMADDUBSW, VPMADDWD): the saturating model, and the
	// exact one when no pair of weights can overflow. Layout b8.
	kernPairs qKernel = iota
	// kernQuad adds groups of four u8·s8 products exactly into int32
	// (VPDPBUSD, AVX-512 VNNI). Layout b8.
	kernQuad
	// kernWide multiplies zero-extended activations with int16 weights
	// (VPMADDWD): exact on AVX2. Layout b16.
	kernWide
)

// Tile sizes of the integer micro-kernel: qMR rows (output pixels) by
// qNR columns (output channels), over groups of qKG reduction steps.
const (
	qMR = 4
	qNR = 16
	qKG = 4
)

// QPackedB is a constant matrix of int8 weights, M output channels by K
// reduction steps, packed once for one QModel. The reduction is padded
// with zero weights to a multiple of 4 and the channels to a multiple of
// 16. It is immutable and safe for concurrent use.
type QPackedB struct {
	// M and K are the logical sizes; KP is K rounded up to a multiple of 4.
	M, K, KP int
	Model    QModel
	// kern is the kernel that computes Model. The exact model runs on
	// VPDPBUSD where the CPU has AVX-512 VNNI; elsewhere the saturating
	// kernel serves it when no pair of weights can overflow int16
	// (|w0|+|w1| <= 128 on the positive and on the negative side, as with
	// 7-bit weights), its results being then exact, and the int16-weight
	// kernel otherwise.
	kern qKernel
	// ColSum[m] is the sum of channel m's weights, for zero-point
	// corrections.
	ColSum []int32
	// b8: block j (channels 16j..16j+15) at j*KP*16; reduction group g at
	// +g*64, channel c at +c*4, step e at +e (kernPairs, kernQuad).
	b8 []int8
	// b8i: the last block's weights interleaved for the one-block
	// VPDPBUSD kernel (kernQuad, an odd number of blocks, KP a multiple
	// of 8): pair of groups p at p*128, channel c < 8 at +c*8, c >= 8 at
	// +64+(c-8)*8, the first group's 4 steps then the second's.
	b8i []int8
	// b16: block j at j*KP*16; group g at +g*64, pair p (steps 2p, 2p+1)
	// at +p*32, channel c at +c*2, step e at +e (kernWide, weights
	// widened to int16 once).
	b16 []int16
}

// Blocks is the number of 16-channel blocks.
func (b *QPackedB) Blocks() int { return (b.M + qNR - 1) / qNR }

// PackQB packs the weights w[m*ldw+k] (m < M, k < K) for model.
func PackQB(w []int8, M, K, ldw int, model QModel) (*QPackedB, error) {
	if M < 0 || K < 0 || ldw < K {
		return nil, fmt.Errorf("pack int8 weights: bad size %d×%d (ld %d)", M, K, ldw)
	}
	if M > 0 && K > 0 && len(w) < (M-1)*ldw+K {
		return nil, fmt.Errorf("pack int8 weights: %d values for %d×%d (ld %d)", len(w), M, K, ldw)
	}
	kp := (K + qKG - 1) / qKG * qKG
	p := &QPackedB{M: M, K: K, KP: kp, Model: model, ColSum: make([]int32, M)}
	switch {
	case model == QSaturating:
		p.kern = kernPairs
	case model != QExact:
		return nil, fmt.Errorf("pack int8 weights: unknown model %d", model)
	case useQuad:
		p.kern = kernQuad
	case pairsFit(w, M, K, ldw):
		p.kern = kernPairs
	default:
		p.kern = kernWide
	}
	blocks := p.Blocks()
	if p.kern == kernWide {
		p.b16 = make([]int16, blocks*kp*qNR)
	} else {
		p.b8 = make([]int8, blocks*kp*qNR)
	}
	for m := 0; m < M; m++ {
		j, c := m/qNR, m%qNR
		var sum int32
		for k := 0; k < K; k++ {
			v := w[m*ldw+k]
			sum += int32(v)
			g, e := k/qKG, k%qKG
			base := j*kp*qNR + g*qKG*qNR
			if p.kern != kernWide {
				p.b8[base+c*qKG+e] = v
			} else {
				p.b16[base+(e/2)*2*qNR+c*2+e%2] = int16(v)
			}
		}
		p.ColSum[m] = sum
	}
	if p.kern == kernQuad && blocks%2 == 1 && kp%(2*qKG) == 0 {
		p.b8i = interleaveQuad(p.b8[(blocks-1)*kp*qNR:blocks*kp*qNR], kp)
	}
	return p, nil
}

// interleaveQuad lays one block of b8 weights (kp steps) out as b8i.
func interleaveQuad(w []int8, kp int) []int8 {
	out := make([]int8, kp*qNR)
	for p := 0; p < kp/(2*qKG); p++ {
		for c := 0; c < qNR; c++ {
			d := out[p*2*qKG*qNR+(c/8)*qKG*qNR+(c%8)*2*qKG:]
			copy(d[:qKG], w[(2*p)*qKG*qNR+c*qKG:][:qKG])
			copy(d[qKG:2*qKG], w[(2*p+1)*qKG*qNR+c*qKG:][:qKG])
		}
	}
	return out
}

// useQuadKernel sets whether weights packed from then on for the exact
// model use the VPDPBUSD layout and kernel (which runs in assembly only
// where the CPU has AVX-512 VNNI, in Go elsewhere), and returns the
// previous setting. It is for tests and benchmarks.
func useQuadKernel(on bool) (was bool) {
	was, useQuad = useQuad, on
	return was
}

// pairsFit reports whether no adjacent pair of steps (k, k+1), k even,
// of any channel can leave the int16 range with activations up to 255.
func pairsFit(w []int8, M, K, ldw int) bool {
	for m := 0; m < M; m++ {
		row := w[m*ldw : m*ldw+K]
		for k := 0; k < K; k += 2 {
			pos, neg := max(int32(row[k]), 0), max(-int32(row[k]), 0)
			if k+1 < K {
				pos += max(int32(row[k+1]), 0)
				neg += max(-int32(row[k+1]), 0)
			}
			if 255*pos > math.MaxInt16 || 255*neg > -math.MinInt16 {
				return false
			}
		}
	}
	return true
}

// QRows says where the reduction vector of a row (an output pixel) is:
// from the row's offset in the activation slice, Segs segments of SegLen
// bytes, SegStride apart. SegLen must be a multiple of 4 and
// Segs*SegLen the packed KP. A row-major matrix is one segment per row;
// a convolution over a padded channels-last image has one segment per
// kernel row.
type QRows struct {
	Segs, SegLen, SegStride int
}

// span is the number of bytes a row reads from its offset on.
func (r QRows) span() int { return (r.Segs-1)*r.SegStride + r.SegLen }

func (r QRows) check(kp int) {
	if r.Segs < 1 || r.SegLen < qKG || r.SegLen%qKG != 0 || r.Segs*r.SegLen != kp || r.SegStride < 0 {
		panic(fmt.Sprintf("int8 rows: %d segments of %d bytes for a reduction of %d (segment length must be a positive multiple of 4)", r.Segs, r.SegLen, kp))
	}
}

// Rows computes channel block j (channels 16j..16j+15) for the rows
// starting at a[offs[i]], i < len(offs), and writes row i through out as
// output pixel pixel0+i of pixels (channels in all). offs must have room
// for a multiple of 4 entries (cap); the entries past len are
// overwritten.
func (b *QPackedB) Rows(a []uint8, offs []int32, rows QRows, j int, out *QOut, pixel0, pixels, channels int, s *QScratch) {
	b.rows(a, nil, offs, maxOffset(offs), rows, j, out, pixel0, pixels, channels, s, false)
}

// allRows is Rows for every channel block, two at a time where a kernel
// computes two.
//
// The int16-weight kernel reads activations widened to uint16 once for
// all blocks (qWiden) where it runs in assembly.
func (b *QPackedB) allRows(a []uint8, offs []int32, maxOff int32, rows QRows, out *QOut, pixel0, pixels, channels int, s *QScratch) {
	var aw []uint16
	if len(offs) > 0 {
		rows.check(b.KP)
		if n := int(maxOff) + rows.span(); n <= len(a) {
			aw = qWiden(b, a[:n], s)
		}
	}
	for j := 0; j < b.Blocks(); {
		j += b.rows(a, aw, offs, maxOff, rows, j, out, pixel0, pixels, channels, s, true)
	}
}

// maxOffset checks that the offsets are not negative and returns the
// largest.
func maxOffset(offs []int32) int32 {
	maxOff := int32(0)
	for _, o := range offs {
		if o < 0 {
			panic(fmt.Sprintf("int8 rows: negative offset %d", o))
		}
		maxOff = max(maxOff, o)
	}
	return maxOff
}

// rows is Rows with the offsets known to be non-negative and at most
// maxOff, and aw nil or a widened (qWiden). With pair, it computes
// blocks j and j+1 together where the VPDPBUSD kernel can; it returns
// the number of blocks computed.
func (b *QPackedB) rows(a []uint8, aw []uint16, offs []int32, maxOff int32, rows QRows, j int, out *QOut, pixel0, pixels, channels int, s *QScratch, pair bool) int {
	if len(offs) == 0 {
		return 1
	}
	rows.check(b.KP)
	if j < 0 || j >= b.Blocks() {
		panic(fmt.Sprintf("int8 rows: channel block %d of %d", j, b.Blocks()))
	}
	npix := len(offs)
	if int(maxOff)+rows.span() > len(a) {
		panic(fmt.Sprintf("int8 rows: a row at %d spanning %d bytes outside %d activations", maxOff, rows.span(), len(a)))
	}
	// Pad to whole tiles with the last row (computed, not stored).
	padded := offs[:(npix+qMR-1)/qMR*qMR]
	for i := npix; i < len(padded); i++ {
		padded[i] = offs[npix-1]
	}
	c0 := j * qNR
	n := min(qNR, b.M-c0)
	base := j * b.KP * qNR
	// A whole block of channels-last levels with its output stage in the
	// kernel: requantization, hard-swish or leaky-relu.
	stage := out.Req != nil && out.Req.fast || out.Req == nil && (out.HSwish != nil || out.Leaky != nil)
	if stage && out.ChannelsLast && n == qNR {
		need := (pixel0+npix-1)*channels + c0 + qNR
		if need > len(out.U8) {
			panic(fmt.Sprintf("int8 rows: output of %d bytes for %d", len(out.U8), need))
		}
		dst := out.U8[pixel0*channels+c0:]
		if req := out.Req; req != nil {
			if pair && b.M-c0 >= 2*qNR && need+qNR <= len(out.U8) && qFusedPair(b, a, padded, npix, rows, base, req, c0, dst, channels) {
				return 2
			}
			if qFused(b, a, aw, padded, npix, rows, base, req, c0, dst, channels) {
				return 1
			}
		}
		if hs := out.HSwish; hs != nil && out.Req == nil && qFusedHS(b, a, aw, padded, npix, rows, base, hs, c0, dst, channels) {
			return 1
		}
		if lr := out.Leaky; lr != nil && out.Req == nil && qFusedLeaky(b, a, aw, padded, npix, rows, base, lr, c0, dst, channels) {
			return 1
		}
	}
	if lr := out.Leaky; lr != nil && !out.ChannelsLast && b.kern != kernQuad {
		// Channel-major levels (for a float reader's QDequantize): the
		// kernel's stage into a tile of 16 levels per row, then each
		// channel's run of pixels copied out.
		if cap(s.tail) < npix*qNR {
			s.tail = make([]uint8, npix*qNR)
		}
		tile := s.tail[:npix*qNR]
		if qFusedLeaky(b, a, aw, padded, npix, rows, base, lr, c0, tile, qNR) {
			tileToChannelMajor(out.U8[c0*pixels+pixel0:], pixels, tile, npix, n)
			return 1
		}
	}
	if n < qNR && out.ChannelsLast && b.kern != kernQuad && b.tailFused(a, aw, padded, npix, rows, base, out, c0, n, pixel0, channels, s) {
		return 1
	}
	// Raw accumulators in chunks of 64 rows, stored by Go.
	const chunk = 64
	acc := s.ints(chunk * qNR)
	for p := 0; p < len(padded); p += chunk {
		q := min(p+chunk, len(padded))
		qRaw(b, a, aw, padded[p:q], rows, base, acc)
		out.store(acc, min(q, npix)-p, c0, n, pixel0+p, pixels, channels)
	}
	return 1
}

// qRawGo computes the raw int32 accumulators of the rows at offs (a
// multiple of 4) into acc, 16 per row: the pure-Go twin of the assembly.
func qRawGo(b *QPackedB, a []uint8, offs []int32, rows QRows, base int, acc []int32) {
	for t := 0; t < len(offs); t++ {
		row := acc[t*qNR : (t+1)*qNR]
		switch b.kern {
		case kernPairs, kernQuad:
			qRowBytesGo(a[offs[t]:], rows, b.b8[base:base+b.KP*qNR], row, b.kern == kernPairs)
		default:
			qRowExactGo(a[offs[t]:], rows, b.b16[base:base+b.KP*qNR], row)
		}
	}
}

// qRowBytesGo is one row on the b8 layout: per pair of steps
// sat16(x0*w0 + x1*w1), summed in int32, as VPMADDUBSW and VPMADDWD do
// (saturate), or each group's four products summed exactly, as VPDPBUSD
// does.
func qRowBytesGo(a []uint8, rows QRows, w []int8, acc []int32, saturate bool) {
	clear(acc)
	g := 0
	for s := 0; s < rows.Segs; s++ {
		seg := a[s*rows.SegStride:]
		seg = seg[:rows.SegLen]
		for i := 0; i < len(seg); i, g = i+qKG, g+1 {
			x0, x1, x2, x3 := int32(seg[i]), int32(seg[i+1]), int32(seg[i+2]), int32(seg[i+3])
			wg := w[g*qKG*qNR : (g+1)*qKG*qNR]
			for c := 0; c < qNR; c++ {
				wc := wg[c*qKG : c*qKG+qKG]
				lo, hi := x0*int32(wc[0])+x1*int32(wc[1]), x2*int32(wc[2])+x3*int32(wc[3])
				if saturate {
					lo, hi = sat16(lo), sat16(hi)
				}
				acc[c] += lo + hi
			}
		}
	}
}

// qRowExactGo is one row of the exact model on the b16 layout.
func qRowExactGo(a []uint8, rows QRows, w []int16, acc []int32) {
	clear(acc)
	g := 0
	for s := 0; s < rows.Segs; s++ {
		seg := a[s*rows.SegStride:]
		seg = seg[:rows.SegLen]
		for i := 0; i < len(seg); i, g = i+qKG, g+1 {
			x0, x1, x2, x3 := int32(seg[i]), int32(seg[i+1]), int32(seg[i+2]), int32(seg[i+3])
			wg := w[g*qKG*qNR : (g+1)*qKG*qNR]
			lo, hi := wg[:2*qNR], wg[2*qNR:]
			for c := 0; c < qNR; c++ {
				acc[c] += x0*int32(lo[2*c]) + x1*int32(lo[2*c+1]) + x2*int32(hi[2*c]) + x3*int32(hi[2*c+1])
			}
		}
	}
}

// sat16 saturates to the int16 range, as VPMADDUBSW does.
func sat16(v int32) int32 {
	if v > math.MaxInt16 {
		return math.MaxInt16
	}
	if v < math.MinInt16 {
		return math.MinInt16
	}
	return v
}

// QDot is the reference dot product of activations x and weights w in
// model's arithmetic (pairs (0,1), (2,3), ... for the saturating model).
// Tests compare kernels and whole layers against it.
func QDot(model QModel, x []uint8, w []int8) int32 {
	var acc int32
	for i := 0; i < len(x); i += 2 {
		p := int32(x[i]) * int32(w[i])
		if i+1 < len(x) {
			p += int32(x[i+1]) * int32(w[i+1])
		}
		if model == QSaturating {
			p = sat16(p)
		}
		acc += p
	}
	return acc
}

// tailFused computes a last block of n < 16 channels (c0 on) of npix
// rows with the output stage in the AVX2 kernel, as rows does whole
// blocks: the kernel stores 16 levels per row, into a tile, whose first
// n levels of each row are then copied to the output. It reports false
// when the kernel cannot run the stage (the caller then stores raw
// accumulators).
func (b *QPackedB) tailFused(a []uint8, aw []uint16, padded []int32, npix int, rows QRows, base int, out *QOut, c0, n, pixel0, channels int, s *QScratch) bool {
	req, hs, lr := out.Req, out.HSwish, out.Leaky
	if req != nil && !req.fast || req == nil && hs == nil && lr == nil {
		return false
	}
	need := (pixel0+npix-1)*channels + c0 + n
	if need > len(out.U8) {
		panic(fmt.Sprintf("int8 rows: output of %d bytes for %d", len(out.U8), need))
	}
	if cap(s.tail) < npix*qNR {
		s.tail = make([]uint8, npix*qNR)
	}
	tile := s.tail[:npix*qNR]
	switch {
	case req != nil:
		if !qFused(b, a, aw, padded, npix, rows, base, req, c0, tile, qNR) {
			return false
		}
	case hs != nil:
		if !qFusedHS(b, a, aw, padded, npix, rows, base, hs, c0, tile, qNR) {
			return false
		}
	default:
		if !qFusedLeaky(b, a, aw, padded, npix, rows, base, lr, c0, tile, qNR) {
			return false
		}
	}
	dst := out.U8[pixel0*channels+c0:]
	for i := 0; i < npix; i++ {
		copy(dst[i*channels:i*channels+n], tile[i*qNR:i*qNR+n])
	}
	return true
}

// tileToChannelMajor copies the first n levels of each of the npix rows
// of tile (16 levels a row) to dst channel-major: level i of row p goes
// to dst[i*pixels+p]. Blocks of 8 rows by 8 channels are transposed as
// 8×8 bytes in 64-bit words (one 8-byte store per channel and block);
// the rest byte by byte. With 16 channels, whole blocks of 8 rows run in
// assembly (qTileT8AVX2), 8 rows by 16 channels at a time.
func tileToChannelMajor(dst []uint8, pixels int, tile []uint8, npix, n int) {
	_ = dst[(n-1)*pixels+npix-1]
	p := 0
	if n == qNR {
		p = qTileTVec(dst, pixels, tile, npix)
	}
	for ; p+8 <= npix; p += 8 {
		i := 0
		for ; i+8 <= n; i += 8 {
			var w [8]uint64
			for k := range w {
				w[k] = binary.LittleEndian.Uint64(tile[(p+k)*qNR+i:])
			}
			Transpose8x8(&w)
			for k, v := range w {
				binary.LittleEndian.PutUint64(dst[(i+k)*pixels+p:], v)
			}
		}
		for ; i < n; i++ {
			for k := 0; k < 8; k++ {
				dst[i*pixels+p+k] = tile[(p+k)*qNR+i]
			}
		}
	}
	for ; p < npix; p++ {
		for i := 0; i < n; i++ {
			dst[i*pixels+p] = tile[p*qNR+i]
		}
	}
}

// Transpose8x8 transposes the 8×8 bytes of w: byte p of word k (little
// endian) becomes byte k of word p. It swaps 4×4 blocks between words k
// and k+4, then 2×2 blocks between k and k+2, then bytes between k and
// k+1.
func Transpose8x8(w *[8]uint64) {
	for k := range 4 {
		a, b := w[k], w[k+4]
		w[k] = a&0x00000000ffffffff | b<<32
		w[k+4] = a>>32 | b&0xffffffff00000000
	}
	for _, k := range [4]int{0, 1, 4, 5} {
		a, b := w[k], w[k+2]
		w[k] = a&0x0000ffff0000ffff | (b&0x0000ffff0000ffff)<<16
		w[k+2] = (a>>16)&0x0000ffff0000ffff | b&0xffff0000ffff0000
	}
	for _, k := range [4]int{0, 2, 4, 6} {
		a, b := w[k], w[k+1]
		w[k] = a&0x00ff00ff00ff00ff | (b&0x00ff00ff00ff00ff)<<8
		w[k+1] = (a>>8)&0x00ff00ff00ff00ff | b&0xff00ff00ff00ff00
	}
}
