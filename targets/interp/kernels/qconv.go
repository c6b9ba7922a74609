package kernels

import (
	"encoding/binary"
	"fmt"
)

// QConvKernel is a 2-D convolution (group 1) with packed int8 weights.
// Its reduction runs over kernel rows, kernel columns, then input
// channels, each kernel row padded with zero weights to a multiple of 4
// steps (SegLen), so that on a channels-last image the steps of one
// kernel row are contiguous: the saturating model pairs adjacent input
// channels (adjacent kernel columns when there is one input channel), as
// int8 CPU kernels over channels-last data do.
type QConvKernel struct {
	M, C, KH, KW int
	// SegLen is KW·C rounded up to a multiple of 4.
	SegLen int
	B      *QPackedB
}

// NewQConvKernel packs weights w[m][c][kh][kw] (ONNX layout) for model.
func NewQConvKernel(w []int8, M, C, KH, KW int, model QModel) (*QConvKernel, error) {
	if M < 1 || C < 1 || KH < 1 || KW < 1 || len(w) != M*C*KH*KW {
		return nil, fmt.Errorf("int8 convolution: %d weights for %d×%d×%d×%d", len(w), M, C, KH, KW)
	}
	seg := (KW*C + qKG - 1) / qKG * qKG
	K := KH * seg
	re := make([]int8, M*K)
	for m := 0; m < M; m++ {
		for c := 0; c < C; c++ {
			for i := 0; i < KH; i++ {
				for j := 0; j < KW; j++ {
					re[m*K+i*seg+j*C+c] = w[((m*C+c)*KH+i)*KW+j]
				}
			}
		}
	}
	b, err := PackQB(re, M, K, K, model)
	if err != nil {
		return nil, err
	}
	return &QConvKernel{M: M, C: C, KH: KH, KW: KW, SegLen: seg, B: b}, nil
}

// QConvGeom is the geometry of one convolution call.
type QConvGeom struct {
	H, W, OH, OW           int
	SH, SW, DH, DW         int
	PadT, PadL, PadB, PadR int
}

// QOut is where a convolution or matrix product writes: levels of the
// next quantizer (Req, or HSwish through a hard-swish, or Leaky through
// a LeakyRelu, into U8) or
// float32 values (Deq, into F32), in channels-last order (pixel-major)
// or channel-major (NCHW) order.
type QOut struct {
	Req          *QRequant
	HSwish       *QHardSwish
	Leaky        *QLeakyReLU
	U8           []uint8
	Deq          *QDequant
	F32          []float32
	ChannelsLast bool
}

// store writes rows rows of 16 accumulators (channels c0..c0+n-1) as
// output pixels pixel.. of pixels.
func (o *QOut) store(acc []int32, rows, c0, n, pixel, pixels, channels int) {
	off, rs, cs := pixel*channels+c0, channels, 1
	if !o.ChannelsLast {
		off, rs, cs = c0*pixels+pixel, 1, pixels
	}
	switch {
	case o.Req != nil:
		o.Req.storeRows(acc, rows, c0, n, o.U8, off, rs, cs)
	case o.HSwish != nil:
		o.HSwish.storeRows(acc, rows, c0, n, o.U8, off, rs, cs)
	case o.Leaky != nil:
		o.Leaky.storeRows(acc, rows, c0, n, o.U8, off, rs, cs)
	default:
		o.Deq.storeRows(acc, rows, c0, n, o.F32, off, rs, cs)
	}
}

// QScratch holds the buffers of one convolution call; they only grow.
type QScratch struct {
	buf  []uint8
	offs []int32
	acc  []int32
	// conv caches the offset table of the last convolution geometry
	// (its first convN entries of offs, the largest being convMax),
	// which every image of a batch shares.
	conv    convKey
	convN   int
	convMax int32
	// pbuf holds direct's padded image, only that; padded describes
	// what it holds around the last image (its padding and tail), which
	// the next image of the same geometry and zero point keeps: only the
	// image rows are copied again.
	pbuf   []uint8
	padded padKey
	// wide holds the activations of the int16-weight kernel widened to
	// uint16 (qWiden).
	wide []uint16
	// tail holds the levels of a last block of fewer than 16 channels
	// (QPackedB.tailFused).
	tail []uint8
}

// padKey is what the padding of direct's buffer depends on.
type padKey struct {
	buf                       *uint8
	size, c, h, w, padT, padL int
	wp                        int
	zp                        uint8
}

// convKey is what a convolution's offset table depends on.
type convKey struct{ oh, ow, sh, sw, wp, c int }

func (s *QScratch) bytes(n int) []uint8 {
	if cap(s.buf) < n {
		s.buf = make([]uint8, n)
	}
	return s.buf[:n]
}

