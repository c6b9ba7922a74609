package kernels

import "fmt"

// Depthwise3x3 runs a 3×3 depthwise convolution of stride 1 or 2
// (MobileNet's) on the channel-major image itself, in blocks of 8
// outputs of a row, several output rows at a time.
//
//   - Stride 1: the input rows a group of four output rows reads go in
//     order, and each kernel column's 8 inputs of a row (one load) are
//     added to every output row that reads them there: a load serves
//     three FMAs, where DirectConv.Depthwise loads (and masks) an input
//     per FMA.
//   - Stride 2: each tap's eight inputs are the even (or odd) elements
//     of sixteen consecutive values of an input row, picked out in
//     registers, so there is no phase-plane copy (ConvLayout.Fill)
//     before it and no Compact after it.
//
// Padding reads as +0: rows above or below the image read a row of
// zeros and columns outside it are masked, so each output is the sum of
// ConvLayout's Depthwise: the bias, then an FMA per tap in tap order,
// bit for bit.
type Depthwise3x3 struct {
	stride, h, w, oh, ow, padL int
	// blocks is the number of 8-output blocks per output row.
	blocks int
	// rows holds the offsets in a channel's plane of the input rows the
	// kernel reads, -1 for a row of padding. Stride 1: input row
	// t-PadBegin[0] at t, for as many rows as the kernel's groups of
	// dw3Group1 output rows read. Stride 2: input row
	// 2oy+ky-PadBegin[0] at 3oy+ky, for output row oy (and dw3Group2-1
	// more rows repeating the last, so that the kernel runs dw3Group2
	// rows at a time) and kernel row ky.
	rows []int
	// masks holds, per block, the column masks of the three kernel
	// columns, 8 int32 each (0: an input column outside the image) in
	// the kernel's lane order (natural at stride 1, dw3Lanes2 at stride
	// 2), then 1 when any is 0 (the kernel masks that block's inputs),
	// dw3BlockMasks in all.
	masks []int32
	// store is the mask of the last block's outputs inside a row.
	store [8]int32
	// zero is a row of zeros read for the padding rows, from zero[2:].
	zero []float32
	// lo and hi bound the offsets a channel's reads reach from its
	// plane: [lo, hi).
	lo, hi int
}

// The number of output rows the kernels compute at once. Each output
// is a chain of nine dependent FMAs. At stride 2, eight rows keep eight
// chains in flight (four ran the 64×28×28 layer 1.9 times longer); at
// stride 1 the nine weights take nine registers, which leaves four for
// the sums.
const (
	dw3Group1 = 4
	dw3Group2 = 8
)

// dw3BlockMasks is the number of int32 of a block's masks.
const dw3BlockMasks = 32

// dw3Lanes2 is the output held by each lane of the stride-2 kernel's
// sums before their store: VSHUFPS picks the even (or odd) elements of
// two 8-float halves as 0, 1, 4, 5 | 2, 3, 6, 7, and one VPERMPD per
// block puts them back in order.
var dw3Lanes2 = [8]int{0, 1, 4, 5, 2, 3, 6, 7}

