package ops

import (
	"fmt"
	"math"
	"slices"

	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

// QAdd (domain ai.pot) adds two tensors of uint8 levels (see qlevels.go)
// and writes the levels of the sum under a third quantizer, computing in
// float32 exactly as the FakeQuantize simulation of Add does:
//
//	s = clamp((A - a_zp)·a_scale + (B - b_zp)·b_scale, act_min, act_max)
//	Y = clamp(RoundHalfEven(s / y_scale) + y_zp, 0, levels-1)
//
// Inputs A, a_zero_point (int32 [1]), a_scale (float32 [1]), B,
// b_zero_point, b_scale, y_scale, y_zero_point; attributes act_min and
// act_max (a fused Relu or Clip; default ±infinity), levels (default
// 256), channels_last (the layout of A, B and Y, which must agree). A
// and B of equal shapes are added element by element; otherwise they
// broadcast (standard layout only).

func init() { register(DomainPot, "QAdd", 1, newQAdd) }

type qadd struct {
	q  *kernels.QAdd
	cl bool
}

func newQAdd(n *Node) (Kernel, error) {
	scalarF := func(i int) (float32, error) {
		t := n.Const(i)
		if t == nil {
			return 0, Unsupported(n, "a non-constant input %d is", i)
		}
		v, ok := t.Data.([]float32)
		if !ok || len(v) != 1 {
			return 0, fmt.Errorf("input %d must be one float32, have %v", i, t)
		}
		return v[0], nil
	}
	scalarI := func(i int) (int32, error) {
		t := n.Const(i)
		if t == nil {
			return 0, Unsupported(n, "a non-constant input %d is", i)
		}
		v, ok := t.Data.([]int32)
		if !ok || len(v) != 1 {
			return 0, fmt.Errorf("input %d must be one int32, have %v", i, t)
		}
		return v[0], nil
	}
	var f [4]float32
	var z [3]int32
	var err error
	for i, at := range []int{2, 5, 6} {
		if f[i], err = scalarF(at); err != nil {
			return nil, err
		}
	}
	for i, at := range []int{1, 4, 7} {
		if z[i], err = scalarI(at); err != nil {
			return nil, err
		}
	}
	levels := n.Int("levels", 256)
	if levels < 2 || levels > 256 {
		return nil, Unsupported(n, "levels %d (outside 2..256) is", levels)
	}
	lo := n.Float("act_min", float32(math.Inf(-1)))
	hi := n.Float("act_max", float32(math.Inf(1)))
	if !(f[0] > 0 && f[1] > 0 && f[2] > 0) || lo > hi {
		return nil, fmt.Errorf("scales %v and activation range [%g, %g]", f[:3], lo, hi)
	}
	q := kernels.NewQAdd(z[0], z[1], f[0], f[1], lo, hi, f[2], z[2], 0, int32(levels-1))
	return &qadd{q: q, cl: n.Int("channels_last", 0) != 0}, nil
}

// Run implements Kernel.
func (k *qadd) Run(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 8); err != nil {
		return err
	}
	a, ok := in[0].Data.([]uint8)
	b, ok2 := in[3].Data.([]uint8)
	if !ok || !ok2 {
		return fmt.Errorf("A and B must be uint8 levels, have %v and %v", in[0].DType, in[3].DType)
	}
	if slices.Equal(in[0].Shape, in[3].Shape) {
		y := out[0]
		y.Reset(tensor.Uint8, in[0].Shape)
		yd := y.Data.([]uint8)
		if ctx.Threads <= 1 || len(yd) < 1<<15 {
			k.q.Row(yd, a, b)
			return nil
		}
		ctx.Parallel(len(yd), 1<<14, func(lo, hi int) { k.q.Row(yd[lo:hi], a[lo:hi], b[lo:hi]) })
		return nil
	}
	if k.cl {
		return fmt.Errorf("channels-last levels of shapes %v and %v do not broadcast", in[0].Shape, in[3].Shape)
	}
	shape, err := Broadcast(in[0].Shape, in[3].Shape)
	if err != nil {
		return err
	}
	y := out[0]
	y.Reset(tensor.Uint8, shape)
	yd := y.Data.([]uint8)
	sa, sb := BroadcastStrides(in[0].Shape, shape), BroadcastStrides(in[3].Shape, shape)
	oa, ob := make([]int, len(yd)), make([]int, len(yd))
	Offsets(oa, shape, sa)
	Offsets(ob, shape, sb)
	for i := range yd {
		yd[i] = k.q.Value(a[oa[i]], b[ob[i]])
	}
	return nil
}
