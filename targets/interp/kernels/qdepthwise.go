package kernels

import (
	"fmt"
	"math"
	"slices"
	"unsafe"
)

// QDepthwise is a depthwise 2-D convolution (one group per input
// channel, Mult output channels per group) of uint8 levels with int8
// weights. Accumulation is exact int32 in both models: CPU kernels for
// depthwise convolutions multiply along channels and widen each product,
// so there is no pair of steps to saturate.
type QDepthwise struct {
	C, Mult, KH, KW int
	// w[tap*M + m]: the weight of output channel m at kernel tap.
	w []int32
	// wsum[m]: the sum of channel m's weights over the taps.
	wsum []int32
	// w3v: the weights of a 3×3 convolution with one output channel
	// per input channel for qdw3RowVNNI (dw3Interleave).
	w3v []int8
}

// dw3Over is how far qdw3RowVNNIHS reads past the pixel after a row's
// last window: its 64-byte loads of 16-byte blocks.
const dw3Over = 48

// dw3VBlock is the size of one 16-channel block of w3v: per window row,
// two vectors of 16 channels × 4 bytes.
const dw3VBlock = 3 * 2 * 4 * qNR

// dw3Idx is qdw3RowVNNI's VPERMB index: byte 4c+k of the result is byte
// 16k+c of four 16-byte pixels, channel c of pixel k.
//
// Then follow the indices of DW3VT's two-source permutes: channel c of
// two 64-byte loads (the second's bytes numbered from 64) into bytes 4c
// and 4c+1, and into 4c+2 and 4c+3.
var dw3Idx = func() (idx [12 * qNR]uint8) {
	for c := 0; c < qNR; c++ {
		for k := 0; k < 4; k++ {
			idx[4*c+k] = uint8(16*k + c)
		}
		idx[4*qNR+4*c], idx[4*qNR+4*c+1] = uint8(c), uint8(64+c)
		idx[8*qNR+4*c+2], idx[8*qNR+4*c+3] = uint8(c), uint8(64+c)
	}
	return idx
}()

// dw3Interleave lays out the weights w[m][kh][kw] of the first C&^15
// channels of a 3×3 depthwise convolution for qdw3RowVNNI: per block of
// 16 channels and window row kh, the four bytes of channel c are (w0,
// w1, w2, 0) in the first vector, the taps of pixel p over pixels
// p..p+3, and (0, w0, w1, w2) in the second, those of pixel p+1.
func dw3Interleave(w []int8, C int) []int8 {
	blocks := C / qNR
	v := make([]int8, blocks*dw3VBlock)
	for b := 0; b < blocks; b++ {
		for kh := 0; kh < 3; kh++ {
			a := v[b*dw3VBlock+kh*2*4*qNR:]
			for c := 0; c < qNR; c++ {
				m := b*qNR + c
				for kw := 0; kw < 3; kw++ {
					t := w[m*9+kh*3+kw]
					a[4*c+kw] = t
					a[4*qNR+4*c+kw+1] = t
				}
			}
		}
	}
	return v
}

// NewQDepthwise takes weights w[m][1][kh][kw] (ONNX layout) for M =
// C·mult output channels.
func NewQDepthwise(w []int8, C, mult, KH, KW int) (*QDepthwise, error) {
	M := C * mult
	if C < 1 || mult < 1 || KH < 1 || KW < 1 || len(w) != M*KH*KW {
		return nil, fmt.Errorf("int8 depthwise convolution: %d weights for %d×1×%d×%d", len(w), M, KH, KW)
	}
	d := &QDepthwise{C: C, Mult: mult, KH: KH, KW: KW, w: make([]int32, M*KH*KW), wsum: make([]int32, M)}
	taps := KH * KW
	for m := 0; m < M; m++ {
		for t := 0; t < taps; t++ {
			d.w[t*M+m] = int32(w[m*taps+t])
			d.wsum[m] += int32(w[m*taps+t])
		}
	}
	if KH == 3 && KW == 3 && mult == 1 && C >= qNR {
		d.w3v = dw3Interleave(w, C)
	}
	return d, nil
}

