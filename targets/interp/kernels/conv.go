package kernels

import "fmt"

// ConvShape is the geometry of one convolution over any number of
// spatial dimensions (all slices have one entry per spatial dimension).
type ConvShape struct {
	In, Kernel, Strides, Dilations, PadBegin, Out []int
}

// ConvLayout maps a convolution onto the implicit-GEMM kernels.
//
// The padded input of each channel is split into Strides-many phase
// planes (for stride 2 in 2-D: even rows × even columns, even × odd,
// ...), each a grid of Grid points. In that layout every kernel tap reads
// a contiguous run of the plane, shifted by a fixed offset, so a
// convolution is a product of the packed weights with a B whose rows are
// those shifted runs (see PackedA.MulOffsets), for any stride, dilation
// and padding. Outputs come out in "grid space": output position o is at
// column sum(o[d]·GridStride[d]), with unused columns between rows when
// the grid is wider than the output (Compact removes them).
type ConvLayout struct {
	Shape ConvShape
	// Grid is the phase-plane extent per spatial dimension, GridStride
	// its row-major strides and GridSize its number of points.
	Grid, GridStride []int
	GridSize         int
	// Phases is the number of phase planes (the product of the strides).
	Phases int
	// ChanStride is the distance between channels in the buffer.
	ChanStride int
	// Span is the number of grid-space output columns.
	Span int
	// InPlace says the input itself is the buffer (stride 1, no padding):
	// Fill is not needed.
	InPlace bool
	// Dense says grid space is the output layout: Compact is not needed.
	Dense bool
	// taps holds the offset of each kernel tap within a channel.
	taps []int
	// fill maps each input index of each dimension to its contribution
	// to the buffer offset; used says whether any tap reads it (its
	// phase is read).
	fill [][]int
	used [][]bool
	// segs are the runs of the last dimension to copy: input columns
	// x0, x0+stride, ... to n consecutive buffer positions from dst.
	segs []fillSeg
}

type fillSeg struct{ x0, n, dst int }

// NewConvLayout plans the layout of a convolution.
func NewConvLayout(s ConvShape) (*ConvLayout, error) {
	nd := len(s.In)
	if nd == 0 || len(s.Kernel) != nd || len(s.Strides) != nd || len(s.Dilations) != nd || len(s.PadBegin) != nd || len(s.Out) != nd {
		return nil, fmt.Errorf("conv layout: inconsistent ranks in %+v", s)
	}
	l := &ConvLayout{Shape: s, Grid: make([]int, nd), GridStride: make([]int, nd), Phases: 1, InPlace: true, Dense: true}
	for d := 0; d < nd; d++ {
		st, dil, k := s.Strides[d], s.Dilations[d], s.Kernel[d]
		if st < 1 || dil < 1 || k < 1 || s.PadBegin[d] < 0 || s.Out[d] < 1 {
			return nil, fmt.Errorf("conv layout: invalid dimension %d of %+v", d, s)
		}
		// The largest padded position read is (out-1)·stride + (k-1)·dil.
		extent := max((s.Out[d]-1)*st+(k-1)*dil+1, s.PadBegin[d]+s.In[d])
		l.Grid[d] = (extent + st - 1) / st
		l.Phases *= st
		if st != 1 || s.PadBegin[d] != 0 || l.Grid[d] != s.In[d] {
			l.InPlace = false
		}
		if d > 0 && l.Grid[d] != s.Out[d] {
			l.Dense = false
		}
	}
	l.GridSize = 1
	for d := nd - 1; d >= 0; d-- {
		l.GridStride[d] = l.GridSize
		l.GridSize *= l.Grid[d]
	}
	l.ChanStride = l.Phases * l.GridSize
	l.Span = 1
	for d := 0; d < nd; d++ {
		l.Span += (s.Out[d] - 1) * l.GridStride[d]
	}
	// Phase index strides: row-major over the strides.
	phStride := make([]int, nd)
	ps := 1
	for d := nd - 1; d >= 0; d-- {
		phStride[d] = ps
		ps *= s.Strides[d]
	}
	// Offsets of the taps, in row-major kernel order.
	ntaps := 1
	for _, k := range s.Kernel {
		ntaps *= k
	}
	l.taps = make([]int, ntaps)
	idx := make([]int, nd)
	for t := range l.taps {
		off := 0
		for d := 0; d < nd; d++ {
			pos := idx[d] * s.Dilations[d]
			off += (pos%s.Strides[d])*phStride[d]*l.GridSize + (pos/s.Strides[d])*l.GridStride[d]
		}
		l.taps[t] = off
		for d := nd - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < s.Kernel[d] {
				break
			}
			idx[d] = 0
		}
	}
	l.fill = make([][]int, nd)
	l.used = make([][]bool, nd)
	for d := 0; d < nd; d++ {
		st := s.Strides[d]
		phaseUsed := make([]bool, st)
		for k := 0; k < s.Kernel[d]; k++ {
			phaseUsed[k*s.Dilations[d]%st] = true
		}
		l.fill[d] = make([]int, s.In[d])
		l.used[d] = make([]bool, s.In[d])
		for i := range l.fill[d] {
			pos := i + s.PadBegin[d]
			l.fill[d][i] = (pos%st)*phStride[d]*l.GridSize + (pos/st)*l.GridStride[d]
			l.used[d][i] = phaseUsed[pos%st]
		}
	}
	// The last dimension is copied in runs of one phase each.
	last, st := nd-1, s.Strides[nd-1]
	for x0 := 0; x0 < min(st, s.In[last]); x0++ {
		if !l.used[last][x0] {
			continue
		}
		l.segs = append(l.segs, fillSeg{x0: x0, n: (s.In[last] - x0 + st - 1) / st, dst: l.fill[last][x0]})
	}
	return l, nil
}

