package kernels

import "fmt"

// DepthwiseS2 runs a 3×3 stride-2 depthwise convolution (MobileNet's
// down-sampling layers) on the channel-major image itself: each tap's
// eight inputs are the even (or odd) elements of sixteen consecutive
// values of an input row, picked out in registers, so there is no
// phase-plane copy (ConvLayout.Fill) before it and no Compact after
// it. Padding reads as +0: rows above or below the image read a row of
// zeros and columns outside it are masked, so each output is the sum of
// ConvLayout's Depthwise: the bias, then an FMA per tap in tap order,
// bit for bit.
type DepthwiseS2 struct {
	h, w, oh, ow, padL int
	// blocks is the number of 8-output blocks per output row.
	blocks int
	// rows holds, for output row oy (and dws2Group-1 more rows
	// repeating the last, so that the kernel runs dws2Group rows at a
	// time) and kernel row
	// ky, the offset of input row 2oy+ky-PadBegin[0] in a channel's
	// plane, or -1 for a row of padding.
	rows []int
	// masks holds, per block, the column masks of the three kernel
	// columns, 8 int32 each (0: an input column outside the image) in
	// the kernel's lane order (see dws2Lanes), then 1 when any is 0 (the
	// kernel masks that block's inputs), dws2BlockMasks in all.
	masks []int32
	// store is the mask of the last block's outputs inside a row, in
	// output order.
	store [8]int32
	// zero is a row of zeros read for the padding rows, from zero[2:].
	zero []float32
	// lo and hi bound the offsets a channel's reads reach from its
	// plane: [lo, hi).
	lo, hi int
}

// dws2Group is the number of output rows the kernel computes at once:
// each output is a chain of nine dependent FMAs, and eight rows keep
// eight chains in flight (four ran the 64×28×28 layer 1.9 times longer).
const dws2Group = 8

// dws2BlockMasks is the number of int32 of a block's masks.
const dws2BlockMasks = 32

// dws2Lanes is the output held by each lane of the kernel's sums before
// their store: VSHUFPS picks the even (or odd) elements of two 8-float
// halves as 0, 1, 4, 5 | 2, 3, 6, 7, and one VPERMPD per block puts them
// back in order.
var dws2Lanes = [8]int{0, 1, 4, 5, 2, 3, 6, 7}

// NewDepthwiseS2 plans s for the kernel, or returns nil when s is not a
// 2-D 3×3 convolution of stride 2 and dilation 1 with at most 2 of
// padding before each dimension, or the CPU lacks AVX2 and FMA (with
// AVX-512 the phase-plane path, which has 16-wide kernels, is kept: this
// kernel was measured only on AVX2).
func NewDepthwiseS2(s ConvShape) *DepthwiseS2 {
	if !dws2Available() || len(s.In) != 2 || len(s.Kernel) != 2 || len(s.Strides) != 2 || len(s.Dilations) != 2 || len(s.PadBegin) != 2 || len(s.Out) != 2 {
		return nil
	}
	for d := 0; d < 2; d++ {
		if s.Kernel[d] != 3 || s.Strides[d] != 2 || s.Dilations[d] != 1 || s.PadBegin[d] < 0 || s.PadBegin[d] > 2 || s.In[d] < 1 || s.Out[d] < 1 {
			return nil
		}
	}
	h, w, oh, ow := s.In[0], s.In[1], s.Out[0], s.Out[1]
	padT, padL := s.PadBegin[0], s.PadBegin[1]
	d := &DepthwiseS2{h: h, w: w, oh: oh, ow: ow, padL: padL, blocks: (ow + 7) / 8}
	d.rows = make([]int, 3*(oh+dws2Group-1))
	d.lo, d.hi = 0, 0
	first := true
	for oy := 0; oy < oh+dws2Group-1; oy++ {
		for ky := 0; ky < 3; ky++ {
			iy := 2*min(oy, oh-1) + ky - padT
			off := -1
			if iy >= 0 && iy < h {
				off = iy * w
				// The block loads read 18 floats from 16·block-padL.
				lo, hi := off-padL, off+16*(d.blocks-1)-padL+18
				if first || lo < d.lo {
					d.lo = lo
				}
				if first || hi > d.hi {
					d.hi = hi
				}
				first = false
			}
			d.rows[3*oy+ky] = off
		}
	}
	d.masks = make([]int32, d.blocks*dws2BlockMasks)
	for b := 0; b < d.blocks; b++ {
		m := d.masks[b*dws2BlockMasks:]
		for kx := 0; kx < 3; kx++ {
			for lane, j := range dws2Lanes {
				// Lanes past the row are not stored: they read what
				// they read.
				ox := 8*b + j
				ix := 2*ox + kx - padL
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
	d.zero = make([]float32, 16*d.blocks+8)
	return d
}

// Run computes chans channels of the convolution: channel i of the
// output, at c[i*ld:] (OutSize values, row after row), is the bias[i]
// (none when bias is nil) plus the taps w[9i:9i+9] over the input
// channel at b[i*inStride:] (In[0]·In[1] values).
func (d *DepthwiseS2) Run(w, b []float32, inStride int, c []float32, ld int, bias []float32, chans int) error {
	plane, out := d.h*d.w, d.oh*d.ow
	if chans < 1 || inStride < plane || ld < out {
		return fmt.Errorf("depthwise stride 2: %d channels %d and %d apart, want at least %d and %d", chans, inStride, ld, plane, out)
	}
	if len(w) < 9*chans || len(b) < (chans-1)*inStride+plane || len(c) < (chans-1)*ld+out || bias != nil && len(bias) < chans {
		return fmt.Errorf("depthwise stride 2: %d weights, %d inputs, %d outputs, %d biases for %d channels of %d inputs and %d outputs", len(w), len(b), len(c), len(bias), chans, plane, out)
	}
	if bias == nil {
		s := getScratch()
		defer putScratch(s)
		s.b = grow(s.b, chans)
		clear(s.b)
		bias = s.b
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
			d.runCopy(w[9*ch:], b[ch*inStride:ch*inStride+plane], c[ch*ld:], bias[ch:])
		}
	}
	if c0 < c1 {
		d.run(w[9*c0:], b[c0*inStride:], inStride, c[c0*ld:], ld, bias[c0:], c1-c0)
	}
	return nil
}

// runCopy runs one channel from a copy of its plane with room around it
// for the reads past its ends.
func (d *DepthwiseS2) runCopy(w, b, c, bias []float32) {
	s := getScratch()
	defer putScratch(s)
	margin := max(-d.lo, 0)
	s.rows = grow(s.rows, margin+max(d.hi, len(b)))
	clear(s.rows)
	copy(s.rows[margin:], b)
	d.run(w, s.rows[margin:], 0, c, 0, bias, 1)
}
