package kernels

import "fmt"

// DirectConv runs a stride-1 2-D convolution whose output rows are as
// wide as its input rows (a "same" convolution, such as 3×3 with
// padding 1) on the input image itself, without the zero-padded copy of
// ConvLayout.Fill: output position (y, x) is product column y·W+x (W the
// row width, so the output is dense: no Compact either), and each kernel
// tap reads the image shifted by a fixed offset under a mask of the
// columns whose input lies inside the image. The masked-out columns read
// as zero, as the padding would, so the results are bit for bit those
// of MulOffsets over ConvLayout's buffer. It needs masked
// micro-kernels: the 32-column AVX-512 ones, or without AVX-512 the
// 16-column AVX2 ones; NewDirectConv returns nil without either.
//
// A stride-2 convolution of an image of even height and width whose
// output is half as high and wide (3×3 with padding 1, the downsampling
// convolutions of ResNets) runs the same way on the image split into
// its four phases (even and odd rows by even and odd columns, Fill),
// each as large as the output: tap (ky, kx) reads input row 2y+t (t =
// ky·dilation−pad), which is row y+⌊t/2⌋ of the phase of t's parity, so
// each tap again reads one plane shifted by a fixed offset under a mask.
type DirectConv struct {
	// N is the number of product columns: the output size per channel
	// of all Images images.
	N, Images int
	// width is the column block of the masked kernels the plan is for:
	// nrWide (AVX-512) or nr (AVX2).
	width int
	// inSize is the size of an input plane (an image's channel, or at
	// stride 2 one of its phases), taps the kernel taps.
	inSize, taps int
	// stride is the plan's stride (1 or 2); phases the planes of each
	// input channel (1, or 4 at stride 2); inH and inW the image's size.
	stride, phases, inH, inW int
	// steps holds, per channel and tap, the offset of its B row from
	// the image and the tap's index; tapOffs the taps' offsets alone.
	steps, tapOffs []int
	// stepsV holds the steps of a 16-column plan packed for its kernels
	// (packStepV).
	stepsV []int
	// lo and hi are the least and greatest offsets of the steps.
	lo, hi int
	// masks holds, per block of width columns, the column mask of each
	// tap (bit j: column j); vmasks (16-column plans) the same as
	// vectors, nr int32 per tap and block, -1 for a column kept.
	masks  []uint32
	vmasks []int32
}

// DirectWidth is the column block of DirectConv's products on this CPU
// (32 with AVX-512, 16 with AVX2), or 0 when NewDirectConv returns nil.
// Its products are computed a block at a time, so that a product of n
// columns costs about as much as one of n rounded up to the block.
func DirectWidth() int {
	switch {
	case kernel6m != nil:
		return nrWide
	case kernel6v != nil:
		return nr
	}
	return 0
}