func (s *QScratch) ints(n int) []int32 {
	if cap(s.acc) < n {
		s.acc = make([]int32, n)
	}
	return s.acc[:n]
}

// offsets returns a table of n row offsets with room for whole tiles.
func (s *QScratch) offsets(n int) []int32 {
	s.convN = 0
	if c := (n + qMR - 1) / qMR * qMR; cap(s.offs) < c {
		s.offs = make([]int32, c)
	}
	return s.offs[:n]
}

// convOffsets returns the offsets of the output pixels of a convolution
// into its padded channels-last image (rows of wp pixels of c channels)
// and the largest of them, computed once per geometry.
func (s *QScratch) convOffsets(key convKey) ([]int32, int32) {
	n := key.oh * key.ow
	if s.convN == n && s.conv == key {
		return s.offs[:n], s.convMax
	}
	offs := s.offsets(n)
	for oh, p := 0, 0; oh < key.oh; oh++ {
		for ow := 0; ow < key.ow; ow, p = ow+1, p+1 {
			offs[p] = int32((oh*key.sh*key.wp + ow*key.sw) * key.c)
		}
	}
	s.conv, s.convN = key, n
	s.convMax = 0
	if n > 0 {
		s.convMax = offs[n-1] // offsets grow with the pixel index
	}
	return offs, s.convMax
}

// RunImage convolves one image x (channels-last [H][W][C] when
// xChannelsLast, else [C][H][W]) of uint8 levels with zero point zp,
// which is also the padding value, and writes the image's output of
// OH·OW pixels by M channels through out.
func (k *QConvKernel) RunImage(g *QConvGeom, x []uint8, xChannelsLast bool, zp uint8, s *QScratch, out *QOut) {
	C := k.C
	if len(x) < g.H*g.W*C {
		panic(fmt.Sprintf("int8 convolution: image of %d values for %d×%d×%d", len(x), g.H, g.W, C))
	}
	if g.DW == 1 {
		k.direct(g, x, xChannelsLast, zp, s, out)
		return
	}
	k.im2col(g, x, xChannelsLast, zp, s, out)
}

// direct reads the reduction rows straight from a padded channels-last
// copy of the image (from the image itself when it is channels-last and
// needs no padding): kernel row i of output pixel (oh, ow) is KW·C
// contiguous bytes (read as SegLen, the extra bytes meeting zero
// weights).
func (k *QConvKernel) direct(g *QConvGeom, x []uint8, xcl bool, zp uint8, s *QScratch, out *QOut) {
	C := k.C
	hp, wp := g.H+g.PadT+g.PadB, g.W+g.PadL+g.PadR
	rows := QRows{Segs: k.KH, SegLen: k.SegLen, SegStride: g.DH * wp * C}
	size := hp*wp*C + k.SegLen
	P := g.OH * g.OW
	offs, maxOff := s.convOffsets(convKey{oh: g.OH, ow: g.OW, sh: g.SH, sw: g.SW, wp: wp, c: C})
	if xcl && g.PadT == 0 && g.PadL == 0 && g.PadB == 0 && g.PadR == 0 && k.SegLen == k.KW*C {
		// Without padding the image is its own padded copy, and its
		// windows' segments end inside it.
		k.B.allRows(x[:g.H*g.W*C], offs, maxOff, rows, out, 0, P, k.M, s)
		return
	}
	if cap(s.pbuf) < size {
		s.pbuf = make([]uint8, size)
	}
	buf := s.pbuf[:size]
	key := padKey{buf: &buf[0], size: size, c: C, h: g.H, w: g.W, padT: g.PadT, padL: g.PadL, wp: wp, zp: zp}
	if s.padded == key {
		copyImage(buf, x, xcl, C, g.H, g.W, g.PadT, g.PadL, wp)
	} else {
		padImage(buf[:hp*wp*C], x, xcl, zp, C, g.H, g.W, g.PadT, g.PadL, wp)
		clear(buf[hp*wp*C:])
		s.padded = key
	}
	k.B.allRows(buf, offs, maxOff, rows, out, 0, P, k.M, s)
}

// padImage writes image x into buf as channels-last rows of wp pixels,
// with zp around it.
func padImage(buf, x []uint8, xcl bool, zp uint8, C, H, W, padT, padL, wp int) {
	fill := func(b []uint8) {
		if zp == 0 {
			clear(b)
			return
		}
		for i := range b {
			b[i] = zp
		}
	}
	// Padding only: the rows above, each row's right and the next row's
	// left columns (contiguous), and the rows below.
	top := ((padT*wp + padL) * C)
	fill(buf[:top])
	for h := 0; h < H; h++ {
		end := ((h+padT)*wp + padL + W) * C
		next := len(buf) // after the last row: every row below
		if h < H-1 {
			next = ((h+padT+1)*wp + padL) * C
		}
		fill(buf[end:next])
	}
	copyImage(buf, x, xcl, C, H, W, padT, padL, wp)
}

