//go:build amd64 && !noasm

package kernels

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// hasQAVX2 reports whether the AVX2 integer kernels can run.
var hasQAVX2 = cpu.X86.HasAVX2

// hasQVNNI reports whether VPDPBUSD can run on 512-bit registers
// (AVX-512 F and VNNI, with the OS saving their state).
var hasQVNNI = hasQAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512VNNI

// hasQ512 reports whether the 512-bit integer kernels (AVX-512 F and
// BW, with the OS saving their state) can run.
var hasQ512 = hasQAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW

// useQ512 selects the 512-bit kernels where there are some: set from the
// CPU's features, changed only by useQ512Kernels in tests.
var useQ512 = hasQ512

// useQ512Kernels switches the element-wise and depthwise integer kernels
// between their 512-bit and AVX2 assembly (when the CPU has AVX-512),
// and returns the previous setting. Only tests call it.
func useQ512Kernels(on bool) (was bool) {
	was, useQ512 = useQ512, on && hasQ512
	return was
}

// useQAsm selects the assembly integer kernels: set from the CPU's
// features, changed only by UseQAssembly in tests.
var useQAsm = hasQAVX2

// useQuad makes the exact model pack for the VPDPBUSD kernel.
var useQuad = hasQVNNI

// QAccelerated reports whether the integer kernels run in assembly.
func QAccelerated() bool { return useQAsm }

// QKernels names the instructions the integer kernels run on for a
// model of accumulation: "avx512-vnni" (VPDPBUSD) for the exact int32
// model on CPUs with AVX-512 VNNI, "avx2" for the others on AVX2, "go"
// for the pure-Go twins.
func QKernels(exact bool) string {
	switch {
	case !useQAsm:
		return "go"
	case exact && useQuad:
		return "avx512-vnni"
	}
	return "avx2"
}

// UseQAssembly switches the integer kernels between assembly (when the
// CPU has AVX2) and their pure-Go twins, and returns the previous
// setting. It is for tests and benchmarks (only _test.go files call it;
// see dispatch.go); it must not be called while kernels run.
func UseQAssembly(on bool) (was bool) {
	was = useQAsm
	useQAsm = on && hasQAVX2
	return was
}

//go:noescape
func qKernSatAVX2(a *uint8, offs *int32, npix, segs, segLen, segStride int, w *int8, params *int64, dst *uint8, ldd int, mode int, alpha, beta float32)

//go:noescape
func qKernQuadVNNI(a *uint8, offs *int32, npix, segs, segLen, segStride int, w *int8, params *int64, dst *uint8, ldd int)

//go:noescape
func qKernQuad2VNNI(a *uint8, offs *int32, npix, segs, segLen, segStride int, w *int8, wstride int, params *int64, dst *uint8, ldd int)

//go:noescape
func qKernQuad1VNNI(a *uint8, offs *int32, npix, segs, segLen, segStride int, w *int8, params *int64, dst *uint8, ldd int)

//go:noescape
func qKernExactAVX2(a *uint8, offs *int32, npix, segs, segLen, segStride int, w *int16, params *int64, dst *uint8, ldd int, mode int, alpha, beta float32)

//go:noescape
func qKernWideAVX2(a *uint16, offs *int32, npix, segs, segLen, segStride int, w *int16, params *int64, dst *uint8, ldd int, mode int, alpha, beta float32)

//go:noescape
func widenAVX2(dst *uint16, src *uint8, n int)

// qWiden returns the activations a widened to uint16 in s for
// qKernWideAVX2 when b's kernel is the int16-weight one and runs in
// assembly, else nil.
func qWiden(b *QPackedB, a []uint8, s *QScratch) []uint16 {
	if b.kern != kernWide || !asmFor(b) || len(a) == 0 {
		return nil
	}
	if cap(s.wide) < len(a) {
		s.wide = make([]uint16, len(a))
	}
	aw := s.wide[:len(a)]
	n := len(a) &^ 15
	if n > 0 {
		widenAVX2(&aw[0], &a[0], n)
	}
	for i := n; i < len(a); i++ {
		aw[i] = uint16(a[i])
	}
	return aw
}

