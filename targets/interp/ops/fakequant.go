package ops

import (
	"fmt"

	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

// FakeQuantize is pot's own operator (domain ai.pot, version 1) that
// targets insert to simulate quantization on float tensors:
//
//	y = (clamp(RoundHalfEven(x / scale) + zero_point, 0, levels-1) - zero_point) * out_scale
//
// (RoundHalfEven, or the rounding of the node's Rounding).
//
// Inputs X (float32), scale, zero_point and out_scale (float32 scalars or
// 1-D tensors of length C for per-channel quantization along attribute
// axis, default 1); attribute levels (>= 2). With an integral zero point
// and out_scale == scale it equals QuantizeLinear followed by
// DequantizeLinear with zero point zero_point + level_low, bit for bit:
// both divide by the scale and round the same way.

func init() {
	register(DomainPot, "FakeQuantize", 1, newFakeQuantize)
}

// fqParams are FakeQuantize's parameters expanded to one entry per
// channel (or one entry for per-tensor).
type fqParams struct {
	scale, zp, outScale []float32
	bands               []quantizeBand
	perChannel          bool
}

func newFakeQuantize(n *Node) (Kernel, error) {
	levels := n.Int("levels", 0)
	if levels < 2 {
		return nil, fmt.Errorf("levels %d must be at least 2", levels)
	}
	if levels > 1<<24 {
		return nil, Unsupported(n, "levels %d (above 2^24) is", levels)
	}
	axis := n.Int("axis", 1)
	hi := float32(levels - 1)
	var fixed *fqParams
	if c1, c2, c3 := n.Const(1), n.Const(2), n.Const(3); c1 != nil && c2 != nil && c3 != nil {
		p, err := newFQParams(c1, c2, c3, hi, n.Rounding)
		if err != nil {
			return nil, err
		}
		fixed = p
	}
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		x, ok := in[0].Data.([]float32)
		if !ok {
			return fmt.Errorf("X must be float32, have %v", in[0])
		}
		p := fixed
		if p == nil {
			var err error
			if p, err = newFQParams(in[1], in[2], in[3], hi, n.Rounding); err != nil {
				return err
			}
		}
		dst := out[0]
		dst.Reset(tensor.Float, in[0].Shape)
		y := dst.F32()
		if !p.perChannel {
			ctx.Parallel(len(x), 1<<14, func(lo, hi int) {
				fakeQuantizeRow(y[lo:hi], x[lo:hi], p.scale[0], p.outScale[0], &p.bands[0])
			})
			return nil
		}
		a, err := NormalizeAxis(axis, in[0].Rank())
		if err != nil {
			return err
		}
		C := in[0].Shape[a]
		if C != len(p.scale) {
			return fmt.Errorf("%d per-channel parameters for axis %d of %v", len(p.scale), a, in[0].Shape)
		}
		inner := tensor.NumElements(in[0].Shape[a+1:])
		rows := tensor.NumElements(in[0].Shape[:a]) * C
		ctx.Parallel(rows, max(1, (1<<14)/max(inner, 1)), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				c := r % C
				fakeQuantizeRow(y[r*inner:(r+1)*inner], x[r*inner:(r+1)*inner], p.scale[c], p.outScale[c], &p.bands[c])
			}
		})
		return nil
	}), nil
}

// newFQParams checks and expands the parameter tensors.
func newFQParams(scale, zp, outScale *tensor.Tensor, hi float32, r Rounding) (*fqParams, error) {
	ts := [3]*tensor.Tensor{scale, zp, outScale}
	names := [3]string{"scale", "zero_point", "out_scale"}
	c := 1
	for i, t := range ts {
		if t == nil {
			return nil, fmt.Errorf("input %s is missing", names[i])
		}
		if t.DType != tensor.Float {
			return nil, fmt.Errorf("%s must be float32, have %v", names[i], t)
		}
		if n := t.Len(); n != 1 {
			if c != 1 && n != c {
				return nil, fmt.Errorf("%s has %d values, another parameter %d", names[i], n, c)
			}
			c = n
		}
	}
	p := &fqParams{perChannel: c > 1}
	vals := [3][]float32{}
	for i, t := range ts {
		v := t.F32()
		vals[i] = make([]float32, c)
		for j := range vals[i] {
			if len(v) == 1 {
				vals[i][j] = v[0]
			} else {
				vals[i][j] = v[j]
			}
		}
	}
	p.scale, p.zp, p.outScale = vals[0], vals[1], vals[2]
	p.bands = make([]quantizeBand, c)
	for j, z := range p.zp {
		p.bands[j] = newQuantizeBand(z, 0, hi).withRounding(r)
	}
	return p, nil
}

// fakeQuantizeRow is the hot loop: y = (band(x/s) - zp) * os, in
// kernels.FakeQuantF32 where the band rounds with 1.5·2^23 (half to
// even, bounds within ±2^22).
func fakeQuantizeRow(y, x []float32, s, os float32, b *quantizeBand) {
	y = y[:len(x)]
	if !b.fast {
		for i, v := range x {
			y[i] = (b.apply(v/s) - b.zp) * os
		}
		return
	}
	kernels.FakeQuantF32(y, x, s, os, b.vlo, b.vhi, b.zp, b.lo, b.hi)
}