// NewDirectConv plans s over channels input channels of images images,
// or returns nil when s is neither a stride-1 2-D convolution with
// output rows as wide as its input rows nor a stride-2 one of an image
// of even height and width with an output half as high and wide whose
// taps read all four phases, or the CPU lacks the masked micro-kernels.
//
// Several images (images > 1, which at stride 1 needs as many output
// rows as input rows) are stacked: at stride 1 channel c of image i is
// at (c·images+i)·In[0]·In[1] of the input (at stride 2 each of its
// phases p at ((4c+p)·images+i)·Out[0]·Out[1]), and output column
// i·Out[0]·Out[1]+q is column q of image i, so that small images share
// column blocks instead of each rounding its columns up to a multiple
// of the block (DirectWidth). Each image's taps are masked at its own
// borders. Stride-2 plans, and stacked ones, read their input from a
// buffer Fill writes (NeedsFill).
func NewDirectConv(s ConvShape, channels, images int) *DirectConv {
	width := DirectWidth()
	if width == 0 || len(s.In) != 2 || len(s.Kernel) != 2 || len(s.Strides) != 2 || len(s.Dilations) != 2 || len(s.PadBegin) != 2 || len(s.Out) != 2 {
		return nil
	}
	h, w := s.In[0], s.In[1]
	if h < 1 || w < 1 || s.Out[0] < 1 || channels < 1 || images < 1 {
		return nil
	}
	kh, kw := s.Kernel[0], s.Kernel[1]
	// Each tap reads plane pl (of phases per channel, ph×pw each) shifted
	// by (sy, sx) from the output position.
	type tap struct{ pl, sy, sx int }
	taps := make([]tap, 0, kh*kw)
	d := &DirectConv{width: width, taps: kh * kw, inH: h, inW: w}
	var ph, pw int
	switch {
	case s.Strides[0] == 1 && s.Strides[1] == 1:
		if s.Out[1] != w || images > 1 && s.Out[0] != h {
			return nil
		}
		d.stride, d.phases, ph, pw = 1, 1, h, w
		for ky := 0; ky < kh; ky++ {
			for kx := 0; kx < kw; kx++ {
				taps = append(taps, tap{0, ky*s.Dilations[0] - s.PadBegin[0], kx*s.Dilations[1] - s.PadBegin[1]})
			}
		}
	case s.Strides[0] == 2 && s.Strides[1] == 2:
		if h%2 != 0 || w%2 != 0 || s.Out[0] != h/2 || s.Out[1] != w/2 {
			return nil
		}
		d.stride, d.phases, ph, pw = 2, 4, h/2, w/2
		var used [4]bool
		for ky := 0; ky < kh; ky++ {
			for kx := 0; kx < kw; kx++ {
				ty, tx := ky*s.Dilations[0]-s.PadBegin[0], kx*s.Dilations[1]-s.PadBegin[1]
				pl := (ty&1)*2 + tx&1
				used[pl] = true
				taps = append(taps, tap{pl, ty >> 1, tx >> 1})
			}
		}
		if used != [4]bool{true, true, true, true} {
			return nil // Fill would split planes no tap reads
		}
	default:
		return nil
	}
	d.N, d.Images, d.inSize = images*s.Out[0]*pw, images, ph*pw
	tapOff := make([]int, 0, d.taps)
	for _, t := range taps {
		tapOff = append(tapOff, t.pl*images*d.inSize+t.sy*pw+t.sx)
	}
	d.tapOffs = tapOff
	d.steps = make([]int, 0, 2*channels*d.taps)
	for c := 0; c < channels; c++ {
		for t, o := range tapOff {
			d.steps = append(d.steps, c*d.phases*images*d.inSize+o, t)
		}
	}
	for i := 0; i < len(d.steps); i += 2 {
		if i == 0 || d.steps[i] < d.lo {
			d.lo = d.steps[i]
		}
		if i == 0 || d.steps[i] > d.hi {
			d.hi = d.steps[i]
		}
	}
	blocks := (d.N + width - 1) / width
	d.masks = make([]uint32, blocks*d.taps)
	for b := 0; b < blocks; b++ {
		for ti, t := range taps {
			var m uint32
			for j := 0; j < width; j++ {
				q := b*width + j
				if q >= d.N {
					break
				}
				iy := q%(s.Out[0]*pw)/pw + t.sy
				ix := q%pw + t.sx
				if iy >= 0 && iy < ph && ix >= 0 && ix < pw {
					m |= 1 << j
				}
			}
			d.masks[b*d.taps+ti] = m
		}
	}
	if width == nr {
		if d.taps >= 1024 {
			return nil // too many taps to pack
		}
		d.stepsV = make([]int, len(d.steps)/2)
		for p := range d.stepsV {
			d.stepsV[p] = packStepV(d.steps[2*p], d.steps[2*p+1])
		}
		d.vmasks = make([]int32, len(d.masks)*nr)
		for i, m := range d.masks {
			for j := 0; j < nr; j++ {
				if m>>j&1 != 0 {
					d.vmasks[i*nr+j] = -1
				}
			}
		}
	}
	return d
}