// Output stages of the AVX2 kernels qKernSatAVX2, qKernExactAVX2 and
// qKernWideAVX2.
const (
	qStageRaw    = iota // the int32 accumulators, 64 bytes per row
	qStageReq           // requantized with QRequant.vec
	qStageReqF          // requantized with QRequant.vec16 (float64 FMA rounding)
	qStageHSwish        // hard-swish with QHardSwish.vec, alpha and beta
	qStageLeaky         // LeakyRelu with QLeakyReLU.vec and alpha
)

// QPackedB.Rows has checked the bounds of a, offs and dst.

// qRaw computes the int32 accumulators of the rows at offs (a multiple
// of 4 rows) into acc, 16 per row.
func qRaw(b *QPackedB, a []uint8, aw []uint16, offs []int32, rows QRows, base int, acc []int32) {
	if !asmFor(b) {
		qRawGo(b, a, offs, rows, base, acc)
		return
	}
	_ = acc[len(offs)*qNR-1]
	qKern(b, a, aw, offs, len(offs), rows, base, nil, (*uint8)(unsafe.Pointer(&acc[0])), qNR*4, qStageRaw, 0, 0)
}

// asmFor reports whether b's kernel can run in assembly now.
func asmFor(b *QPackedB) bool {
	return useQAsm && (b.kern != kernQuad || hasQVNNI)
}

// qKern calls b's assembly kernel with output stage stage (the
// VPDPBUSD kernel: raw with nil params, else requantized with the
// 512-bit parameters); aw, when not nil, is a widened to uint16
// (qWiden), which the int16-weight kernel then reads.
func qKern(b *QPackedB, a []uint8, aw []uint16, offs []int32, npix int, rows QRows, base int, params *int64, dst *uint8, ldd int, stage int, alpha, beta float32) {
	switch b.kern {
	case kernPairs:
		qKernSatAVX2(&a[0], &offs[0], npix, rows.Segs, rows.SegLen, rows.SegStride, &b.b8[base], params, dst, ldd, stage, alpha, beta)
	case kernQuad:
		qKernQuadVNNI(&a[0], &offs[0], npix, rows.Segs, rows.SegLen, rows.SegStride, &b.b8[base], params, dst, ldd)
	default:
		if aw != nil {
			qKernWideAVX2(&aw[0], &offs[0], npix, rows.Segs, rows.SegLen, rows.SegStride, &b.b16[base], params, dst, ldd, stage, alpha, beta)
			return
		}
		qKernExactAVX2(&a[0], &offs[0], npix, rows.Segs, rows.SegLen, rows.SegStride, &b.b16[base], params, dst, ldd, stage, alpha, beta)
	}
}

