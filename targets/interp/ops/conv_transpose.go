package ops

import (
	"fmt"
	"slices"
	"sync"

	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

func init() {
	register(DomainONNX, "ConvTranspose", 1, newConvTranspose)
	register(DomainONNX, "ConvTranspose", 11, newConvTranspose)
}

// convTranspose computes, per image and group, the columns
// Wᵀ·X (one row per output channel and kernel tap, one column per input
// position) with Sgemm, then scatters them into the output (col2im).
type convTranspose struct {
	attrs       spatialAttrs
	group       int
	outPadding  []int
	outputShape []int
	pool        sync.Pool // *[]float32 columns
}

func newConvTranspose(n *Node) (Kernel, error) {
	attrs, err := readSpatialAttrs(n)
	if err != nil {
		return nil, err
	}
	k := &convTranspose{attrs: attrs, group: int(n.Int("group", 1)), outPadding: intsOf(n.Ints("output_padding", nil)), outputShape: intsOf(n.Ints("output_shape", nil))}
	if k.group < 1 {
		return nil, fmt.Errorf("group %d must be positive", k.group)
	}
	for i := 0; i < 2 && i < len(n.InputTypes); i++ {
		if dt := n.InputTypes[i]; dt != tensor.Undefined && dt != tensor.Float {
			return nil, Unsupported(n, "element type %v is", dt)
		}
	}
	return k, nil
}

// geometry resolves the padding and output extent of the transposed
// convolution over spatial input dims in.
func (k *convTranspose) geometry(in, kernel []int) (window, error) {
	nd := len(in)
	w := window{in: in, kernel: kernel, strides: onesIfNil(k.attrs.strides, nd), dilations: onesIfNil(k.attrs.dilations, nd),
		padBegin: make([]int, nd), padEnd: make([]int, nd), out: make([]int, nd)}
	outPad := k.outPadding
	if outPad == nil {
		outPad = make([]int, nd)
	}
	if len(w.strides) != nd || len(w.dilations) != nd || len(outPad) != nd {
		return w, fmt.Errorf("%d spatial dimensions, but strides %v, dilations %v, output_padding %v", nd, w.strides, w.dilations, outPad)
	}
	if k.attrs.pads != nil && k.attrs.autoPad == "NOTSET" {
		if len(k.attrs.pads) != 2*nd {
			return w, fmt.Errorf("pads %v for %d spatial dimensions", k.attrs.pads, nd)
		}
		copy(w.padBegin, k.attrs.pads[:nd])
		copy(w.padEnd, k.attrs.pads[nd:])
	}
	target := k.outputShape
	if len(target) == nd+2 {
		target = target[2:]
	}
	if target == nil && (k.attrs.autoPad == "SAME_UPPER" || k.attrs.autoPad == "SAME_LOWER") {
		target = make([]int, nd)
		for d := range target {
			target[d] = in[d] * w.strides[d]
		}
	}
	if target != nil && len(target) != nd {
		return w, fmt.Errorf("output_shape %v for %d spatial dimensions", k.outputShape, nd)
	}
	for d := 0; d < nd; d++ {
		full := w.strides[d]*(in[d]-1) + outPad[d] + (kernel[d]-1)*w.dilations[d] + 1
		if target != nil {
			total := full - target[d]
			switch {
			case total < 0:
				// A larger output is extended with zeros at the end.
				w.padBegin[d], w.padEnd[d] = 0, total
			case k.attrs.autoPad == "SAME_UPPER":
				w.padBegin[d], w.padEnd[d] = total/2, total-total/2
			default:
				w.padBegin[d], w.padEnd[d] = total-total/2, total/2
			}
			w.out[d] = target[d]
			continue
		}
		w.out[d] = full - w.padBegin[d] - w.padEnd[d]
		if w.out[d] < 0 {
			return w, fmt.Errorf("pads %v leave no output in dimension %d", k.attrs.pads, d)
		}
	}
	return w, nil
}

func (k *convTranspose) Run(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 2); err != nil {
		return err
	}
	x, w := in[0], in[1]
	if x.DType != tensor.Float || w.DType != tensor.Float {
		return errType("ConvTranspose", x.DType)
	}
	if x.Rank() < 3 || w.Rank() != x.Rank() {
		return fmt.Errorf("input of shape %v and weights of shape %v: want equal ranks of at least 3", x.Shape, w.Shape)
	}
	c, mg := x.Shape[1], w.Shape[1]
	if w.Shape[0] != c || c%k.group != 0 {
		return fmt.Errorf("input has %d channels, weights of shape %v with %d groups", c, w.Shape, k.group)
	}
	kernel := w.Shape[2:]
	if k.attrs.kernel != nil && !slices.Equal(k.attrs.kernel, kernel) {
		return fmt.Errorf("kernel_shape %v does not match weights of shape %v", k.attrs.kernel, w.Shape)
	}
	win, err := k.geometry(x.Shape[2:], kernel)
	if err != nil {
		return err
	}
	m, cg := mg*k.group, c/k.group
	var bias []float32
	if len(in) > 2 && in[2] != nil {
		if in[2].DType != tensor.Float || in[2].Len() != m {
			return fmt.Errorf("bias of type %v and shape %v: want %d float values", in[2].DType, in[2].Shape, m)
		}
		bias = in[2].F32()
	}
	y := out[0]
	y.Reset(tensor.Float, append([]int{x.Shape[0], m}, win.out...))
	yd, xd, wd := y.F32(), x.F32(), w.F32()
	inSize, outSize := tensor.NumElements(win.in), tensor.NumElements(win.out)
	taps := tensor.NumElements(kernel)
	rows := mg * taps
	scatter := newCol2im(win)
	// image computes image i into y with cols as scratch, splitting its
	// product and scatter over par's threads.
	image := func(par *Context, i int, cols []float32) error {
		img := yd[i*m*outSize : (i+1)*m*outSize]
		for oc := 0; oc < m; oc++ {
			v := float32(0)
			if bias != nil {
				v = bias[oc]
			}
			o := img[oc*outSize : (oc+1)*outSize]
			for j := range o {
				o[j] = v
			}
		}
		for g := 0; g < k.group; g++ {
			// cols = W_gᵀ · X_g: W_g is cg×rows, X_g is cg×inSize.
			err := parallelSgemm(par, true, false, rows, inSize, cg, 1, wd[g*cg*rows:], rows, xd[(i*c+g*cg)*inSize:], inSize, 0, cols, inSize)
			if err != nil {
				return err
			}
			dst := img[g*mg*outSize : (g+1)*mg*outSize]
			par.Parallel(mg, 1, func(lo, hi int) { scatter.add(dst, cols, lo, hi, taps, inSize, outSize) })
		}
		return nil
	}
	if x.Shape[0] < ctx.Threads {
		// Too few images to give each thread one (a batch of one, as
		// detectors run): each image is split over the threads instead.
		buf := k.columns(rows * inSize)
		defer k.pool.Put(buf)
		for i := 0; i < x.Shape[0]; i++ {
			if err := image(ctx, i, *buf); err != nil {
				return err
			}
		}
		return nil
	}
	var firstErr error
	var mu sync.Mutex
	serial := &Context{Threads: 1}
	ctx.Parallel(x.Shape[0], 1, func(lo, hi int) {
		buf := k.columns(rows * inSize)
		defer k.pool.Put(buf)
		for i := lo; i < hi; i++ {
			if err := image(serial, i, *buf); err != nil {
				mu.Lock()
				firstErr = err
				mu.Unlock()
				return
			}
		}
	})
	return firstErr
}