// NeedsFill reports whether Mul reads its input from a buffer Fill
// writes (stride 2, or stacked images) rather than from the image.
func (d *DirectConv) NeedsFill() bool { return d.stride != 1 || d.Images > 1 }

// BufferSize is the size of the buffer Fill writes for channels input
// channels.
func (d *DirectConv) BufferSize(channels int) int { return channels * d.phases * d.Images * d.inSize }

// Fill writes the channels input channels of image (of the plan's
// Images) from src (each In[0]·In[1] values) into buf, as Mul reads
// them: at stride 1 each channel's plane at its stacked place; at
// stride 2 its four phases (even and odd rows by even and odd columns)
// each at its place. buf holds BufferSize(channels) values.
func (d *DirectConv) Fill(buf, src []float32, channels, image int) {
	plane := d.Images * d.inSize // one phase of a channel, all images
	size := d.inH * d.inW
	if d.stride == 1 {
		for c := 0; c < channels; c++ {
			copy(buf[c*plane+image*d.inSize:c*plane+(image+1)*d.inSize], src[c*size:(c+1)*size])
		}
		return
	}
	h, w := d.inH, d.inW
	for c := 0; c < channels; c++ {
		in := src[c*size : (c+1)*size]
		for py := 0; py < 2; py++ {
			even := (c*d.phases+py*2)*plane + image*d.inSize
			if deinterleave2Rows(buf, even, plane, w/2, in[py*w:], 2*w, h/2, w) {
				continue
			}
			for y := 0; y < h/2; y++ {
				row := buf[even+y*(w/2):]
				deinterleave2(row[:w/2], row[plane:plane+w/2], in[(2*y+py)*w:(2*y+py+1)*w])
			}
		}
	}
}

// Mul computes product columns [q0, q1) of pa times the convolution
// input b (the planes of as many channels as pa.K/taps, each of Images
// images of the input size): C[i][q-q0] is c[i*ldc+q-q0], stored as ep
// says (Accumulate and Rows are not supported; Add is). q0 must be a
// multiple of the plan's block (DirectWidth, 32 at most).
func (d *DirectConv) Mul(pa *PackedA, b []float32, q0, q1 int, c []float32, ldc int, ep Epilogue) error {
	if pa.K != len(d.steps)/2 {
		return fmt.Errorf("direct conv: %d rows of B for %d columns of A", len(d.steps)/2, pa.K)
	}
	if ep.Accumulate || ep.Rows.Stride > 0 {
		return fmt.Errorf("direct conv: accumulating and compacted stores are not supported")
	}
	if q0 < 0 || q0%d.width != 0 || q1 > d.N || q0 > q1 {
		return fmt.Errorf("direct conv: columns [%d, %d) of %d", q0, q1, d.N)
	}
	if ep.Bias != nil && len(ep.Bias) < pa.M {
		return fmt.Errorf("direct conv: bias has %d values for %d rows", len(ep.Bias), pa.M)
	}
	if pa.M == 0 || q0 == q1 {
		return nil
	}
	if need := (pa.K / d.taps) * d.phases * d.Images * d.inSize; len(b) < need {
		return fmt.Errorf("direct conv: input has %d elements, want %d", len(b), need)
	}
	if need := (pa.M-1)*ldc + q1 - q0; len(c) < need || ep.Add != nil && len(ep.Add) < need {
		return fmt.Errorf("direct conv: C and its addend need %d elements, have %d and %d", need, len(c), len(ep.Add))
	}
	flags := ep.flags()
	if ep.Add != nil {
		flags |= flagAdd
	}
	if d.width == nr {
		d.mul16(pa, b, q0, q1, c, ldc, ep, flags)
		return nil
	}
	k6, k4 := kernel6m, kernel4m
	if k6 == nil {
		k6, k4 = kernel6MGo, kernel4MGo
	}
	var cut []uint32 // the masks of a partial block
	if q1%nrWide != 0 {
		s := getScratch()
		defer putScratch(s)
		if cap(s.masks) < d.taps {
			s.masks = make([]uint32, d.taps)
		}
		cut = s.masks[:d.taps]
	}
	for j := q0; j < q1; j += nrWide {
		masks := d.masks[j/nrWide*d.taps : (j/nrWide+1)*d.taps]
		f := flags
		if cols := q1 - j; cols < nrWide {
			// A partial block: leave the columns past q1 out of the
			// reads and the stores.
			keep := uint32(1)<<cols - 1
			for t, v := range masks {
				cut[t] = v & keep
			}
			masks = cut
			f |= flagCompact | int(uint64(keep)<<32)
		}
		forPanels(pa.M, pa.K, pa.data, func(r, h, rows int, a []float32) {
			kern := k6
			if h == 4 {
				kern = k4
			}
			var add []float32
			if ep.Add != nil {
				add = ep.Add[r*ldc+j-q0:]
			}
			kern(pa.K, a, b, j, d.steps, c[r*ldc+j-q0:], ldc, rows, biasRows(ep.Bias, r, rows), f, masks, add)
		})
	}
	return nil
}