// qFused computes and requantizes npix rows (offs padded to whole
// tiles) into dst, ldd bytes per row, with req's parameters of channels
// c0..c0+15; false when there is no assembly. On VPDPBUSD, the last
// block of a layer with an odd number of blocks, in segments of whole
// pairs of groups, runs on the interleaved weights (b8i), one broadcast
// of 8 activation bytes per two VPDPBUSD.
func qFused(b *QPackedB, a []uint8, aw []uint16, offs []int32, npix int, rows QRows, base int, req *QRequant, c0 int, dst []uint8, ldd int) bool {
	if !asmFor(b) {
		return false
	}
	if b.kern == kernQuad {
		// The VPDPBUSD kernels requantize with the 512-bit parameters
		// only.
		if req.vec16 == nil {
			return false
		}
		p := req.vec16[c0/qNR*qReqBlock : (c0/qNR+1)*qReqBlock]
		if rows.SegLen%(2*qKG) == 0 && b.b8i != nil && c0/qNR == b.Blocks()-1 {
			qKernQuad1VNNI(&a[0], &offs[0], npix, rows.Segs, rows.SegLen, rows.SegStride, &b.b8i[0], &p[0], &dst[0], ldd)
			return true
		}
		qKernQuadVNNI(&a[0], &offs[0], npix, rows.Segs, rows.SegLen, rows.SegStride, &b.b8[base], &p[0], &dst[0], ldd)
		return true
	}
	if req.vec16a != nil {
		// The float64 rounding of the 512-bit kernels: fewer than
		// REQ8's instructions, all within 128-bit lanes.
		p := req.vec16a[c0/qNR*qReqBlock : (c0/qNR+1)*qReqBlock]
		qKern(b, a, aw, offs, npix, rows, base, &p[0], &dst[0], ldd, qStageReqF, 0, 0)
		return true
	}
	params := req.vec[c0/8*qReqGroup:]
	_ = params[2*qReqGroup-1]
	qKern(b, a, aw, offs, npix, rows, base, &params[0], &dst[0], ldd, qStageReq, 0, 0)
	return true
}

// qFusedHS is qFused with hs's hard-swish output stage (channels c0 ..
// c0+15) on the AVX2 kernels; false where they do not run.
func qFusedHS(b *QPackedB, a []uint8, aw []uint16, offs []int32, npix int, rows QRows, base int, hs *QHardSwish, c0 int, dst []uint8, ldd int) bool {
	if !asmFor(b) || b.kern == kernQuad {
		return false
	}
	p := hs.vec[c0/qNR*qHSwishBlock : (c0/qNR+1)*qHSwishBlock]
	qKern(b, a, aw, offs, npix, rows, base, (*int64)(unsafe.Pointer(&p[0])), &dst[0], ldd, qStageHSwish, hs.Alpha, hs.Beta)
	return true
}

// qFusedLeaky is qFused with lr's LeakyRelu output stage (channels c0
// .. c0+15) on the AVX2 kernels; false where they do not run.
func qFusedLeaky(b *QPackedB, a []uint8, aw []uint16, offs []int32, npix int, rows QRows, base int, lr *QLeakyReLU, c0 int, dst []uint8, ldd int) bool {
	if !asmFor(b) || b.kern == kernQuad {
		return false
	}
	p := lr.vec[c0/qNR*qHSwishBlock : (c0/qNR+1)*qHSwishBlock]
	qKern(b, a, aw, offs, npix, rows, base, (*int64)(unsafe.Pointer(&p[0])), &dst[0], ldd, qStageLeaky, lr.Alpha, 0)
	return true
}

// qFusedPair is qFused for channel blocks j and j+1 (base is block j's)
// on the VPDPBUSD kernel, with the 512-bit parameters of 32 channels;
// false when that kernel cannot run.
func qFusedPair(b *QPackedB, a []uint8, offs []int32, npix int, rows QRows, base int, req *QRequant, c0 int, dst []uint8, ldd int) bool {
	if !useQAsm || b.kern != kernQuad || !hasQVNNI || req.vec16 == nil {
		return false
	}
	p := req.vec16[c0/qNR*qReqBlock : (c0/qNR+2)*qReqBlock]
	_ = b.b8[base+2*b.KP*qNR-1]
	qKernQuad2VNNI(&a[0], &offs[0], npix, rows.Segs, rows.SegLen, rows.SegStride, &b.b8[base], b.KP*qNR, &p[0], &dst[0], ldd)
	return true
}

//go:noescape
func qReqRowsAVX2(acc *int32, rows int, params *int64, dst *uint8, ldd int)

//go:noescape
func qReqRowsAVX512(acc *int32, rows int, params *int64, dst *uint8, ldd int)

//go:noescape
func qReqRowsFAVX2(acc *int32, rows int, params *int64, dst *uint8, ldd int)