// columns returns a pooled buffer of n floats (return it to k.pool).
func (k *convTranspose) columns(n int) *[]float32 {
	buf, _ := k.pool.Get().(*[]float32)
	if buf == nil {
		buf = new([]float32)
	}
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	*buf = (*buf)[:n]
	return buf
}

// col2im adds columns (one row per output channel and tap, one column
// per input position) into the output positions they map to.
type col2im struct {
	win window
	// pos[d][t][i] is the output index along dimension d of kernel index
	// t applied at input index i, or -1 when outside the output.
	pos [][][]int
}

func newCol2im(win window) *col2im {
	c := &col2im{win: win, pos: make([][][]int, len(win.in))}
	for d := range win.in {
		c.pos[d] = make([][]int, win.kernel[d])
		for t := range c.pos[d] {
			p := make([]int, win.in[d])
			for i := range p {
				o := i*win.strides[d] - win.padBegin[d] + t*win.dilations[d]
				if o < 0 || o >= win.out[d] {
					o = -1
				}
				p[i] = o
			}
			c.pos[d][t] = p
		}
	}
	return c
}

func (c *col2im) add(y, cols []float32, ocLo, ocHi, taps, inSize, outSize int) {
	if len(c.win.in) == 2 {
		c.add2(y, cols, ocLo, ocHi, taps, inSize, outSize)
		return
	}
	nd := len(c.win.in)
	outStride := tensor.Strides(c.win.out)
	tIdx := make([]int, nd)
	iIdx := make([]int, nd)
	for r := ocLo * taps; r < ocHi*taps; r++ {
		oc, t := r/taps, r%taps
		// Decompose tap t into per-dimension kernel indices.
		for d, rest := nd-1, t; d >= 0; d-- {
			tIdx[d] = rest % c.win.kernel[d]
			rest /= c.win.kernel[d]
		}
		row := cols[r*inSize : (r+1)*inSize]
		dst := y[oc*outSize : (oc+1)*outSize]
		clear(iIdx)
		for i := 0; i < inSize; i++ {
			off, ok := 0, true
			for d := 0; d < nd; d++ {
				o := c.pos[d][tIdx[d]][iIdx[d]]
				if o < 0 {
					ok = false
					break
				}
				off += o * outStride[d]
			}
			if ok {
				dst[off] += row[i]
			}
			for d := nd - 1; d >= 0; d-- {
				if iIdx[d]++; iIdx[d] < c.win.in[d] {
					break
				}
				iIdx[d] = 0
			}
		}
	}
}