// Taps is the number of kernel taps (the product of the kernel shape).
func (l *ConvLayout) Taps() int { return len(l.taps) }

// BufferSize is the number of floats a buffer of channels channels
// needs, with room for the 32-wide reads past the last column (so that
// MulOffsets runs its last block of more than 16 columns in place).
func (l *ConvLayout) BufferSize(channels int) int { return channels*l.ChanStride + nrWide }

// Offsets appends to dst the B row offsets of channels channels: for
// each channel, for each tap, where its row starts in the buffer.
func (l *ConvLayout) Offsets(dst []int, channels int) []int {
	for c := 0; c < channels; c++ {
		for _, t := range l.taps {
			dst = append(dst, c*l.ChanStride+t)
		}
	}
	return dst
}

// Fill copies channels channels of an input image (each prod(In)
// values, channel after channel) into the phase planes of buf. It writes
// only the positions that hold input values some tap reads: the rest of
// buf must be zero already (it stays so across calls with the same
// layout).
func (l *ConvLayout) Fill(buf, src []float32, channels int) {
	nd := len(l.Shape.In)
	w := l.Shape.In[nd-1]
	if nd == 2 && l.Shape.Strides[0] == 2 && l.Shape.Strides[1] == 2 && w >= 2 && l.fillStride2(buf, src, channels) {
		return
	}
	if nd == 2 && l.Shape.Strides[1] == 2 && len(l.segs) == 2 {
		// Stride 2 along rows: split each row into its two phases.
		h, fy, used := l.Shape.In[0], l.fill[0], l.used[0]
		s0, s1 := l.segs[0], l.segs[1] // input columns 0, 2, ... and 1, 3, ...
		for c := 0; c < channels; c++ {
			plane := buf[c*l.ChanStride:]
			in := src[c*h*w : (c+1)*h*w]
			for y := 0; y < h; y++ {
				if used[y] {
					deinterleave2(plane[fy[y]+s0.dst:fy[y]+s0.dst+s0.n], plane[fy[y]+s1.dst:fy[y]+s1.dst+s1.n], in[y*w:(y+1)*w])
				}
			}
		}
		return
	}
	if nd == 2 && l.Shape.Strides[0] == 1 && l.Shape.Strides[1] == 1 {
		// One phase: each channel is a block of rows.
		h, dst0 := l.Shape.In[0], l.fill[0][0]+l.segs[0].dst
		for c := 0; c < channels; c++ {
			copyRows(buf[c*l.ChanStride+dst0:], l.GridStride[0], src[c*h*w:], w, h, w)
		}
		return
	}
	rows := len(src) / max(channels*w, 1)
	var idxBuf [8]int
	idx := odometer(idxBuf[:0], nd) // over all but the last dimension
	for c := 0; c < channels; c++ {
		clear(idx)
		for r := 0; r < rows; r++ {
			base, used := c*l.ChanStride, true
			for d := 0; d < nd-1; d++ {
				if !l.used[d][idx[d]] {
					used = false
				}
				base += l.fill[d][idx[d]]
			}
			if used {
				row := src[(c*rows+r)*w : (c*rows+r+1)*w]
				for _, sg := range l.segs {
					dst := buf[base+sg.dst : base+sg.dst+sg.n]
					if l.Shape.Strides[nd-1] == 1 {
						copyRow(dst, row[sg.x0:sg.x0+sg.n])
						continue
					}
					st := l.Shape.Strides[nd-1]
					for i := range dst {
						dst[i] = row[sg.x0+i*st]
					}
				}
			}
			for d := nd - 2; d >= 0; d-- {
				if idx[d]++; idx[d] < l.Shape.In[d] {
					break
				}
				idx[d] = 0
			}
		}
	}
}