// qReqRowsVec requantizes rows rows of one whole 16-channel block (c0 a
// multiple of 16) to channels-last dst, ldd bytes per row, and reports
// whether it could: with the 512-bit parameters on AVX-512, else on
// AVX2.
func qReqRowsVec(q *QRequant, acc []int32, rows, c0 int, dst []uint8, ldd int) bool {
	if !useQAsm || rows <= 0 || !q.fast || c0%qNR != 0 {
		return false
	}
	_, _ = acc[rows*qNR-1], dst[(rows-1)*ldd+qNR-1]
	if q.vec16 != nil {
		if useQ512 {
			p := q.vec16[c0/qNR*qReqBlock : (c0/qNR+1)*qReqBlock]
			qReqRowsAVX512(&acc[0], rows, &p[0], &dst[0], ldd)
			return true
		}
		p := q.vec16a[c0/qNR*qReqBlock : (c0/qNR+1)*qReqBlock]
		qReqRowsFAVX2(&acc[0], rows, &p[0], &dst[0], ldd)
		return true
	}
	p := q.vec[c0/8*qReqGroup : (c0/8+2)*qReqGroup]
	qReqRowsAVX2(&acc[0], rows, &p[0], &dst[0], ldd)
	return true
}

//go:noescape
func qAddAVX2(p *[12]float32, dst, a, b *uint8, n int)

//go:noescape
func qAddAVX512(z *[8]float32, dst, a, b *uint8, n int)

// qAddVec does the first len(dst)&^7 elements of QAdd.Row and returns
// how many it did: 16 at a time on AVX-512 when the levels are uint8
// ones, then 8.
func qAddVec(q *QAdd, dst, a, b []uint8) int {
	n := len(dst) &^ 7
	if !useQAsm || n == 0 {
		return 0
	}
	done := 0
	if n16 := n &^ 15; useQ512 && n16 > 0 && q.p[10] >= 0 && q.p[11] <= 255 {
		qAddAVX512(&q.z, &dst[0], &a[0], &b[0], n16)
		done = n16
	}
	if done < n {
		qAddAVX2(&q.p, &dst[done], &a[done], &b[done], n-done)
	}
	return n
}

//go:noescape
func qHSwishAVX2(acc *int32, rows int, p *float32, alpha, beta float32, dst *uint8, ldd int)

//go:noescape
func qHSwishAVX512(acc *int32, rows int, p *float32, alpha, beta float32, dst *uint8, ldd int)

// qHSwishVec writes rows rows of one whole 16-channel block (c0 a
// multiple of 16) to channels-last dst, ldd bytes per row, and reports
// whether it could.
func qHSwishVec(q *QHardSwish, acc []int32, rows, c0 int, dst []uint8, ldd int) bool {
	if !useQAsm || rows <= 0 {
		return false
	}
	p := q.vec[c0/qNR*qHSwishBlock : (c0/qNR+1)*qHSwishBlock]
	_, _ = acc[rows*qNR-1], dst[(rows-1)*ldd+qNR-1]
	if useQ512 {
		qHSwishAVX512(&acc[0], rows, &p[0], q.Alpha, q.Beta, &dst[0], ldd)
		return true
	}
	qHSwishAVX2(&acc[0], rows, &p[0], q.Alpha, q.Beta, &dst[0], ldd)
	return true
}

//go:noescape
func qdwPixelAVX2(acc *int32, bstride int, x *uint8, xoff, woff *int32, ntaps int, w, zp *int32, n int)

//go:noescape
func qdwPixelAVX512(acc *int32, bstride int, x *uint8, xoff, woff *int32, ntaps int, w, zp *int32, n int)