// RunImage convolves one image x (channels-last [H][W][C] when
// xChannelsLast, else [C][H][W]) of levels with per-channel zero points
// zp (one value, or C). Padding contributes nothing (it is the zero
// point). scratch is working memory the kernel grows as it needs.
//
// It computes one output row at a time and stores it in blocks of 16
// channels. On channels-last input with one output channel per input
// channel, each pixel's channels run in assembly (AVX-512 or AVX2) when it can, the
// sum over the taps staying in registers; otherwise each tap adds to
// every channel in turn. Padded 3×3 convolutions of that kind run on a
// padded copy of the image, a whole output row per call of the row
// kernel (padded3).
func (d *QDepthwise) RunImage(g *QConvGeom, x []uint8, xChannelsLast bool, zp []int32, scratch *[]int32, out *QOut) {
	M, OW := d.C*d.Mult, g.OW
	blocks := (M + qNR - 1) / qNR
	// row holds one output row: in blocks of 16 channels, each OW
	// pixels of 16 values (bs apart), on the pixel path; else pixel by
	// pixel, M values each, copied block by block to tile to store.
	rowLen := max(OW*M, blocks*OW*qNR)
	pixels := xChannelsLast && d.Mult == 1 && len(x) <= math.MaxInt32 // offsets are int32
	// Runs of 3×3 windows inside the image go to the row kernel, with
	// the zero points folded into a correction -zp·Σw per channel; with
	// padding, all windows of a padded copy of the image (padded3).
	row3 := pixels && d.KH == 3 && d.KW == 3 && qdw3RowOn()
	padWords := 0
	if row3 {
		if nb, _, _ := d.padSize(g); nb > 0 {
			padWords = (nb + M + dw3Over + 3) / 4
		}
	}
	need := rowLen + OW*qNR + 2*d.C + padWords
	if padWords > 0 {
		need += d.C // padded3's corrB
	}
	// The scratch starts with padded3's record of the padding it holds,
	// which nothing else writes.
	hdrLen := padHdr + d.C
	if cap(*scratch) < hdrLen+need {
		*scratch = make([]int32, hdrLen+need)
	}
	hdr := (*scratch)[:hdrLen]
	buf := (*scratch)[hdrLen : hdrLen+need]
	row, tile := buf[:rowLen], buf[rowLen:rowLen+OW*qNR]
	if len(zp) == 1 {
		// One zero point for all channels: spread it, so that the
		// channel loop reads one per channel either way.
		zs := buf[rowLen+OW*qNR : rowLen+OW*qNR+d.C]
		for i := range zs {
			zs[i] = zp[0]
		}
		zp = zs
	}
	P := g.OH * OW
	bs := OW * qNR
	var corr []int32
	in0, in1 := 0, 0 // the pixels of a row whose windows lie inside
	if row3 {
		corr = buf[rowLen+OW*qNR+d.C : rowLen+OW*qNR+2*d.C]
		for c := range corr {
			corr[c] = -zp[c] * d.wsum[c]
		}
		in0 = (g.PadL + g.SW - 1) / g.SW
		if last := g.W - 1 - 2*g.DW + g.PadL; last >= 0 {
			in1 = min(OW, last/g.SW+1)
		}
	}
	if padWords > 0 && d.padded3(g, x, zp, corr, row, buf[len(buf)-padWords-d.C:len(buf)-padWords], buf[len(buf)-padWords:], hdr, out) {
		return
	}
	// The buffers below may overlap a padded image of another geometry:
	// forget it.
	hdr[0] = 0
	var xoffBuf, woffBuf, relBuf, wallBuf [49]int32
	xoff, woff, rel, wall := xoffBuf[:0], woffBuf[:0], relBuf[:0], wallBuf[:0]
	if taps := d.KH * d.KW; taps > len(xoffBuf) {
		xoff, woff = make([]int32, 0, taps), make([]int32, 0, taps)
		rel, wall = make([]int32, 0, taps), make([]int32, 0, taps)
	}
	if pixels {
		// Every tap of a pixel whose window lies inside the image, as
		// offsets from the window's top-left input pixel.
		for kh := 0; kh < d.KH; kh++ {
			for kw := 0; kw < d.KW; kw++ {
				rel = append(rel, int32((kh*g.DH*g.W+kw*g.DW)*M))
				wall = append(wall, int32((kh*d.KW+kw)*M))
			}
		}
	}
	for oh := 0; oh < g.OH; oh++ {
		if !pixels {
			clear(row)
		}
		ih0 := oh*g.SH - g.PadT
		rowInside := ih0 >= 0 && ih0+(d.KH-1)*g.DH < g.H
		done0, done1 := 0, 0
		if row3 && rowInside && in1 > in0 {
			done0, done1 = in0, in1
			d.row3(row[in0*qNR:], bs, x[(ih0*g.W+in0*g.SW-g.PadL)*M:], g.SW*M, in1-in0, g.DH*g.W*M, g.DW*M, corr)
		}
		for ow := 0; ow < OW; ow++ {
			if ow >= done0 && ow < done1 {
				continue
			}
			if iw0 := ow*g.SW - g.PadL; pixels && rowInside && iw0 >= 0 && iw0+(d.KW-1)*g.DW < g.W {
				d.pixel(row[ow*qNR:], bs, x[(ih0*g.W+iw0)*M:], rel, wall, zp)
				continue
			}
			if pixels {
				xoff, woff = xoff[:0], woff[:0]
				for kh := 0; kh < d.KH; kh++ {
					ih := oh*g.SH - g.PadT + kh*g.DH
					if ih < 0 || ih >= g.H {
						continue
					}
					for kw := 0; kw < d.KW; kw++ {
						if iw := ow*g.SW - g.PadL + kw*g.DW; iw >= 0 && iw < g.W {
							xoff = append(xoff, int32((ih*g.W+iw)*M))
							woff = append(woff, int32((kh*d.KW+kw)*M))
						}
					}
				}
				d.pixel(row[ow*qNR:], bs, x, xoff, woff, zp)
				continue
			}
			acc := row[ow*M : (ow+1)*M]
			for kh := 0; kh < d.KH; kh++ {
				ih := oh*g.SH - g.PadT + kh*g.DH
				if ih < 0 || ih >= g.H {
					continue
				}
				for kw := 0; kw < d.KW; kw++ {
					iw := ow*g.SW - g.PadL + kw*g.DW
					if iw < 0 || iw >= g.W {
						continue
					}
					t := kh*d.KW + kw
					d.tap(acc, d.w[t*M:(t+1)*M], x, ih, iw, g, xChannelsLast, zp)
				}
			}
		}
		for c0 := 0; c0 < M; c0 += qNR {
			n := min(qNR, M-c0)
			if pixels {
				out.store(row[c0*OW:(c0+qNR)*OW], OW, c0, n, oh*OW, P, M)
				continue
			}
			for ow := 0; ow < OW; ow++ {
				copy(tile[ow*qNR:ow*qNR+n], row[ow*M+c0:ow*M+c0+n])
			}
			out.store(tile, OW, c0, n, oh*OW, P, M)
		}
	}
}

