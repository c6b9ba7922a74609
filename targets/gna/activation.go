package gna

import (
	"fmt"
	"strings"
	"sync"

	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// GnaActivation (domain ai.pot) is GNA's PWL activation unit: attribute
// func names the function (Sigmoid, Tanh, Relu, PRelu, Clip, Log, Abs,
// Exp, Sign, Pow), params its constants (PRelu's slope — one, or one per
// channel of attribute axis —, Clip's min and max, Pow's exponent). The
// input x = round(X / in_scale) saturated to [in_lo, in_hi] (an int32 or
// int16 grid) goes through at most MaxSegments integer segments designed
// for the grids (see Design) to an int16 y on [out_lo, out_hi]; the
// output is y * out_scale.
type activation struct {
	inScale, outScale float64
	inLo, inHi        int64
	tables            []*PWL // one, or one per channel
	axis              int
}

// designs caches PWL designs: a model compiles the same activations
// under many plans.
var designs sync.Map // string -> *PWL

// DesignCached is Design with a process-wide cache.
func DesignCached(f Func, params []float64, in, out IntGrid) (*PWL, error) {
	key := fmt.Sprintf("%s%v|%v|%v", f.Name, params, in, out)
	if p, ok := designs.Load(key); ok {
		return p.(*PWL), nil
	}
	p, err := Design(f, in, out, MaxSegments)
	if err != nil {
		return nil, err
	}
	designs.Store(key, p)
	return p, nil
}

func newActivation(n *ops.Node) (ops.Kernel, error) {
	fn := n.String("func", "")
	is, inLo, inHi, err := gridAttrs(n, "in")
	if err != nil {
		return nil, err
	}
	os, outLo, outHi, err := gridAttrs(n, "out")
	if err != nil {
		return nil, err
	}
	k := &activation{inLo: inLo, inHi: inHi, axis: int(n.Int("axis", 1))}
	if k.inScale, err = scale1(n, is, "input"); err != nil {
		return nil, err
	}
	if k.outScale, err = scale1(n, os, "output"); err != nil {
		return nil, err
	}
	if outLo < Int16Lo || outHi > Int16Hi {
		return nil, fmt.Errorf("output range [%d, %d] is wider than int16", outLo, outHi)
	}
	in, out := IntGrid{Scale: k.inScale, Lo: inLo, Hi: inHi}, IntGrid{Scale: k.outScale, Lo: outLo, Hi: outHi}
	params := n.Floats("params", nil)
	sets := [][]float64{nil}
	switch fn {
	case "PRelu":
		sets = sets[:0]
		for _, p := range params {
			sets = append(sets, []float64{float64(p)})
		}
		if len(sets) == 0 {
			return nil, fmt.Errorf("PRelu without a slope")
		}
	default:
		for _, p := range params {
			sets[0] = append(sets[0], float64(p))
		}
	}
	for _, ps := range sets {
		f, err := NewFunc(fn, ps)
		if err != nil {
			if strings.Contains(err.Error(), "not a GNA activation") {
				return nil, ops.Unsupported(n, "function %q is", fn)
			}
			return nil, err
		}
		p, err := DesignCached(f, ps, in, out)
		if err != nil {
			return nil, err
		}
		k.tables = append(k.tables, p)
	}
	return k, nil
}

func (k *activation) Run(ctx *ops.Context, in, out []*tensor.Tensor) error {
	x, err := floats32(in[0], "X")
	if err != nil {
		return err
	}
	out[0].Reset(tensor.Float, in[0].Shape)
	y := out[0].F32()
	channels, inner := 1, len(x)
	if len(k.tables) > 1 {
		a, err := ops.NormalizeAxis(int64(k.axis), in[0].Rank())
		if err != nil {
			return err
		}
		channels = in[0].Shape[a]
		if channels != len(k.tables) {
			return fmt.Errorf("%d channels on axis %d for %d slopes", channels, a, len(k.tables))
		}
		inner = tensor.NumElements(in[0].Shape[a+1:])
	}
	ctx.Parallel(len(x), 1<<13, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			t := k.tables[0]
			if channels > 1 {
				t = k.tables[(i/inner)%channels]
			}
			q := toInt(x[i], k.inScale, k.inLo, k.inHi)
			y[i] = float32(float64(t.Eval(q)) * k.outScale)
		}
	})
	return nil
}