// qdwPixelVec computes the first C&^15 channels of one depthwise output
// pixel into acc, in blocks of 16 channels bs values apart (see
// QDepthwise.pixel), and returns how many it did.
func qdwPixelVec(acc []int32, bs int, x []uint8, xoff, woff []int32, w, zp []int32, C int) int {
	n := C &^ (qNR - 1)
	if !useQAsm || n == 0 || len(xoff) == 0 {
		return 0
	}
	_ = acc[(n/qNR-1)*bs+qNR-1]
	if useQ512 {
		qdwPixelAVX512(&acc[0], bs*4, &x[0], &xoff[0], &woff[0], len(xoff), &w[0], &zp[0], n)
		return n
	}
	qdwPixelAVX2(&acc[0], bs*4, &x[0], &xoff[0], &woff[0], len(xoff), &w[0], &zp[0], n)
	return n
}

//go:noescape
func qdw3RowAVX512(acc *int32, bs int, x *uint8, xstep, npix, rowB, colB int, w *int32, wstride int, corr *int32, n int)

//go:noescape
func qdw3RowAVX2(acc *int32, bs int, x *uint8, xstep, npix, rowB, colB int, w *int32, wstride int, corr *int32, n int)

//go:noescape
func qdw3RowHSAVX2(dst *uint8, ldd int, x *uint8, xstep, npix, rowB, colB int, w *int32, wstride int, corr *int32, n int, p *float32, alpha, beta float32)

// qdw3RowOn reports whether qdw3RowVec runs in assembly: on 512-bit
// registers where the CPU has AVX-512, else on AVX2.
func qdw3RowOn() bool { return useQAsm }

// qdw3RowVec does the first C&^15 channels of dw3RowGo in assembly and
// returns how many it did.
func qdw3RowVec(acc []int32, bs int, x []uint8, xstep, npix, rowB, colB int, w []int32, M int, corr []int32, C int) int {
	n := C &^ (qNR - 1)
	if !qdw3RowOn() || n == 0 || npix <= 0 {
		return 0
	}
	_ = x[(npix-1)*xstep+2*rowB+2*colB+n-1]
	_ = acc[(n/qNR-1)*bs+(npix-1)*qNR+qNR-1]
	_, _ = w[8*M+n-1], corr[n-1]
	if useQ512 {
		qdw3RowAVX512(&acc[0], bs*4, &x[0], xstep, npix, rowB, colB, &w[0], M*4, &corr[0], n)
		return n
	}
	qdw3RowAVX2(&acc[0], bs*4, &x[0], xstep, npix, rowB, colB, &w[0], M*4, &corr[0], n)
	return n
}

// qdw3RowHS2On reports whether qdw3RowHS2Vec runs: on AVX2 CPUs without
// AVX-512 (which have qdw3RowAVX512 and qdw3RowVNNIHS instead).
func qdw3RowHS2On() bool { return useQAsm && !useQ512 }

// qdw3RowHS2Vec is qdw3RowVec with hs's output stage fused: the levels of
// channel c < C&^15 of pixel p go to dst[p*ldd + c]; corrB is corr plus
// hs's bias. It returns how many channels it did.
func qdw3RowHS2Vec(dst []uint8, ldd int, x []uint8, xstep, npix, rowB, colB int, w []int32, M int, corrB []int32, hs *QHardSwish, C int) int {
	n := C &^ (qNR - 1)
	if !qdw3RowHS2On() || n == 0 || npix <= 0 || len(hs.vec) < n/qNR*qHSwishBlock {
		return 0
	}
	_ = x[(npix-1)*xstep+2*rowB+2*colB+n-1]
	_ = dst[(npix-1)*ldd+n-1]
	_, _ = w[8*M+n-1], corrB[n-1]
	qdw3RowHSAVX2(&dst[0], ldd, &x[0], xstep, npix, rowB, colB, &w[0], M*4, &corrB[0], n, &hs.vec[0], hs.Alpha, hs.Beta)
	return n
}

//go:noescape
func quantize8AVX2(p *[8]float32, dst *uint8, x *float32, n int, signed bool)