// padHdr is the size of padded3's record of the padding it holds,
// before the zero points.
const padHdr = 14

// padSize is the size in bytes of the padded image of padded3 (0 when
// the convolution has no padding) and its bottom and right padding:
// as much as the last windows reach past the image.
func (d *QDepthwise) padSize(g *QConvGeom) (n, padB, padR int) {
	padB = max(0, (g.OH-1)*g.SH-g.PadT+(d.KH-1)*g.DH-(g.H-1))
	padR = max(0, (g.OW-1)*g.SW-g.PadL+(d.KW-1)*g.DW-(g.W-1))
	if g.PadT < 0 || g.PadL < 0 || g.PadT == 0 && g.PadL == 0 && padB == 0 && padR == 0 {
		return 0, 0, 0
	}
	return (g.H + g.PadT + padB) * (g.W + g.PadL + padR) * d.C, padB, padR
}

// padded3 runs a 3×3 depthwise convolution with one output channel per
// input channel on channels-last x all through the row kernel: it copies
// the image into a padded one whose padding holds each channel's zero
// point, so that every window lies inside. A pad pixel then adds (zp -
// zp)·w = 0 to the sum corr + Σ x·w, which is the sum over the taps
// inside the image that the pixel path computes: the same int32 bits.
// words holds the padded image (padSize bytes) and one pad pixel after
// it. It reports false, leaving the work to the caller, when a zero
// point is not a level.
//
// With a hard-swish output stage on channels-last levels, the row kernel
// is qdw3RowVNNIHS where it runs, else qdw3RowHSAVX2 on AVX2 CPUs, the
// stage fused (the bias added to corr in corrB, C values).
//
// hdr (padHdr + C values) records the geometry and zero points whose
// padding words holds, written only here, so that the images of a batch
// after the first copy only their pixels: the padding stays in place.
func (d *QDepthwise) padded3(g *QConvGeom, x []uint8, zp, corr, row, corrB, words, hdr []int32, out *QOut) bool {
	M, OW := d.C, g.OW
	nb, padB, padR := d.padSize(g)
	padT, padL := g.PadT, g.PadL
	Hp, Wp := g.H+padT+padB, g.W+padL+padR
	if nb != Hp*Wp*M || len(words)*4 < nb+M+dw3Over || len(hdr) != padHdr+M {
		return false // not sized by padSize
	}
	all := unsafe.Slice((*uint8)(unsafe.Pointer(&words[0])), len(words)*4)
	xp, pix := all[:nb], all[nb:nb+M]
	rowB := Wp * M
	key := [padHdr]int32{1, int32(g.H), int32(g.W), int32(g.OH), int32(OW), int32(g.SH), int32(g.SW), int32(g.DH), int32(g.DW),
		int32(padT), int32(padL), int32(padB), int32(padR), int32(M)}
	if [padHdr]int32(hdr[:padHdr]) != key || !slices.Equal(hdr[padHdr:], zp[:M]) {
		for _, z := range zp[:M] {
			if z < 0 || z > 255 {
				return false
			}
		}
		hdr[0] = 0 // invalid while the padding changes
		for c := range pix {
			pix[c] = uint8(zp[c])
		}
		fillPix := func(b []uint8) {
			for len(b) > 0 {
				b = b[copy(b, pix):]
			}
		}
		fillPix(xp[:padT*rowB+padL*M])
		for h := 0; h < g.H; h++ {
			end := ((h+padT)*Wp + padL + g.W) * M
			next := nb
			if h < g.H-1 {
				next = ((h+padT+1)*Wp + padL) * M
			}
			fillPix(xp[end:next])
		}
		copy(hdr[padHdr:], zp[:M])
		copy(hdr, key[:])
	}
	for h := 0; h < g.H; h++ {
		start := ((h+padT)*Wp + padL) * M
		copy(xp[start:start+g.W*M], x[h*g.W*M:(h+1)*g.W*M])
	}
	P, bs := g.OH*OW, OW*qNR
	hs := out.HSwish
	fuse := hs != nil && out.ChannelsLast && g.DW == 1 && qdw3VNNIOn() && len(corrB) == M
	// On AVX2 the row kernel with the stage fused is qdw3RowHSAVX2.
	fuse2 := hs != nil && out.ChannelsLast && !fuse && qdw3RowHS2On() && len(corrB) == M
	if fuse || fuse2 {
		for c := range corrB {
			corrB[c] = corr[c] + hs.Bias[c]
		}
	}
	for oh := 0; oh < g.OH; oh++ {
		xr := all[oh*g.SH*rowB : nb+M+dw3Over] // the pad pixel after the image and more: see qdw3RowVNNI
		if fuse2 {
			if n := qdw3RowHS2Vec(out.U8[oh*OW*M:], M, xr, g.SW*M, OW, g.DH*rowB, g.DW*M, d.w, M, corrB, hs, M); n > 0 {
				if n < M {
					dw3RowGo(row, bs, xr, g.SW*M, OW, g.DH*rowB, g.DW*M, d.w, M, corr, n, M)
					for c0 := n; c0 < M; c0 += qNR {
						out.store(row[c0*OW:(c0+qNR)*OW], OW, c0, min(qNR, M-c0), oh*OW, P, M)
					}
				}
				continue
			}
		}
		if fuse {
			if n := qdw3RowHSVec(out.U8[oh*OW*M:], xr, g.SW*M, OW, g.DH*rowB, d.w3v, M, corrB, hs); n > 0 {
				if n < M {
					dw3RowGo(row, bs, xr, g.SW*M, OW, g.DH*rowB, M, d.w, M, corr, n, M)
					for c0 := n; c0 < M; c0 += qNR {
						out.store(row[c0*OW:(c0+qNR)*OW], OW, c0, min(qNR, M-c0), oh*OW, P, M)
					}
				}
				continue
			}
		}
		n := 0
		if g.DW == 1 {
			n = qdw3RowVNNIVec(row, bs, xr, g.SW*M, OW, g.DH*rowB, d.w3v, M, corr)
		}
		switch {
		case n == 0:
			d.row3(row, bs, xr, g.SW*M, OW, g.DH*rowB, g.DW*M, corr)
		case n < M:
			dw3RowGo(row, bs, xr, g.SW*M, OW, g.DH*rowB, M, d.w, M, corr, n, M)
		}
		for c0 := 0; c0 < M; c0 += qNR {
			out.store(row[c0*OW:(c0+qNR)*OW], OW, c0, min(qNR, M-c0), oh*OW, P, M)
		}
	}
	return true
}

