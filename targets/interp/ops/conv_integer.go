package ops

import (
	"fmt"
	"math"

	"github.com/potgo/pot/targets/interp/tensor"
)

func init() {
	register(DomainONNX, "ConvInteger", 10, func(n *Node) (Kernel, error) { return newIntConv(n, false) })
	register(DomainONNX, "QLinearConv", 10, func(n *Node) (Kernel, error) { return newIntConv(n, true) })
}

// intValues returns the values of an 8-bit integer tensor as int32.
func intValues(t *tensor.Tensor) ([]int32, error) {
	switch d := t.Data.(type) {
	case []uint8:
		out := make([]int32, len(d))
		for i, v := range d {
			out[i] = int32(v)
		}
		return out, nil
	case []int8:
		out := make([]int32, len(d))
		for i, v := range d {
			out[i] = int32(v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%v is not an 8-bit integer type", t.DType)
}

// zeroPoints returns an optional zero-point input as int32 values (one
// value when absent), with the element type it must match.
func zeroPoints(t *tensor.Tensor, want tensor.DType) ([]int32, error) {
	if t == nil {
		return []int32{0}, nil
	}
	if t.DType != want {
		return nil, fmt.Errorf("zero point is %v, its tensor is %v", t.DType, want)
	}
	return intValues(t)
}

// requant maps int32 accumulators to an 8-bit type:
// saturate(RoundHalfEven(acc·scale) + zp).
type requant struct {
	dtype  tensor.DType
	lo, hi float64
}

func newRequant(dt tensor.DType) (requant, error) {
	switch dt {
	case tensor.Uint8:
		return requant{dt, 0, 255}, nil
	case tensor.Int8:
		return requant{dt, -128, 127}, nil
	}
	return requant{}, fmt.Errorf("output type %v is not an 8-bit integer type", dt)
}

// store writes element i of y (of the requant's type): acc scaled by
// sa·sb/sy (the product rounded to float32 as ONNX Runtime does), plus
// zp, saturated.
func (r requant) store(y *tensor.Tensor, i int, acc int32, sa, sb, sy float64, zp int32) {
	scale := float64(float32(sa) * float32(sb) / float32(sy))
	v := math.RoundToEven(float64(float32(float64(acc)*scale))) + float64(zp)
	v = math.Min(math.Max(v, r.lo), r.hi)
	switch d := y.Data.(type) {
	case []uint8:
		d[i] = uint8(v)
	case []int8:
		d[i] = int8(v)
	}
}

type intConv struct {
	attrs  spatialAttrs
	group  int
	linear bool // QLinearConv: requantized output
	// direct is the float32 convolution of the same window, without
	// constant weights and so without Winograd, that convInt32Direct
	// runs on runs of input channels.
	direct *convKernel
}

func newIntConv(n *Node, linear bool) (Kernel, error) {
	attrs, err := readSpatialAttrs(n)
	if err != nil {
		return nil, err
	}
	k := &intConv{attrs: attrs, group: int(n.Int("group", 1)), linear: linear}
	k.direct = &convKernel{attrs: attrs, group: 1}
	if k.group < 1 {
		return nil, fmt.Errorf("group %d must be positive", k.group)
	}
	return k, nil
}

func (k *intConv) Run(ctx *Context, in, out []*tensor.Tensor) error {
	// Inputs: ConvInteger(x, w, x_zp, w_zp); QLinearConv(x, x_scale,
	// x_zp, w, w_scale, w_zp, y_scale, y_zp, B).
	get := func(i int) *tensor.Tensor {
		if i < len(in) {
			return in[i]
		}
		return nil
	}
	x, w, xzpT, wzpT := get(0), get(1), get(2), get(3)
	if k.linear {
		if err := needInputs(in, 8); err != nil {
			return err
		}
		x, w, xzpT, wzpT = in[0], in[3], in[2], in[5]
	}
	if x == nil || w == nil {
		return fmt.Errorf("x and w are required")
	}
	if x.Rank() < 3 || w.Rank() != x.Rank() {
		return fmt.Errorf("input of shape %v and weights of shape %v: want equal ranks of at least 3", x.Shape, w.Shape)
	}
	xv, err := intValues(x)
	if err != nil {
		return fmt.Errorf("x: %w", err)
	}
	wv, err := intValues(w)
	if err != nil {
		return fmt.Errorf("w: %w", err)
	}
	xzp, err := zeroPoints(xzpT, x.DType)
	if err != nil {
		return err
	}
	wzp, err := zeroPoints(wzpT, w.DType)
	if err != nil {
		return err
	}
	m, c, cg := w.Shape[0], x.Shape[1], w.Shape[1]
	if cg*k.group != c || m%k.group != 0 {
		return fmt.Errorf("input has %d channels, weights of shape %v with %d groups", c, w.Shape, k.group)
	}
	if len(xzp) != 1 || len(wzp) != 1 && len(wzp) != m {
		return fmt.Errorf("zero points: x has %d values (want 1), w has %d (want 1 or %d)", len(xzp), len(wzp), m)
	}
	win, err := k.attrs.resolve(x.Shape[2:], w.Shape[2:])
	if err != nil {
		return err
	}
	var acc []int32
	switch {
	case len(win.in) == 2 && useIntGemm && k.group == 1:
		if acc, err = convInt32Direct(ctx, k.direct, xv, x.Shape, wv, w.Shape, win, xzp[0], wzp); err != nil {
			return err
		}
	case len(win.in) == 2 && useIntGemm:
		if acc, err = convInt32Fast(ctx, xv, x.Shape, wv, w.Shape, k.group, win, xzp[0], wzp); err != nil {
			return err
		}
	default:
		acc = convInt32(xv, x.Shape, wv, w.Shape, k.group, win, xzp[0], wzp)
	}
	shape := append([]int{x.Shape[0], m}, win.out...)
	y := out[0]
	if !k.linear {
		y.Reset(tensor.Int32, shape)
		copy(y.Data.([]int32), acc)
		return nil
	}
	return k.requantize(in, y, shape, acc, m)
}

// requantize finishes QLinearConv: adds the int32 bias and rescales.
func (k *intConv) requantize(in []*tensor.Tensor, y *tensor.Tensor, shape []int, acc []int32, m int) error {
	xs, err := floatView(in[1])
	if err != nil {
		return fmt.Errorf("x_scale: %w", err)
	}
	ws, err := floatView(in[4])
	if err != nil {
		return fmt.Errorf("w_scale: %w", err)
	}
	ys, err := floatView(in[6])
	if err != nil {
		return fmt.Errorf("y_scale: %w", err)
	}
	yzp, err := zeroPoints(in[7], in[7].DType)
	if err != nil {
		return err
	}
	rq, err := newRequant(in[7].DType)
	if err != nil {
		return err
	}
	if len(xs) != 1 || len(ys) != 1 || len(yzp) != 1 || len(ws) != 1 && len(ws) != m {
		return fmt.Errorf("scales and zero points must be per tensor (w_scale may be per channel)")
	}
	var bias []int32
	if len(in) > 8 && in[8] != nil {
		b, ok := in[8].Data.([]int32)
		if !ok || len(b) != m {
			return fmt.Errorf("B of type %v and shape %v: want %d int32 values", in[8].DType, in[8].Shape, m)
		}
		bias = b
	}
	y.Reset(rq.dtype, shape)
	per := tensor.NumElements(shape[2:])
	for i, a := range acc {
		oc := i / per % m
		if bias != nil {
			a += bias[oc]
		}
		wsc := ws[0]
		if len(ws) == m {
			wsc = ws[oc]
		}
		rq.store(y, i, a, xs[0], wsc, ys[0], yzp[0])
	}
	return nil
}

// convInt32 is a direct integer convolution with zero points.
func convInt32(x []int32, xs []int, w []int32, ws []int, group int, win window, xzp int32, wzp []int32) []int32 {
	n, c, m := xs[0], xs[1], ws[0]
	cg, mg := c/group, m/group
	inSize, outSize := tensor.NumElements(win.in), tensor.NumElements(win.out)
	taps := tensor.NumElements(win.kernel)
	// For every output position, the (input offset, tap) pairs inside
	// the input.
	type pair struct{ in, tap int }
	windows := make([][]pair, outSize)
	inStr, kStr, oStr := tensor.Strides(win.in), tensor.Strides(win.kernel), tensor.Strides(win.out)
	for o := range windows {
		for t := 0; t < taps; t++ {
			off, ok := 0, true
			for d := range win.in {
				pos := o/oStr[d]%win.out[d]*win.strides[d] - win.padBegin[d] + t/kStr[d]%win.kernel[d]*win.dilations[d]
				if pos < 0 || pos >= win.in[d] {
					ok = false
					break
				}
				off += pos * inStr[d]
			}
			if ok {
				windows[o] = append(windows[o], pair{off, t})
			}
		}
	}
	acc := make([]int32, n*m*outSize)
	for b := 0; b < n; b++ {
		for oc := 0; oc < m; oc++ {
			g := oc / mg
			zw := wzp[0]
			if len(wzp) > 1 {
				zw = wzp[oc]
			}
			dst := acc[(b*m+oc)*outSize : (b*m+oc+1)*outSize]
			for ci := 0; ci < cg; ci++ {
				xp := x[(b*c+g*cg+ci)*inSize:]
				wp := w[(oc*cg+ci)*taps:]
				for o, ps := range windows {
					var s int32
					for _, p := range ps {
						s += (xp[p.in] - xzp) * (wp[p.tap] - zw)
					}
					dst[o] += s
				}
			}
		}
	}
	return acc
}
