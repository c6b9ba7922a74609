package cpu

import (
	"math"
	"slices"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// actQuant is an activation quantizer of the graph: a FakeQuantize node,
// or a QuantizeLinear whose only reader is a DequantizeLinear with the
// same parameters. Its float output equals
// (clamp(RoundHalfEven(in/scale) + zp, 0, levels-1) - zp)·outScale.
type actQuant struct {
	nodes    []*potv1.Node // FakeQuantize, or QuantizeLinear + DequantizeLinear
	in, out  string
	levels   int
	scale    []float32 // one, or per channel of axis 1
	outScale []float32
	zp       []int32
	axis     int

	// Lowering state.
	levelsName string // the uint8 levels tensor, once some integer op needs it
	producedBy *potv1.Node
	consumers  []*potv1.Node // integer operators reading levelsName
	standard   bool          // a reader needs the standard layout
}

func (q *actQuant) perChannel() bool { return len(q.scale) > 1 }

// findActQuant returns the activation quantizer whose float output is t.
func (x *index) findActQuant(t string) *actQuant {
	n := x.ix.Producer(t)
	if n == nil {
		return nil
	}
	switch {
	case n.GetDomain() == plan.FakeQuantizeDomain && n.GetOpType() == plan.FakeQuantizeOp:
		return x.fakeQuantAct(n)
	case graph.IsONNX(n):
		if n.GetOpType() == "DequantizeLinear" {
			return x.qdqAct(n)
		}
	}
	return nil
}

func (x *index) fakeQuantAct(n *potv1.Node) *actQuant {
	if len(n.GetInputs()) < 4 || len(n.GetOutputs()) != 1 || x.constant(n.Inputs[0]) != nil {
		return nil
	}
	levels := graph.AttrInt(n, "levels", 0)
	if levels < 2 || levels > 256 {
		return nil
	}
	s, _, ok1 := x.floats(n.Inputs[1])
	z, _, ok2 := x.floats(n.Inputs[2])
	os, _, ok3 := x.floats(n.Inputs[3])
	if !ok1 || !ok2 || !ok3 {
		return nil
	}
	q := &actQuant{nodes: []*potv1.Node{n}, in: n.Inputs[0], out: n.Outputs[0], levels: int(levels), axis: int(graph.AttrInt(n, "axis", 1))}
	return q.params(s, z, os, 0)
}

// params expands per-tensor or per-channel parameters and checks them:
// integral zero points on the level grid, positive finite scales, the
// channel axis 1. offset is added to the zero points.
func (q *actQuant) params(s, z, os []float32, offset int32) *actQuant {
	c := max(len(s), len(z), len(os))
	if c > 1 && q.axis != 1 {
		return nil
	}
	for _, v := range [][]float32{s, z, os} {
		if len(v) != 1 && len(v) != c {
			return nil
		}
	}
	for i := 0; i < c; i++ {
		sc, zf, o := s[min(i, len(s)-1)], z[min(i, len(z)-1)], os[min(i, len(os)-1)]
		zi := int32(zf) + offset
		if float32(int32(zf)) != zf || zi < 0 || int(zi) >= q.levels || !(sc > 0) || !(o > 0) ||
			math.IsInf(float64(sc), 0) || math.IsInf(float64(o), 0) {
			return nil
		}
		q.scale = append(q.scale, sc)
		q.zp = append(q.zp, zi)
		q.outScale = append(q.outScale, o)
	}
	return q
}

// qdqAct recognizes QuantizeLinear → DequantizeLinear with equal
// parameters and an 8-bit type; int8 levels are shifted by 128.
func (x *index) qdqAct(dq *potv1.Node) *actQuant {
	if len(dq.GetInputs()) < 2 || len(dq.GetOutputs()) != 1 {
		return nil
	}
	qn := x.ix.Producer(dq.Inputs[0])
	if qn == nil || qn.GetOpType() != "QuantizeLinear" || !graph.IsONNX(qn) ||
		len(qn.GetOutputs()) != 1 || len(x.ix.Consumers(qn.Outputs[0])) != 1 || x.outputs[qn.Outputs[0]] {
		return nil
	}
	if x.constant(qn.Inputs[0]) != nil {
		return nil
	}
	if graph.AttrInt(qn, "axis", 1) != graph.AttrInt(dq, "axis", 1) || graph.AttrInt(qn, "block_size", 0) != 0 || graph.AttrInt(dq, "block_size", 0) != 0 {
		return nil
	}
	s, _, ok := x.floats(qn.Inputs[1])
	ds, _, ok2 := x.floats(dq.Inputs[1])
	if !ok || !ok2 || !slices.Equal(s, ds) {
		return nil
	}
	var zt, dzt *tensor.Tensor
	if len(qn.Inputs) > 2 && qn.Inputs[2] != "" {
		if zt = x.constant(qn.Inputs[2]); zt == nil {
			return nil
		}
	}
	if len(dq.Inputs) > 2 && dq.Inputs[2] != "" {
		if dzt = x.constant(dq.Inputs[2]); dzt == nil {
			return nil
		}
	}
	dt, z := tensor.Uint8, []float32{0}
	if zt != nil {
		dt = zt.DType
		v, err := zt.Float64s()
		if err != nil {
			return nil
		}
		z = make([]float32, len(v))
		for i, f := range v {
			z[i] = float32(f)
		}
	}
	dz := []float32{0}
	if dzt != nil {
		if dzt.DType != dt {
			return nil
		}
		v, _ := dzt.Float64s()
		dz = make([]float32, len(v))
		for i, f := range v {
			dz[i] = float32(f)
		}
	} else if zt != nil && dt != tensor.Uint8 {
		return nil
	}
	if !slices.Equal(z, dz) {
		return nil
	}
	if graph.AttrInt(qn, "output_dtype", 0) != 0 && tensor.DType(graph.AttrInt(qn, "output_dtype", 0)) != dt {
		return nil
	}
	var offset int32
	switch dt {
	case tensor.Uint8:
	case tensor.Int8:
		offset = 128
	default:
		return nil
	}
	q := &actQuant{nodes: []*potv1.Node{qn, dq}, in: qn.Inputs[0], out: dq.Outputs[0], levels: 256, axis: int(graph.AttrInt(qn, "axis", 1))}
	if q.axis < 0 {
		return nil
	}
	return q.params(s, z, s, offset)
}

// weights are the int8 values of a quantized constant weight tensor and
// the real value of one unit per channel of axis.
type weights struct {
	values []int8
	shape  []int
	scale  []float32 // one, or per index of axis
	axis   int
}

// findWeights returns the int8 weights of a constant produced by a
// FakeQuantize of a constant, or by a DequantizeLinear of constant
// integers; nil when the tensor is not such a weight or its levels do
// not fit int8.
func (x *index) findWeights(t string) *weights {
	n := x.ix.Producer(t)
	if n == nil || len(n.GetInputs()) < 2 {
		return nil
	}
	switch {
	case n.GetDomain() == plan.FakeQuantizeDomain && n.GetOpType() == plan.FakeQuantizeOp:
		return x.fakeQuantWeights(n)
	case graph.IsONNX(n) && n.GetOpType() == "DequantizeLinear":
		return x.dequantWeights(n)
	}
	return nil
}

func (x *index) fakeQuantWeights(n *potv1.Node) *weights {
	if len(n.GetInputs()) < 4 {
		return nil
	}
	w := x.constant(n.Inputs[0])
	if w == nil || w.DType != tensor.Float {
		return nil
	}
	levels := graph.AttrInt(n, "levels", 0)
	s, _, ok1 := x.floats(n.Inputs[1])
	z, _, ok2 := x.floats(n.Inputs[2])
	os, _, ok3 := x.floats(n.Inputs[3])
	if !ok1 || !ok2 || !ok3 || levels < 2 || levels > 256 {
		return nil
	}
	c := max(len(s), len(z), len(os))
	l, ok := newChannelLayout(w.Shape, c, int(graph.AttrInt(n, "axis", 1)))
	if !ok {
		return nil
	}
	out := &weights{values: make([]int8, w.Len()), shape: append([]int(nil), w.Shape...), axis: l.axis}
	for i := 0; i < c; i++ {
		out.scale = append(out.scale, os[min(i, len(os)-1)])
	}
	data := w.F32()
	for i, v := range data {
		ch := l.channel(i)
		sc, zf := s[min(ch, len(s)-1)], z[min(ch, len(z)-1)]
		if !(sc > 0) || float32(int32(zf)) != zf {
			return nil
		}
		q := float64(ops.RoundHalfEven(v/sc)) + float64(zf)
		q = math.Min(math.Max(q, 0), float64(levels-1))
		iv := q - float64(zf)
		if iv < math.MinInt8 || iv > math.MaxInt8 {
			return nil
		}
		out.values[i] = int8(iv)
	}
	return out
}

func (x *index) dequantWeights(n *potv1.Node) *weights {
	v := x.constant(n.Inputs[0])
	if v == nil || (v.DType != tensor.Int8 && v.DType != tensor.Uint8) || graph.AttrInt(n, "block_size", 0) != 0 {
		return nil
	}
	s, _, ok := x.floats(n.Inputs[1])
	if !ok {
		return nil
	}
	z := []float32{0}
	if len(n.Inputs) > 2 && n.Inputs[2] != "" {
		var ok bool
		if z, _, ok = x.floats(n.Inputs[2]); !ok {
			return nil
		}
	}
	c := max(len(s), len(z))
	a := 1
	if x.opsetOf(n) >= 13 {
		a = int(graph.AttrInt(n, "axis", 1))
	}
	l, ok := newChannelLayout(v.Shape, c, a)
	if !ok {
		return nil
	}
	vals, err := v.Float64s()
	if err != nil {
		return nil
	}
	out := &weights{values: make([]int8, len(vals)), shape: append([]int(nil), v.Shape...), axis: l.axis}
	for i := 0; i < c; i++ {
		out.scale = append(out.scale, s[min(i, len(s)-1)])
	}
	for i, f := range vals {
		iv := f - float64(z[min(l.channel(i), len(z)-1)])
		if iv < math.MinInt8 || iv > math.MaxInt8 {
			return nil
		}
		out.values[i] = int8(iv)
	}
	return out
}

// channelLayout maps a flat index of a weight tensor to its quantization
// channel: c channels along axis, or one channel for the whole tensor.
type channelLayout struct {
	axis, inner, dim int
}

// newChannelLayout resolves a (possibly negative) quantization axis of a
// tensor of the given shape with c channels; ok is false when the axis is out
// of range or its extent is not c. With c <= 1 the axis is ignored.
func newChannelLayout(shape []int, c, axis int) (channelLayout, bool) {
	if c <= 1 {
		return channelLayout{inner: 1, dim: 1}, true
	}
	if axis < 0 {
		axis += len(shape)
	}
	if axis < 0 || axis >= len(shape) || shape[axis] != c {
		return channelLayout{}, false
	}
	return channelLayout{axis: axis, inner: tensor.NumElements(shape[axis+1:]), dim: c}, true
}

// channel is the channel of flat index i.
func (l channelLayout) channel(i int) int {
	return (i / l.inner) % l.dim
}