// NewDepthwise3x3 plans s for the kernels, or returns nil when s is not
// a 2-D 3×3 convolution of stride 1 or 2 (the same in both dimensions)
// and dilation 1 with at most 2 of padding before each dimension, or the
// CPU lacks AVX2 and FMA (with AVX-512 the 16-wide kernels of the other
// paths are kept: these were measured only on AVX2).
func NewDepthwise3x3(s ConvShape) *Depthwise3x3 {
	if !dw3Available() || len(s.In) != 2 || len(s.Kernel) != 2 || len(s.Strides) != 2 || len(s.Dilations) != 2 || len(s.PadBegin) != 2 || len(s.Out) != 2 {
		return nil
	}
	stride := s.Strides[0]
	for d := 0; d < 2; d++ {
		if s.Kernel[d] != 3 || s.Strides[d] != stride || stride != 1 && stride != 2 || s.Dilations[d] != 1 || s.PadBegin[d] < 0 || s.PadBegin[d] > 2 || s.In[d] < 1 || s.Out[d] < 1 {
			return nil
		}
	}
	h, w, oh, ow := s.In[0], s.In[1], s.Out[0], s.Out[1]
	padT, padL := s.PadBegin[0], s.PadBegin[1]
	d := &Depthwise3x3{stride: stride, h: h, w: w, oh: oh, ow: ow, padL: padL, blocks: (ow + 7) / 8}
	// A row's loads read from 8·stride·block-padL: 10 floats at stride
	// 1 (three loads one float apart), 18 at stride 2 (two loads two
	// floats apart).
	reach := 8*stride*(d.blocks-1) - padL + 8*stride + 2
	first := true
	row := func(iy int) int {
		if iy < 0 || iy >= h {
			return -1
		}
		off := iy * w
		if first || off-padL < d.lo {
			d.lo = off - padL
		}
		if first || off+reach > d.hi {
			d.hi = off + reach
		}
		first = false
		return off
	}
	lanes := [8]int{0, 1, 2, 3, 4, 5, 6, 7}
	if stride == 1 {
		groups := (oh + dw3Group1 - 1) / dw3Group1
		d.rows = make([]int, groups*dw3Group1+2)
		for t := range d.rows {
			d.rows[t] = row(t - padT)
		}
	} else {
		d.rows = make([]int, 3*(oh+dw3Group2-1))
		for oy := 0; oy < oh+dw3Group2-1; oy++ {
			for ky := 0; ky < 3; ky++ {
				d.rows[3*oy+ky] = row(2*min(oy, oh-1) + ky - padT)
			}
		}
		lanes = dw3Lanes2
	}
	d.masks = make([]int32, d.blocks*dw3BlockMasks)
	for b := 0; b < d.blocks; b++ {
		m := d.masks[b*dw3BlockMasks:]
		for kx := 0; kx < 3; kx++ {
			for lane, j := range lanes {
				// Lanes past the row are not stored: they read what
				// they read.
				ox := 8*b + j
				ix := stride*ox + kx - padL
				m[kx*8+lane] = -1
				if ox < ow && (ix < 0 || ix >= w) {
					m[kx*8+lane] = 0
					m[24] = 1
				}
			}
		}
	}
	for j := 0; j < 8; j++ {
		if 8*(d.blocks-1)+j < ow {
			d.store[j] = -1
		}
	}
	d.zero = make([]float32, 2+reach+8)
	return d
}

// Run computes chans channels of the convolution: channel i of the
// output, at c[i*ld:] (OutSize values, row after row), is the bias[i]
// (none when bias is nil) plus the taps w[9i:9i+9] over the input
// channel at b[i*inStride:] (In[0]·In[1] values; inStride 0: one input
// for every channel).
func (d *Depthwise3x3) Run(w, b []float32, inStride int, c []float32, ld int, bias []float32, chans int) error {
	plane, out := d.h*d.w, d.oh*d.ow
	if chans < 1 || inStride != 0 && inStride < plane || ld < out {
		return fmt.Errorf("depthwise 3x3: %d channels %d and %d apart, want at least %d (or 0) and %d", chans, inStride, ld, plane, out)
	}
	if len(w) < 9*chans || len(b) < (chans-1)*inStride+plane || len(c) < (chans-1)*ld+out || bias != nil && len(bias) < chans {
		return fmt.Errorf("depthwise 3x3: %d weights, %d inputs, %d outputs, %d biases for %d channels of %d inputs and %d outputs", len(w), len(b), len(c), len(bias), chans, plane, out)
	}
	if bias == nil {
		s := getScratch()
		defer putScratch(s)
		s.b = grow(s.b, chans)
		clear(s.b)
		bias = s.b
	}
	if inStride == 0 {
		if d.lo < 0 || d.hi > len(b) {
			d.runCopy(w, b[:plane], c, ld, bias, chans)
			return nil
		}
		d.run(w, b, 0, c, ld, bias, chans)
		return nil
	}
	// The reads of a channel reach [lo, hi) from its plane: channels
	// before c0 or from c1 on would reach outside b (the first and last
	// ones), and run from a copy.
	c0, c1 := 0, chans
	for c0 < chans && c0*inStride+d.lo < 0 {
		c0++
	}
	for c1 > c0 && (c1-1)*inStride+d.hi > len(b) {
		c1--
	}
	for ch := 0; ch < chans; ch++ {
		if ch < c0 || ch >= c1 {
			d.runCopy(w[9*ch:], b[ch*inStride:ch*inStride+plane], c[ch*ld:], ld, bias[ch:], 1)
		}
	}
	if c0 < c1 {
		d.run(w[9*c0:], b[c0*inStride:], inStride, c[c0*ld:], ld, bias[c0:], c1-c0)
	}
	return nil
}

// runCopy runs chans channels of one input plane b from a copy of it
// with room around it for the reads past its ends.
func (d *Depthwise3x3) runCopy(w, b, c []float32, ld int, bias []float32, chans int) {
	s := getScratch()
	defer putScratch(s)
	margin := max(-d.lo, 0)
	s.rows = grow(s.rows, margin+max(d.hi, len(b)))
	clear(s.rows)
	copy(s.rows[margin:], b)
	d.run(w, s.rows[margin:], 0, c, ld, bias, chans)
}
