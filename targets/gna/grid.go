package gna

import (
	"fmt"
	"math"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// Grid is the integer representation GNA uses for a tensor: value =
// q * Scale[c], q in [Lo, Hi] (the container: int8, int16 or int32).
type Grid struct {
	Scale []float64 // one step, or one per channel of Axis
	Axis  int
	Lo    int64
	Hi    int64
}

// PerTensor reports whether the grid has one step.
func (g *Grid) PerTensor() bool { return len(g.Scale) == 1 }

// fq is a FakeQuantize node's parameters.
type fq struct {
	node               *potv1.Node
	scale, zp, outStep []float64
	levels             int64
	axis               int
}

// readFQ reads a FakeQuantize node's parameters from the initializers.
func readFQ(n *potv1.Node, x *graph.Index) (*fq, error) {
	if len(n.GetInputs()) != 4 {
		return nil, fmt.Errorf("FakeQuantize %q has %d inputs", n.GetName(), len(n.GetInputs()))
	}
	q := &fq{node: n, levels: graph.AttrInt(n, "levels", 0), axis: int(graph.AttrInt(n, "axis", 1))}
	dst := []*[]float64{&q.scale, &q.zp, &q.outStep}
	c := 1
	for i, p := range dst {
		t := x.Initializer(n.GetInputs()[i+1])
		if t == nil {
			return nil, fmt.Errorf("FakeQuantize %q: parameter %q is not a constant", n.GetName(), n.GetInputs()[i+1])
		}
		v, err := graph.Float32s(t)
		if err != nil {
			return nil, err
		}
		if len(v) != 1 {
			if c != 1 && len(v) != c {
				return nil, fmt.Errorf("FakeQuantize %q: parameters of %d and %d channels", n.GetName(), c, len(v))
			}
			c = len(v)
		}
		*p = make([]float64, len(v))
		for j, x := range v {
			(*p)[j] = float64(x)
		}
	}
	for _, p := range dst {
		if len(*p) == 1 && c > 1 {
			v := (*p)[0]
			*p = make([]float64, c)
			for j := range *p {
				(*p)[j] = v
			}
		}
	}
	if q.levels < 2 {
		return nil, fmt.Errorf("FakeQuantize %q: %d levels", n.GetName(), q.levels)
	}
	return q, nil
}

// fit coarsens the quantizer, by the smallest power of two, until its
// integers fit [lo, hi]: a grid of more levels than the container holds
// (an unsigned 16-bit activation range on GNA's int16) loses its lowest
// bits. It reports the factor.
func (q *fq) fit(lo, hi int64) (float64, error) {
	f := 1.0
	for {
		ok := true
		for _, z := range q.zp {
			l := math.Ceil(-z / f)
			h := math.Floor((float64(q.levels-1) - z) / f)
			ok = ok && l >= float64(lo) && h <= float64(hi)
		}
		if ok {
			break
		}
		f *= 2
		if f > 1<<40 {
			return 0, fmt.Errorf("FakeQuantize %q: %d levels do not fit [%d, %d]", q.node.GetName(), q.levels, lo, hi)
		}
	}
	if f == 1 {
		return 1, nil
	}
	var levels int64
	for i, z := range q.zp {
		l := math.Ceil(-z / f)
		h := math.Floor((float64(q.levels-1) - z) / f)
		levels = max(levels, int64(h-l)+1)
		q.zp[i] = -l
		q.scale[i] *= f
		q.outStep[i] *= f
	}
	q.levels = levels
	return f, nil
}

func float32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