// add2 is add for two spatial dimensions: per tap, each input row that
// lands inside the output adds its span of valid columns, a strided
// run, instead of locating every element on its own.
func (c *col2im) add2(y, cols []float32, ocLo, ocHi, taps, inSize, outSize int) {
	inW, outW := c.win.in[1], c.win.out[1]
	kw, stride := c.win.kernel[1], c.win.strides[1]
	for r := ocLo * taps; r < ocHi*taps; r++ {
		oc, t := r/taps, r%taps
		ky, kx := t/kw, t%kw
		rowsAt, colsAt := c.pos[0][ky], c.pos[1][kx]
		// The valid input columns form one run (the output column grows
		// with the input column): [lo, hi).
		lo := 0
		for lo < inW && colsAt[lo] < 0 {
			lo++
		}
		hi := lo
		for hi < inW && colsAt[hi] >= 0 {
			hi++
		}
		if lo == hi {
			continue
		}
		src := cols[r*inSize : (r+1)*inSize]
		dst := y[oc*outSize : (oc+1)*outSize]
		first := colsAt[lo]
		for iy, oy := range rowsAt {
			if oy < 0 {
				continue
			}
			s := src[iy*inW+lo : iy*inW+hi]
			d := dst[oy*outW+first:]
			if stride == 1 {
				kernels.AddF32(d[:len(s)], d, s)
				continue
			}
			d = d[:(len(s)-1)*stride+1]
			for j, v := range s {
				d[j*stride] += v
			}
		}
	}
}