// mul16 is Mul for a plan of 16-column blocks (AVX2). The kernels read
// a block's rows of B with plain loads where they all lie inside b, and
// with flagFaultMasks (a block per call) near its ends; the blocks
// between go a chunk per call (directChunk). A partial last block is
// computed into a scratch tile (its reads past q1 stay inside the image:
// the masks leave out only columns past N) and its first columns copied
// out, with its addend copied in.
func (d *DirectConv) mul16(pa *PackedA, b []float32, q0, q1 int, c []float32, ldc int, ep Epilogue, flags int) {
	k6, k4 := kernel6v, kernel4v
	if k6 == nil {
		k6, k4 = kernel6VGo, kernel4VGo
	}
	per := d.taps * nr // masks per block
	s := getScratch()
	defer putScratch(s)
	// With two row panels or more, the first panel's kernel also stores
	// the masked rows of B it reads (flagStorePacked), and the others
	// read those with plain loads (flagPacked): each block is masked once
	// instead of once per panel, and the stores hide under the first
	// panel's FMAs.
	packed := pa.M > mrMax
	chunk := max(1, directChunk/pa.K)
	if packed {
		chunk = max(1, directPackChunk/pa.K)
		s.pan = grow(s.pan, chunk*pa.K*nr)
	}
	// source returns what the kernel of panel r reads for nb blocks from
	// column j (relative to q0) with flags f: b from column q0+j (storing
	// the packed rows when r is the first of several panels), or the
	// packed rows.
	source := func(r, j, nb, f int) (src []float32, col, flags int, pack []float32) {
		switch {
		case !packed:
			return b, q0 + j, f, nil
		case r == 0:
			return b, q0 + j, f | flagStorePacked, s.pan[:nb*pa.K*nr]
		}
		return s.pan[:nb*pa.K*nr], 0, f&^flagFaultMasks | flagPacked, nil
	}
	// run computes nb blocks from column j (relative to q0: dst and the
	// addend from j) with flags f, into dst rows ld apart. A plain loop
	// over the panels: a closure per panel (forPanels) cost 1-3% of
	// resnet_fmnist's time at one thread.
	run := func(j, nb, f int, dst []float32, ld int, add []float32) {
		masks := d.vmasks[(q0+j)/nr*per : ((q0+j)/nr+nb)*per]
		for r, off := 0, 0; r < pa.M; {
			h, rows := panelAt(pa.M - r)
			kern := k6
			if h == 4 {
				kern = k4
			}
			var ra []float32
			if add != nil {
				ra = add[r*ld:]
			}
			src, col, pf, pack := source(r, j, nb, f)
			kern(pa.K, pa.data[off:off+h*pa.K], src, col, d.stepsV, dst[r*ld:], ld, rows, biasRows(ep.Bias, r, rows), pf, masks, ra, nb, pack)
			off += h * pa.K
			r += rows
		}
	}
	safe := func(j int) bool { return q0+j+d.lo >= 0 && q0+j+d.hi+nr <= len(b) }
	n := q1 - q0
	full := n / nr * nr
	for j := 0; j < full; {
		if !safe(j) {
			var add []float32
			if ep.Add != nil {
				add = ep.Add[j:]
			}
			run(j, 1, flags|flagFaultMasks, c[j:], ldc, add)
			j += nr
			continue
		}
		nb := 1
		for nb < chunk && j+nb*nr < full && safe(j+nb*nr) {
			nb++
		}
		var add []float32
		if ep.Add != nil {
			add = ep.Add[j:]
		}
		run(j, nb, flags, c[j:], ldc, add)
		j += nb * nr
	}
	if full == n {
		return
	}
	// The partial last block, through scratch tiles of mrMax rows.
	f, cols := flags, n-full
	if !safe(full) {
		f |= flagFaultMasks
	}
	masks := d.vmasks[(q0+full)/nr*per : ((q0+full)/nr+1)*per]
	tile, addTile := s.tile[:], s.tileWide[:mrMax*nr]
	forPanels(pa.M, pa.K, pa.data, func(r, h, rows int, a []float32) {
		kern := k6
		if h == 4 {
			kern = k4
		}
		var add []float32
		if ep.Add != nil {
			for i := 0; i < rows; i++ {
				copy(addTile[i*nr:i*nr+cols], ep.Add[(r+i)*ldc+full:])
			}
			add = addTile
		}
		src, col, f, pack := source(r, full, 1, f)
		kern(pa.K, a, src, col, d.stepsV, tile, nr, rows, biasRows(ep.Bias, r, rows), f, masks, add, 1, pack)
		for i := 0; i < rows; i++ {
			copy(c[(r+i)*ldc+full:(r+i)*ldc+full+cols], tile[i*nr:i*nr+cols])
		}
	})
}