// fillStride2 is Fill for stride 2 in both dimensions, with AVX-512 (or
// AVX2, for rows of at least 8):
// the used rows of each parity go to one phase each, one grid row apart,
// split into even and odd columns in one call. The odd columns go to
// their phase plane even when no tap reads it (a 1×1 kernel): the
// buffer has room for every phase, and the values are never read. It
// reports false, having done nothing, without those (deinterleave2Rows).
func (l *ConvLayout) fillStride2(buf, src []float32, channels int) bool {
	h, w := l.Shape.In[0], l.Shape.In[1]
	fy, fx, used := l.fill[0], l.fill[1], l.used[0]
	for c := 0; c < channels; c++ {
		plane := buf[c*l.ChanStride:]
		in := src[c*h*w : (c+1)*h*w]
		for y0 := 0; y0 < min(2, h); y0++ {
			if used[y0] && !deinterleave2Rows(plane, fy[y0]+fx[0], fx[1]-fx[0], l.GridStride[0], in[y0*w:], 2*w, (h-y0+1)/2, w) {
				return false
			}
		}
	}
	return true
}

func deinterleave2Go(even, odd, src []float32) {
	for i := range odd {
		even[i], odd[i] = src[2*i], src[2*i+1]
	}
	if len(src)%2 == 1 {
		even[len(src)/2] = src[len(src)-1]
	}
}

// copyRow copies a row.
func copyRow(dst, src []float32) { copyRows(dst, 0, src, 0, 1, len(src)) }

func copyRowsGo(dst []float32, dstStride int, src []float32, srcStride int, rows, n int) {
	for r := 0; r < rows; r++ {
		copy(dst[r*dstStride:r*dstStride+n], src[r*srcStride:r*srcStride+n])
	}
}

// OutSize is the number of output values per channel.
func (l *ConvLayout) OutSize() int {
	n := 1
	for _, v := range l.Shape.Out {
		n *= v
	}
	return n
}

// Compact copies channels channels of grid-space results (rows ld values
// apart) into dst (OutSize values per channel).
func (l *ConvLayout) Compact(dst, src []float32, channels, ld int) {
	nd := len(l.Shape.Out)
	if nd == 2 {
		h, w, gw := l.Shape.Out[0], l.Shape.Out[1], l.GridStride[0]
		for c := 0; c < channels; c++ {
			copyRows(dst[c*h*w:], w, src[c*ld:], gw, h, w)
		}
		return
	}
	w := l.Shape.Out[nd-1]
	rows := l.OutSize() / w
	var idxBuf [8]int
	idx := odometer(idxBuf[:0], nd)
	for c := 0; c < channels; c++ {
		clear(idx)
		out := dst[c*rows*w : (c+1)*rows*w]
		for r := 0; r < rows; r++ {
			q := c * ld
			for d := 0; d < nd-1; d++ {
				q += idx[d] * l.GridStride[d]
			}
			copyRow(out[r*w:(r+1)*w], src[q:q+w])
			for d := nd - 2; d >= 0; d-- {
				if idx[d]++; idx[d] < l.Shape.Out[d] {
					break
				}
				idx[d] = 0
			}
		}
	}
}

// odometer returns a zero index of n dimensions, in buf when it is
// large enough.
func odometer(buf []int, n int) []int {
	if cap(buf) >= n {
		return buf[:n]
	}
	return make([]int, n)
}

// Depthwise computes one output channel of a convolution whose groups
// each have one input channel: c[j] = bias + sum over taps t of
// w[t]·b[offs[t]+j], for j < n. Every b[offs[t]+j] must be in range.
func Depthwise(w, b []float32, offs []int, n int, c []float32, bias float32) {
	if n <= 0 {
		return
	}
	w = w[:len(offs)]
	c = c[:n]
	maxOff := 0
	for _, o := range offs {
		_ = b[o+n-1] // every row in range, also for the assembly
		maxOff = max(maxOff, o)
	}
	done := depthwiseVec(w, b, offs, n, c, bias)
	if done < n && maxOff+done+8 <= len(b) {
		// The tail as one more 8-wide block into a scratch row.
		var tail [8]float32
		if depthwiseVec(w, b[done:], offs, 8, tail[:], bias) == 8 {
			copy(c[done:], tail[:n-done])
			return
		}
	}
	for j := done; j < n; j++ {
		sum := bias
		for t, o := range offs {
			sum += w[t] * b[o+j]
		}
		c[j] = sum
	}
}
