package gna

import (
	"fmt"
	"math"

	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// GnaQuantize (domain ai.pot) is FakeQuantize for grids of more than 2^24
// levels (the 32-bit grids of accumulators and PWL inputs), computed in
// float64: same inputs (X, scale, zero_point, out_scale, per-tensor) and
// attribute levels.
type wideQuantize struct {
	levels float64
}

// GnaRound (domain ai.pot) puts a value back on an int16 grid after a
// float operation GNA performs in integers (average pooling: an int32 sum
// divided and rounded): y = clamp(round(x / scale), lo, hi) * scale with
// attributes scale, lo, hi.
type gridRound struct {
	scale  float64
	lo, hi int64
}

func newWideQuantize(n *ops.Node) (ops.Kernel, error) {
	l := n.Int("levels", 0)
	if l < 2 {
		return nil, fmt.Errorf("levels %d must be at least 2", l)
	}
	n.Int("axis", 1)
	return &wideQuantize{levels: float64(l)}, nil
}

func scalar(t *tensor.Tensor, what string) (float64, error) {
	v, err := floats32(t, what)
	if err != nil {
		return 0, err
	}
	if len(v) != 1 {
		return 0, fmt.Errorf("%s has %d values; GnaQuantize is per-tensor", what, len(v))
	}
	return float64(v[0]), nil
}

func (k *wideQuantize) Run(ctx *ops.Context, in, out []*tensor.Tensor) error {
	x, err := floats32(in[0], "X")
	if err != nil {
		return err
	}
	s, err := scalar(in[1], "scale")
	if err != nil {
		return err
	}
	z, err := scalar(in[2], "zero_point")
	if err != nil {
		return err
	}
	os, err := scalar(in[3], "out_scale")
	if err != nil {
		return err
	}
	out[0].Reset(tensor.Float, in[0].Shape)
	y := out[0].F32()
	hi := k.levels - 1
	ctx.Parallel(len(x), 1<<14, func(lo, h int) {
		for i := lo; i < h; i++ {
			q := math.RoundToEven(float64(x[i])/s) + z
			q = max(0, min(hi, q))
			y[i] = float32((q - z) * os)
		}
	})
	return nil
}

func newGridRound(n *ops.Node) (ops.Kernel, error) {
	s := float64(n.Float("scale", 0))
	if !(s > 0) {
		return nil, fmt.Errorf("scale %g is not a positive step", s)
	}
	return &gridRound{scale: s, lo: n.Int("lo", Int16Lo), hi: n.Int("hi", Int16Hi)}, nil
}

func (k *gridRound) Run(ctx *ops.Context, in, out []*tensor.Tensor) error {
	x, err := floats32(in[0], "X")
	if err != nil {
		return err
	}
	out[0].Reset(tensor.Float, in[0].Shape)
	y := out[0].F32()
	for i, v := range x {
		y[i] = float32(float64(toInt(v, k.scale, k.lo, k.hi)) * k.scale)
	}
	return nil
}