// directChunk bounds the blocks of a 16-column DirectConv product that
// one kernel call per panel runs through: chunk·depth at most
// directChunk. The blocks of a call are read again by the next panel's
// call, from L2 at this size (128 KB of rows of B): the prefetchers keep
// the kernels fed, and fewer calls cost more than L1 reuse gains. On
// resnet_fmnist (Zen 3, AVX2) 2048 ran 1.3% and 2.3% faster than 512 at
// one thread, -0.5% and 3.1% at two (two sittings).
var directChunk = 2048

// directPackChunk bounds the steps of the packed rows of B a DirectConv
// product with two row panels or more keeps at once (chunk·depth at most
// directPackChunk, 64 bytes a step), sized as directChunk.
var directPackChunk = 2048

// DepthwiseVector reports whether Depthwise runs vector kernels on this
// plan (bit for bit the sums of Depthwise over ConvLayout's buffer);
// otherwise a pure-Go loop computes them, and callers do better with
// ConvLayout and Depthwise.
func (d *DirectConv) DepthwiseVector() bool {
	return d.stride == 1 && (d.width == nrWide && hasAVX512 || d.width == nr && hasAVX2FMA)
}

// Depthwise computes product columns [q0, q1) of chans output channels
// of a convolution whose groups have one input channel (a plan of one
// channel and one image, at stride 1): for channel i, c[i*ld+q-q0] =
// bias[i] + sum over taps t of w[i*taps+t]·B_t[q], B_t tap t of the
// input at b[i*inStride:] (inStride 0: one input for all) with the
// masked-out columns +0; bias nil adds nothing. The sums run as Depthwise's over
// ConvLayout's buffer (an FMA per tap, in tap order), so with the vector
// kernels (DepthwiseVector: AVX-512 for 32-column plans, AVX2 for
// 16-column ones) the results are bit for bit those; otherwise a pure-Go
// loop computes them. q0 must be a multiple of the plan's block
// (DirectWidth).
func (d *DirectConv) Depthwise(w, b []float32, inStride, q0, q1 int, c []float32, ld int, bias []float32, chans int) error {
	if d.Images != 1 || len(d.steps) != 2*d.taps || d.stride != 1 {
		return fmt.Errorf("direct depthwise: a plan of %d channels and %d images at stride %d, want one of each at stride 1", len(d.steps)/(2*d.taps), d.Images, d.stride)
	}
	if q0 < 0 || q0%d.width != 0 || q1 > d.N || q0 > q1 {
		return fmt.Errorf("direct depthwise: columns [%d, %d) of %d", q0, q1, d.N)
	}
	if chans < 1 || inStride < 0 || ld < q1-q0 {
		return fmt.Errorf("direct depthwise: %d channels %d and %d apart for %d columns", chans, inStride, ld, q1-q0)
	}
	if len(w) < chans*d.taps || len(b) < (chans-1)*inStride+d.inSize || len(c) < (chans-1)*ld+q1-q0 || bias != nil && len(bias) < chans {
		return fmt.Errorf("direct depthwise: %d weights, %d inputs, %d outputs, %d biases for %d channels of %d taps, %d inputs, %d columns", len(w), len(b), len(c), len(bias), chans, d.taps, d.inSize, q1-q0)
	}
	if q0 == q1 {
		return nil
	}
	if d.width == nr && d.depthwise16(w, b, inStride, q0, q1, c, ld, bias, chans) {
		return nil
	}
	masks := d.masks[q0/d.width*d.taps:]
	if d.width == nrWide && depthwiseMasked(w, b, inStride, q0, d.tapOffs, q1-q0, c, ld, bias, chans, masks) {
		return nil
	}
	for i := 0; i < chans; i++ {
		var bv float32
		if bias != nil {
			bv = bias[i]
		}
		depthwiseMaskedGo(w[i*d.taps:(i+1)*d.taps], b[i*inStride:], q0, d.tapOffs, q1-q0, c[i*ld:], bv, masks, d.width)
	}
	return nil
}