// copyImage writes the pixels of image x into the channels-last rows of
// wp pixels of buf, leaving the padding around them as it is. A
// channel-major x is transposed 8 channels by 8 pixels at a time
// (Transpose8x8 on 64-bit words), the channels and pixels past the last
// whole group of 8 one byte at a time.
func copyImage(buf, x []uint8, xcl bool, C, H, W, padT, padL, wp int) {
	c8, w8 := C&^7, W&^7
	var t [8]uint64
	for h := 0; h < H; h++ {
		row := buf[((h+padT)*wp+padL)*C : ((h+padT)*wp+padL+W)*C]
		if xcl {
			copy(row, x[h*W*C:(h+1)*W*C])
			continue
		}
		for c0 := 0; c0 < c8; c0 += 8 {
			for w0 := 0; w0 < w8; w0 += 8 {
				for i := range t {
					t[i] = binary.LittleEndian.Uint64(x[((c0+i)*H+h)*W+w0:])
				}
				Transpose8x8(&t)
				for p, v := range t {
					binary.LittleEndian.PutUint64(row[(w0+p)*C+c0:], v)
				}
			}
		}
		for w := 0; w < W; w++ {
			px := row[w*C : (w+1)*C]
			c := c8
			if w >= w8 {
				c = 0
			}
			for ; c < C; c++ {
				px[c] = x[(c*H+h)*W+w]
			}
		}
	}
}

// im2col gathers reduction rows (kernel row, column, channel; each
// kernel row padded to SegLen) into a matrix, 64 pixels at a time. It
// serves dilated kernel columns, which direct cannot read contiguously.
func (k *QConvKernel) im2col(g *QConvGeom, x []uint8, xcl bool, zp uint8, s *QScratch, out *QOut) {
	C, kp := k.C, k.B.KP
	P := g.OH * g.OW
	const chunk = 64
	a := s.bytes(chunk * kp)
	for p0 := 0; p0 < P; p0 += chunk {
		np := min(chunk, P-p0)
		for p := 0; p < np; p++ {
			row := a[p*kp : (p+1)*kp]
			oh, ow := (p0+p)/g.OW, (p0+p)%g.OW
			for kh := 0; kh < k.KH; kh++ {
				i := kh * k.SegLen
				ih := oh*g.SH - g.PadT + kh*g.DH
				for kw := 0; kw < k.KW; kw++ {
					iw := ow*g.SW - g.PadL + kw*g.DW
					inside := ih >= 0 && ih < g.H && iw >= 0 && iw < g.W
					for c := 0; c < C; c++ {
						v := zp
						if inside {
							if xcl {
								v = x[(ih*g.W+iw)*C+c]
							} else {
								v = x[(c*g.H+ih)*g.W+iw]
							}
						}
						row[i] = v
						i++
					}
				}
				for ; i < (kh+1)*k.SegLen; i++ {
					row[i] = zp
				}
			}
		}
		offs := s.offsets(np)
		for p := range offs {
			offs[p] = int32(p * kp)
		}
		rows := QRows{Segs: 1, SegLen: kp}
		k.B.allRows(a, offs, maxOffset(offs), rows, out, p0, P, k.M, s)
	}
}

// QMatMul multiplies rows of uint8 levels by packed weights: row i of
// x is x[i*K : i*K+K] (K = b.K), and output row i has b.M channels,
// written through out as channels-last rows (out.ChannelsLast must be
// true). Rows are repacked in scratch when K is not a multiple of 4.
func QMatMul(b *QPackedB, x []uint8, rows int, s *QScratch, out *QOut) {
	K, kp := b.K, b.KP
	if len(x) < rows*K {
		panic(fmt.Sprintf("int8 matrix product: %d values for %d rows of %d", len(x), rows, K))
	}
	const chunk = 64
	for r0 := 0; r0 < rows; r0 += chunk {
		nr := min(chunk, rows-r0)
		src, ld := x[r0*K:r0*K+nr*K], K
		if kp != K {
			a := s.bytes(nr * kp)
			for r := 0; r < nr; r++ {
				row := a[r*kp : (r+1)*kp]
				copy(row, x[(r0+r)*K:(r0+r+1)*K])
				clear(row[K:])
			}
			src, ld = a, kp
		}
		offs := s.offsets(nr)
		for r := range offs {
			offs[r] = int32(r * ld)
		}
		lr := QRows{Segs: 1, SegLen: kp}
		b.allRows(src, offs, maxOffset(offs), lr, out, r0, rows, b.M, s)
	}
}
