package gna

import (
	"fmt"

	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// GnaConv (domain ai.pot) is GNA's convolution in integers: Conv's
// attributes (1-D or 2-D, groups, strides, dilations, pads, auto_pad) with
// the integer arithmetic of GnaAffine: int16 inputs, int16 (or int8)
// weights per output channel, int32 bias, saturating int32 accumulator
// (after every AccumulatorBlock products and at the end),
// float32 output on the accumulator grid x_scale * w_scale[m].
type conv struct {
	group                 int
	m, cg, kh, kw         int // output channels, input channels per group, kernel
	w                     []int16
	bias                  []int64
	accScale              []float64
	xScale                float64
	xLo, xHi              int64
	autoPad               string
	strides, dils, pads   [2]int
	padsEnd               [2]int
	hasPads, oneDimension bool
	pack                  *convPack // weights for the fast path; nil: the twin only
	packD                 *convPack // weights for its direct path; nil: im2col only
}

func newConv(n *ops.Node) (ops.Kernel, error) {
	k := &conv{group: int(n.Int("group", 1)), autoPad: n.String("auto_pad", "NOTSET")}
	l, err := readLayer(n)
	if err != nil {
		return nil, err
	}
	k.xScale, k.xLo, k.xHi = l.xScale, l.xLo, l.xHi
	w := l.w
	switch len(w.Shape) {
	case 3:
		k.oneDimension = true
		k.m, k.cg, k.kh, k.kw = w.Shape[0], w.Shape[1], 1, w.Shape[2]
	case 4:
		k.m, k.cg, k.kh, k.kw = w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]
	default:
		return nil, ops.Unsupported(n, "a %d-D convolution is", len(w.Shape)-2)
	}
	if k.group < 1 || k.m%k.group != 0 {
		return nil, fmt.Errorf("group %d for %d output channels", k.group, k.m)
	}
	nd := len(w.Shape) - 2
	read := func(name string, def int) ([2]int, error) {
		v := n.Ints(name, nil)
		out := [2]int{def, def}
		if v == nil {
			return out, nil
		}
		if len(v) != nd {
			return out, fmt.Errorf("%s %v for a %d-D convolution", name, v, nd)
		}
		if nd == 1 {
			out[1] = int(v[0])
		} else {
			out[0], out[1] = int(v[0]), int(v[1])
		}
		return out, nil
	}
	if k.strides, err = read("strides", 1); err != nil {
		return nil, err
	}
	if k.dils, err = read("dilations", 1); err != nil {
		return nil, err
	}
	if ks := n.Ints("kernel_shape", nil); ks != nil && len(ks) != nd {
		return nil, fmt.Errorf("kernel_shape %v for weights %v", ks, w.Shape)
	}
	if p := n.Ints("pads", nil); p != nil {
		if len(p) != 2*nd {
			return nil, fmt.Errorf("pads %v for a %d-D convolution", p, nd)
		}
		k.hasPads = true
		if nd == 1 {
			k.pads[1], k.padsEnd[1] = int(p[0]), int(p[1])
		} else {
			k.pads = [2]int{int(p[0]), int(p[1])}
			k.padsEnd = [2]int{int(p[2]), int(p[3])}
		}
	}
	switch k.autoPad {
	case "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER":
	default:
		return nil, ops.Unsupported(n, "auto_pad %q is", k.autoPad)
	}
	if err := l.checkChannels(k.m); err != nil {
		return nil, err
	}
	per := k.cg * k.kh * k.kw
	k.w = make([]int16, len(l.wv))
	k.accScale = make([]float64, k.m)
	for c := 0; c < k.m; c++ {
		k.accScale[c] = k.xScale * l.step(c)
		for i := 0; i < per; i++ {
			k.w[c*per+i] = l.weight(c*per+i, c)
		}
	}
	if k.bias, err = l.bias(n, k.accScale, 1); err != nil {
		return nil, err
	}
	k.packFast()
	return k, nil
}