// pixel computes the accumulators of one output pixel of a channels-last
// image with one output channel per input channel: xoff and woff are the
// offsets of the input pixel and of the weights of each tap inside the
// image. Channel c goes to acc[c/16*bs + c%16].
func (d *QDepthwise) pixel(acc []int32, bs int, x []uint8, xoff, woff []int32, zp []int32) {
	C := d.C
	for c := qdwPixelVec(acc, bs, x, xoff, woff, d.w, zp, C); c < C; c++ {
		var s int32
		for k, xo := range xoff {
			s += (int32(x[int(xo)+c]) - zp[c]) * d.w[int(woff[k])+c]
		}
		acc[c/qNR*bs+c%qNR] = s
	}
}

// row3 computes npix output pixels of a 3×3 depthwise convolution on a
// channels-last image with one output channel per input channel, whose
// windows lie inside the image, in assembly where it can (see
// dw3RowGo for the arguments).
func (d *QDepthwise) row3(acc []int32, bs int, x []uint8, xstep, npix, rowB, colB int, corr []int32) {
	n := qdw3RowVec(acc, bs, x, xstep, npix, rowB, colB, d.w, d.C, corr, d.C)
	if n < d.C {
		dw3RowGo(acc, bs, x, xstep, npix, rowB, colB, d.w, d.C, corr, n, d.C)
	}
}

