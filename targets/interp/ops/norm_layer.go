package ops

import (
	"fmt"
	"math"
	"slices"

	"github.com/potgo/pot/targets/interp/tensor"
)

func init() {
	register(DomainONNX, "LayerNormalization", 17, newLayerNorm)
	register(DomainONNX, "MeanVarianceNormalization", 9, newMVN)
	register(DomainONNX, "MeanVarianceNormalization", 13, newMVN)
}

type layerNorm struct {
	axis int64
	eps  float64
}

func newLayerNorm(n *Node) (Kernel, error) {
	if st := n.Int("stash_type", 1); st != 1 {
		return nil, Unsupported(n, "stash_type %d is", st)
	}
	return &layerNorm{axis: n.Int("axis", -1), eps: float64(n.Float("epsilon", 1e-5))}, nil
}

func (k *layerNorm) Run(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 2); err != nil {
		return err
	}
	x := in[0]
	axis, err := NormalizeAxis(k.axis, x.Rank())
	if err != nil {
		return err
	}
	inner := tensor.NumElements(x.Shape[axis:])
	outer := tensor.NumElements(x.Shape[:axis])
	// Scale and B broadcast to the normalized shape.
	params := make([][]float64, 2)
	for i := range params {
		if i+1 >= len(in) || in[i+1] == nil {
			continue
		}
		t := in[i+1]
		v, err := floatView(t)
		if err != nil {
			return fmt.Errorf("input %d: %w", i+1, err)
		}
		if len(v) != inner {
			shape, err := Broadcast(t.Shape, x.Shape[axis:])
			if err != nil || !slices.Equal(shape, x.Shape[axis:]) {
				return fmt.Errorf("input %d of shape %v does not broadcast to %v", i+1, t.Shape, x.Shape[axis:])
			}
			full := make([]float64, inner)
			offs := make([]int, inner)
			Offsets(offs, x.Shape[axis:], BroadcastStrides(t.Shape, x.Shape[axis:]))
			for j, o := range offs {
				full[j] = v[o]
			}
			v = full
		}
		params[i] = v
	}
	scale, bias := params[0], params[1]
	statShape := append([]int(nil), x.Shape[:axis]...)
	for range x.Shape[axis:] {
		statShape = append(statShape, 1)
	}
	// Mean and InvStdDev have the type of the computation (stash_type 1:
	// float32).
	var means, invs []float32
	if len(out) > 1 && out[1] != nil {
		out[1].Reset(tensor.Float, statShape)
		means = out[1].F32()
	}
	if len(out) > 2 && out[2] != nil {
		out[2].Reset(tensor.Float, statShape)
		invs = out[2].F32()
	}
	affine := func(i int) (float64, float64) {
		b := 0.0
		if bias != nil {
			b = bias[i]
		}
		return scale[i], b
	}
	f32 := func(xs, ys []float32) error {
		layerNormApply(ctx, xs, ys, outer, inner, k.eps, affine, means, invs)
		return nil
	}
	f64 := func(xs, ys []float64) error {
		layerNormApply(ctx, xs, ys, outer, inner, k.eps, affine, means, invs)
		return nil
	}
	return runFloat(x, out[0], f32, f64)
}

func layerNormApply[T floatT](ctx *Context, x, y []T, outer, inner int, eps float64, affine func(int) (float64, float64), means, invs []float32) {
	ctx.Parallel(outer, 1, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			m, inv := normalize(x[r*inner:(r+1)*inner], y[r*inner:(r+1)*inner], eps, affine)
			if means != nil {
				means[r] = float32(m)
			}
			if invs != nil {
				invs[r] = float32(inv)
			}
		}
	})
}

type mvn struct{ axes []int64 }

func newMVN(n *Node) (Kernel, error) {
	return &mvn{axes: n.Ints("axes", []int64{0, 2, 3})}, nil
}

// mvnEpsilon is the constant of the operator's function body.
const mvnEpsilon = 1e-9

func (k *mvn) Run(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 1); err != nil {
		return err
	}
	x := in[0]
	rank := x.Rank()
	reduced := make([]bool, rank)
	for _, a := range k.axes {
		d, err := NormalizeAxis(a, rank)
		if err != nil {
			return err
		}
		reduced[d] = true
	}
	// Each element belongs to the group of its index with the reduced
	// dimensions dropped.
	groupShape := make([]int, rank)
	for d := range groupShape {
		groupShape[d] = x.Shape[d]
		if reduced[d] {
			groupShape[d] = 1
		}
	}
	groups := tensor.NumElements(groupShape)
	offs := make([]int, x.Len())
	Offsets(offs, x.Shape, BroadcastStrides(groupShape, x.Shape))
	f32 := func(xs, ys []float32) error { mvnApply(xs, ys, offs, groups); return nil }
	f64 := func(xs, ys []float64) error { mvnApply(xs, ys, offs, groups); return nil }
	return runFloat(x, out[0], f32, f64)
}

// mvnApply normalizes each group of x (offs gives every element's group).
func mvnApply[T floatT](x, y []T, offs []int, groups int) {
	sum := make([]float64, groups)
	sum2 := make([]float64, groups)
	count := make([]float64, groups)
	for i, v := range x {
		g := offs[i]
		sum[g] += float64(v)
		sum2[g] += float64(v) * float64(v)
		count[g]++
	}
	for g := range sum {
		mean := sum[g] / count[g]
		sum[g] = mean
		sum2[g] = math.Sqrt(math.Max(sum2[g]/count[g]-mean*mean, 0)) + mvnEpsilon
	}
	for i, v := range x {
		g := offs[i]
		y[i] = T((float64(v) - sum[g]) / sum2[g])
	}
}