// quantize8Vec does the first len(x)&^7 elements of Quantize8 and
// returns how many it did.
func quantize8Vec(p *[8]float32, dst []uint8, x []float32, signed bool) int {
	n := len(x) &^ 7
	if !useQAsm || n == 0 {
		return 0
	}
	_ = dst[n-1]
	quantize8AVX2(p, &dst[0], &x[0], n, signed)
	return n
}

//go:noescape
func dequantize8AVX2(y *float32, x *uint8, n int, zp, s float32, signed bool)

// dequantize8Vec does the first len(x)&^7 elements of Dequantize8 and
// returns how many it did.
func dequantize8Vec(y []float32, x []uint8, signed bool, zp, s float32) int {
	n := len(x) &^ 7
	if !useQAsm || n == 0 {
		return 0
	}
	_ = y[n-1]
	dequantize8AVX2(&y[0], &x[0], n, zp, s, signed)
	return n
}

//go:noescape
func dequantT16AVX512(y *float32, ldy int, x *uint8, ldx, blocks int, zp, s float32)

// dequantTOn reports whether DequantizeT8 runs in assembly.
func dequantTOn() bool { return useQAsm && hasQ512 }

// dequantTVec does blocks blocks of 16 pixels of 16 channels of
// DequantizeT8: channel c of pixel p from x[p*ldx+c] to y[c*ldy+p].
func dequantTVec(y []float32, ldy int, x []uint8, ldx, blocks int, zp, s float32) {
	_, _ = y[15*ldy+blocks*16-1], x[(blocks*16-1)*ldx+15]
	dequantT16AVX512(&y[0], ldy, &x[0], ldx, blocks, zp, s)
}

//go:noescape
func qDeqT16AVX512(y *float32, ldy int, acc *int32, bias *int32, scale *float32, blocks int)

//go:noescape
func qDeqT8AVX2(y *float32, ldy int, acc *int32, bias *int32, scale *float32, blocks int)

// qDeqTVec does QDequant.storeRows's channel-major store of the first
// rows&^15 rows (AVX-512) or rows&^7 rows (AVX2) of a whole block of 16
// channels (bias and scale of those channels) into y, row r of channel
// i at y[r+i*ldy], and returns how many rows it did.
func qDeqTVec(acc []int32, rows int, bias []int32, scale []float32, y []float32, ldy int) int {
	per, kern := 16, qDeqT16AVX512 // rows per block, and its kernel
	if !hasQ512 {
		per, kern = 8, qDeqT8AVX2
	}
	blocks := rows / per
	if !useQAsm || blocks == 0 {
		return 0
	}
	_, _, _, _ = acc[blocks*per*qNR-1], bias[qNR-1], scale[qNR-1], y[(qNR-1)*ldy+blocks*per-1]
	kern(&y[0], ldy, &acc[0], &bias[0], &scale[0], blocks)
	return blocks * per
}

//go:noescape
func qTileT8AVX2(dst *uint8, ldd int, tile *uint8, blocks int)

// qTileTVec does tileToChannelMajor's whole blocks of 8 rows of a tile
// of 16 channels in assembly and returns the rows it did.
func qTileTVec(dst []uint8, pixels int, tile []uint8, npix int) int {
	blocks := npix / 8
	if !useQAsm || blocks == 0 {
		return 0
	}
	_, _ = tile[blocks*8*qNR-1], dst[(qNR-1)*pixels+blocks*8-1]
	qTileT8AVX2(&dst[0], pixels, &tile[0], blocks)
	return blocks * 8
}

//go:noescape
func clampU8AVX2(dst, src *uint8, n int, lo, hi uint8)

// clampU8Vec does ClampU8's first len(src)&^31 levels in assembly and
// returns how many it did.
func clampU8Vec(dst, src []uint8, lo, hi uint8) int {
	n := len(src) &^ 31
	if !useQAsm || n == 0 {
		return 0
	}
	_ = dst[n-1]
	clampU8AVX2(&dst[0], &src[0], n, lo, hi)
	return n
}