// dw3RowGo is the Go twin of the 3×3 row kernel for channels c0..c1-1:
// pixel p's window starts p*xstep bytes into x and its tap (kh, kw)
// kh*rowB + kw*colB bytes on; w[t*M + c] is channel c's weight of tap t
// and corr[c] is -zp[c]·Σ_t w[t*M + c]. Channel c of pixel p goes to
// acc[c/16*bs + p*16 + c%16]. Σ (x - zp)·w = Σ x·w - zp·Σ w holds in
// wrapping int32 arithmetic, so it is the same sum as pixel's.
func dw3RowGo(acc []int32, bs int, x []uint8, xstep, npix, rowB, colB int, w []int32, M int, corr []int32, c0, c1 int) {
	for p := 0; p < npix; p++ {
		xp := x[p*xstep:]
		for c := c0; c < c1; c++ {
			s := corr[c]
			for kh := 0; kh < 3; kh++ {
				for kw := 0; kw < 3; kw++ {
					s += int32(xp[kh*rowB+kw*colB+c]) * w[(kh*3+kw)*M+c]
				}
			}
			acc[c/qNR*bs+p*qNR+c%qNR] = s
		}
	}
}

// tap adds one kernel tap's products at input pixel (ih, iw) to the
// accumulators of every output channel (the general case: channel-major
// input, or several output channels per input channel).
func (d *QDepthwise) tap(acc, wt []int32, x []uint8, ih, iw int, g *QConvGeom, xChannelsLast bool, zp []int32) {
	C := d.C
	for m := range acc {
		c := m / d.Mult
		var v uint8
		if xChannelsLast {
			v = x[(ih*g.W+iw)*C+c]
		} else {
			v = x[(c*g.H+ih)*g.W+iw]
		}
		acc[m] += (int32(v) - zp[c]) * wt[m]
	}
}