// geometry resolves the padding and output size of one spatial axis.
func (k *conv) geometry(axis, in, kernel int) (padBegin, out int, err error) {
	s, d := k.strides[axis], k.dils[axis]
	ext := (kernel-1)*d + 1
	switch k.autoPad {
	case "VALID":
		out = (in-ext)/s + 1
	case "SAME_UPPER", "SAME_LOWER":
		out = (in + s - 1) / s
		total := max(0, (out-1)*s+ext-in)
		padBegin = total / 2
		if k.autoPad == "SAME_LOWER" {
			padBegin = total - total/2
		}
	default:
		padBegin = k.pads[axis]
		out = (in+k.pads[axis]+k.padsEnd[axis]-ext)/s + 1
	}
	if out < 1 {
		return 0, 0, fmt.Errorf("input extent %d is smaller than the kernel extent %d", in, ext)
	}
	return padBegin, out, nil
}

func (k *conv) Run(ctx *ops.Context, in, out []*tensor.Tensor) error {
	x, err := floats32(in[0], "X")
	if err != nil {
		return err
	}
	g, err := k.geom(in[0].Shape)
	if err != nil {
		return err
	}
	xi := make([]int16, len(x))
	toInt16s(xi, x, k.xScale, k.xLo, k.xHi)
	if k.oneDimension {
		out[0].Reset(tensor.Float, []int{g.batch, k.m, g.ow})
	} else {
		out[0].Reset(tensor.Float, []int{g.batch, k.m, g.oh, g.ow})
	}
	y := out[0].F32()
	if useFastConv && k.pack != nil {
		k.runFast(ctx, xi, y, g)
		return nil
	}
	k.runTwin(ctx, xi, y, g)
	return nil
}

// geom returns the geometry of a run on an input of the given shape.
func (k *conv) geom(shape []int) (convGeom, error) {
	var batch, c, h, wd int
	switch {
	case k.oneDimension && len(shape) == 3:
		batch, c, h, wd = shape[0], shape[1], 1, shape[2]
	case !k.oneDimension && len(shape) == 4:
		batch, c, h, wd = shape[0], shape[1], shape[2], shape[3]
	default:
		return convGeom{}, fmt.Errorf("X of shape %v does not match weights of kernel %dx%d (1-D: %v)", shape, k.kh, k.kw, k.oneDimension)
	}
	if c != k.cg*k.group {
		return convGeom{}, fmt.Errorf("X has %d channels, the weights %d x %d groups", c, k.cg, k.group)
	}
	ph, oh, err := k.geometry(0, h, k.kh)
	if err != nil {
		return convGeom{}, err
	}
	pw, ow, err := k.geometry(1, wd, k.kw)
	if err != nil {
		return convGeom{}, err
	}
	return convGeom{batch: batch, c: c, h: h, wd: wd, ph: ph, pw: pw, oh: oh, ow: ow}, nil
}

// runTwin is the scalar GnaConv, the reference the fast path must equal
// bit for bit (see convfast.go).
func (k *conv) runTwin(ctx *ops.Context, xi []int16, y []float32, geo convGeom) {
	batch, c, h, wd, ph, pw, oh, ow := geo.batch, geo.c, geo.h, geo.wd, geo.ph, geo.pw, geo.oh, geo.ow
	mg := k.m / k.group
	per := k.cg * k.kh * k.kw
	ctx.Parallel(batch*k.m, 1, func(lo, hi int) {
		for bm := lo; bm < hi; bm++ {
			b, m := bm/k.m, bm%k.m
			g := m / mg
			wm := k.w[m*per : (m+1)*per]
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					acc, count := k.bias[m], 0
					for ci := 0; ci < k.cg; ci++ {
						plane := xi[((b*c)+g*k.cg+ci)*h*wd:]
						for ky := 0; ky < k.kh; ky++ {
							iy := oy*k.strides[0] - ph + ky*k.dils[0]
							if iy < 0 || iy >= h {
								continue
							}
							for kx := 0; kx < k.kw; kx++ {
								ix := ox*k.strides[1] - pw + kx*k.dils[1]
								if ix < 0 || ix >= wd {
									continue
								}
								acc += int64(plane[iy*wd+ix]) * int64(wm[(ci*k.kh+ky)*k.kw+kx])
								if count++; count == AccumulatorBlock {
									acc, count = sat32(acc), 0
								}
							}
						}
					}
					y[(bm*oh+oy)*ow+ox] = float32(float64(sat32(acc)) * k.accScale[m])
				}
			}
		}
	})
}
