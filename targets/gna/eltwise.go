package gna

import (
	"fmt"
	"math"

	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// GnaEltwise (domain ai.pot) is GNA's element-wise layer on two int16
// inputs (with NumPy broadcasting), attribute op = Add, Sub or Mul:
//
//	Add/Sub: acc = sat32(a * ma ± b * mb), y = acc * acc_scale
//	Mul:     acc = a * b,                  y = acc * a_scale * b_scale
//
// a = round(A / a_scale), b = round(B / b_scale) on their grids (a_*,
// b_*). For Add and Sub the inputs are brought to one accumulator grid
// by int16 multipliers, as GNA's diagonal (scaling) layer does: the
// finer input gets 2^k, the coarser round(2^k * ratio of the steps), with
// the largest k that keeps both within int16, so the error of the ratio
// is below 2^-15 relative.
type eltwise struct {
	op             string
	aScale, bScale float64
	aLo, aHi       int64
	bLo, bHi       int64
	ma, mb         int64
	accScale       float64
}

func newEltwise(n *ops.Node) (ops.Kernel, error) {
	k := &eltwise{op: n.String("op", "")}
	as, aLo, aHi, err := gridAttrs(n, "a")
	if err != nil {
		return nil, err
	}
	bs, bLo, bHi, err := gridAttrs(n, "b")
	if err != nil {
		return nil, err
	}
	if k.aScale, err = scale1(n, as, "first input"); err != nil {
		return nil, err
	}
	if k.bScale, err = scale1(n, bs, "second input"); err != nil {
		return nil, err
	}
	k.aLo, k.aHi, k.bLo, k.bHi = aLo, aHi, bLo, bHi
	switch k.op {
	case "Add", "Sub":
		k.ma, k.mb, k.accScale = Multipliers(k.aScale, k.bScale)
	case "Mul":
		k.ma, k.mb, k.accScale = 1, 1, k.aScale*k.bScale
	default:
		return nil, ops.Unsupported(n, "op %q is", k.op)
	}
	return k, nil
}

// Multipliers returns the int16 multipliers that put two grids on one
// accumulator grid, and that grid's step.
func Multipliers(a, b float64) (ma, mb int64, acc float64) {
	fine, coarse, swap := a, b, false
	if a > b {
		fine, coarse, swap = b, a, true
	}
	ratio := coarse / fine
	shift := 14
	for shift > 0 && math.RoundToEven(ratio*math.Ldexp(1, shift)) > Int16Hi {
		shift--
	}
	mf := int64(1) << shift
	mc := int64(min(Int16Hi, math.RoundToEven(ratio*math.Ldexp(1, shift))))
	acc = fine / float64(mf)
	if swap {
		return mc, mf, acc
	}
	return mf, mc, acc
}

func (k *eltwise) Run(ctx *ops.Context, in, out []*tensor.Tensor) error {
	a, err := floats32(in[0], "A")
	if err != nil {
		return err
	}
	b, err := floats32(in[1], "B")
	if err != nil {
		return err
	}
	shape, err := ops.Broadcast(in[0].Shape, in[1].Shape)
	if err != nil {
		return fmt.Errorf("GnaEltwise: %w", err)
	}
	out[0].Reset(tensor.Float, shape)
	y := out[0].F32()
	ai := make([]int64, len(a))
	for i, v := range a {
		ai[i] = toInt(v, k.aScale, k.aLo, k.aHi)
	}
	bi := make([]int64, len(b))
	for i, v := range b {
		bi[i] = toInt(v, k.bScale, k.bLo, k.bHi)
	}
	ia, ib := make([]int, len(y)), make([]int, len(y))
	ops.Offsets(ia, shape, ops.BroadcastStrides(in[0].Shape, shape))
	ops.Offsets(ib, shape, ops.BroadcastStrides(in[1].Shape, shape))
	ctx.Parallel(len(y), 1<<14, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			x, z := ai[ia[i]], bi[ib[i]]
			var acc int64
			switch k.op {
			case "Add":
				acc = sat32(x*k.ma + z*k.mb)
			case "Sub":
				acc = sat32(x*k.ma - z*k.mb)
			default:
				acc = sat32(x * z)
			}
			y[i] = float32(float64(acc) * k.accScale)
		}
	})
	return nil
}