// depthwise16 is Depthwise on a 16-column plan with the AVX2 kernel, or
// reports false without it. A partial last block is computed into
// scratch rows of 16 columns (its reads past q1 stay inside the image)
// and its first columns copied out.
func (d *DirectConv) depthwise16(w, b []float32, inStride, q0, q1 int, c []float32, ld int, bias []float32, chans int) bool {
	n := q1 - q0
	full := n &^ (nr - 1)
	if full > 0 && !depthwiseMaskedAVX2(w, b, inStride, q0, d.tapOffs, full, c, ld, bias, chans, d.vmasks[q0/nr*d.taps*nr:], d.lo, d.hi) {
		return false
	}
	if full == n {
		return true
	}
	s := getScratch()
	defer putScratch(s)
	if cap(s.rows) < chans*nr {
		s.rows = make([]float32, chans*nr)
	}
	rows := s.rows[:chans*nr]
	q := q0 + full
	if !depthwiseMaskedAVX2(w, b, inStride, q, d.tapOffs, nr, rows, nr, bias, chans, d.vmasks[q/nr*d.taps*nr:], d.lo, d.hi) {
		return false
	}
	for i := 0; i < chans; i++ {
		copy(c[i*ld+full:i*ld+n], rows[i*nr:])
	}
	return true
}

// depthwiseMaskedGo is the Go twin of depthwiseMasked for one channel,
// masks those of blocks of width columns.
func depthwiseMaskedGo(w, b []float32, col int, offs []int, n int, c []float32, bias float32, masks []uint32, width int) {
	taps := len(offs)
	for j := 0; j < n; j++ {
		sum := bias
		m := masks[j/width*taps:]
		for t, o := range offs {
			var v float32
			if m[t]>>(j%width)&1 != 0 {
				v = b[col+o+j]
			}
			sum += w[t] * v
		}
		c[j] = sum
	}
}
