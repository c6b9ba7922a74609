package openvino

import (
	"fmt"
	"math"

	"github.com/potgo/pot/proto/potv1"
	sg "github.com/potgo/pot/sdk/graph"
)

// Quantized IR reads back as QDQ: the graph pot's QDQ export writes for
// the same plan, so that a target runs it with the same integer kernels.
//
//   - Compressed weights (Const i8/u8 → Convert f32 → [Subtract zero
//     point] → Multiply scale) read by a convolution or a MatMul become
//     an int8/uint8 initializer and a DequantizeLinear (scale, zero point,
//     axis), when DequantizeLinear computes exactly the chain's values.
//   - A FakeQuantize of an activation with 256 levels, output range =
//     input range and zero on the grid becomes QuantizeLinear +
//     DequantizeLinear: scale (high−low)/255, zero point −low/scale,
//     int8 (zero point 0) when the range is symmetric about level 128, as
//     pot stores symmetric signed activations, else uint8.
//   - The float bias of a Conv or Gemm whose input is such a per-tensor
//     activation and whose weights have zero zero points becomes int32
//     with scale s_x·s_w and a DequantizeLinear, as the QDQ export
//     stores it.

// dqWeights is a constant that a DequantizeLinear computes exactly:
// integers (int8 or uint8, in the constant's flat order), a scale and a
// zero point per channel; channels lie on one axis with inner elements
// after it (channels 1: per tensor).
type dqWeights struct {
	q        *potv1.Tensor
	scale    []float32
	zp       []int64
	channels int64
	inner    int64
}

// srcLayer returns the layer feeding input i of l.
func (r *reader) srcLayer(l *Layer, i int) *Layer {
	if i < 0 || i >= len(l.Input) {
		return nil
	}
	pk, ok := r.src[portKey{l.ID, l.Input[i].ID}]
	if !ok {
		return nil
	}
	return r.byID[pk.layer]
}

// dqChain recognizes a folded Multiply as compressed weights: Multiply
// of (Convert f32 of a Const i8/u8, or Subtract of a constant zero point
// from it) by a constant f32 scale, the scale and zero point per tensor
// or along one axis of the weights, the zero points integers of the
// storage type. Nil when the chain is anything else.
func (r *reader) dqChain(l *Layer) *dqWeights {
	if len(l.Input) != 2 || len(l.Output) != 1 {
		return nil
	}
	if ab, _ := l.Attr("auto_broadcast"); ab != "" && ab != "numpy" {
		return nil
	}
	for si := 0; si < 2; si++ {
		scale, data := r.in(l, si), r.in(l, 1-si)
		if scale == nil || data == nil || scale.konst == nil || scale.konst.Dtype != potv1.DataType_DATA_TYPE_FLOAT {
			continue
		}
		src := r.srcLayer(l, 1-si)
		if src == nil {
			continue
		}
		var zp *potv1.Tensor
		if src.Type == "Subtract" {
			if ab, _ := src.Attr("auto_broadcast"); (ab != "" && ab != "numpy") || len(src.Input) != 2 {
				continue
			}
			z := r.in(src, 1)
			if z == nil || z.konst == nil || z.konst.Dtype != potv1.DataType_DATA_TYPE_FLOAT {
				continue
			}
			zp = z.konst
			src = r.srcLayer(src, 0)
		}
		if src == nil || src.Type != "Convert" || len(src.Input) != 1 {
			continue
		}
		if dt, _ := src.Attr("destination_type"); dt != "f32" {
			continue
		}
		iv := r.in(src, 0)
		if iv == nil || iv.konst == nil || (iv.konst.Dtype != potv1.DataType_DATA_TYPE_INT8 && iv.konst.Dtype != potv1.DataType_DATA_TYPE_UINT8) {
			continue
		}
		if d := r.dqOf(iv.konst, scale.konst, zp); d != nil {
			return d
		}
	}
	return nil
}

// dqOf builds the DequantizeLinear parameters of integers q, a scale and
// an optional zero point (f32 constants broadcasting to q's dims).
func (r *reader) dqOf(q, scale, zp *potv1.Tensor) *dqWeights {
	dims := q.Dims
	sa, sc, ok := channelAxis(scale.Dims, dims)
	if !ok {
		return nil
	}
	d := &dqWeights{q: q, scale: f32s(scale), channels: sc, inner: 1}
	if int64(len(d.scale)) != sc {
		return nil
	}
	lo, hi := int64(-128), int64(127)
	if q.Dtype == potv1.DataType_DATA_TYPE_UINT8 {
		lo, hi = 0, 255
	}
	d.zp = make([]int64, sc)
	if zp != nil {
		za, zc, ok := channelAxis(zp.Dims, dims)
		if !ok || (zc > 1 && (sc != zc || za != sa)) {
			return nil
		}
		zv := f32s(zp)
		if int64(len(zv)) != zc {
			return nil
		}
		for c := range d.zp {
			z := zv[min(int64(c), zc-1)]
			if float32(math.Trunc(float64(z))) != z || int64(z) < lo || int64(z) > hi {
				return nil
			}
			d.zp[c] = int64(z)
		}
	}
	for _, s := range d.scale {
		if math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) || s == 0 {
			return nil
		}
	}
	if sc > 1 {
		for _, x := range dims[sa+1:] {
			d.inner *= x
		}
	}
	return d
}

// channelAxis finds the one axis along which a constant of dims c
// (broadcasting to dims, right-aligned) varies: its index in dims and
// its extent (1, axis -1: a constant per tensor).
func channelAxis(c, dims []int64) (int, int64, bool) {
	if !static(dims) {
		return 0, 0, false
	}
	return varyingAxis(c, dims, 0)
}

// useWeights returns the tensor name of weights read by a convolution or
// a MatMul: the integers behind a DequantizeLinear when the value is
// compressed weights, else the float constant (or the value) as use
// gives it.
func (r *reader) useWeights(v *value) string {
	if name, ok := r.dequantized(v, v.dims); ok {
		return name
	}
	return r.use(v)
}

// dequantized returns the output of a DequantizeLinear computing
// compressed weights v with dims (a reshape of v's); false when v is not
// compressed weights or its channels do not lie on one axis of dims.
func (r *reader) dequantized(v *value, dims []int64) (string, bool) {
	d := v.dq
	if d == nil || v.konst == nil {
		return "", false
	}
	if n, err := numel(dims); err != nil || n != numelOf(d.q) {
		return "", false
	}
	axis := -1
	if d.channels > 1 {
		inner := int64(1)
		for a := len(dims) - 1; a >= 0; a-- {
			if dims[a] == d.channels && inner == d.inner {
				axis = a
				break
			}
			inner *= dims[a]
		}
		if axis < 0 {
			return "", false
		}
	}
	key := fmt.Sprint(v.name, dims)
	if name, ok := r.dqs[key]; ok {
		return name, true
	}
	base := v.name
	qn := r.addConst(base+"_quantized", &potv1.Tensor{Dtype: d.q.Dtype, Dims: dims, Data: d.q.Data})
	sdims := []int64{d.channels}
	if axis < 0 {
		sdims = nil
	}
	sn := r.addConst(base+"_scale", f32("", sdims, d.scale))
	zv := make([]float64, len(d.zp))
	for i, z := range d.zp {
		zv[i] = float64(z)
	}
	zn := r.addConst(base+"_zero_point", encode("", d.q.Dtype, sdims, zv))
	out := v.name
	if r.inits[out] {
		out = r.tensorName(base + "_dequantized")
	} else {
		// The value's name is the dequantized weights: use() of it
		// returns the DequantizeLinear's output.
		r.inits[out] = true
	}
	var attrs []*potv1.Attribute
	if axis >= 0 {
		attrs = append(attrs, sg.IntAttr("axis", int64(axis)))
	}
	r.node(r.nodeName(base+"_DequantizeLinear"), "DequantizeLinear", []string{qn, sn, zn}, []string{out}, attrs...)
	r.dqs[key] = out
	return out, true
}

// fqLevels is the number of levels of an activation FakeQuantize that
// reads back as QuantizeLinear/DequantizeLinear: the levels of 8-bit
// storage, whose saturation is then the FakeQuantize's clamp.
const fqLevels = 256

// zeroTolerance is how far (in levels) −input_low/scale may be from an
// integer for the zero point to count as on the grid (float32 ranges
// round the exact value by about 1e-5 of a level).
const zeroTolerance = 1e-3

// fakeQuantizeQDQ maps an activation FakeQuantize to QuantizeLinear +
// DequantizeLinear when they compute the same values (see the package
// comment above); false when they would not.
func (r *reader) fakeQuantizeQDQ(l *Layer, levels int64) bool {
	if levels != fqLevels {
		return false
	}
	x := r.in(l, 0)
	if x.dtype != potv1.DataType_DATA_TYPE_FLOAT || x.dims == nil {
		return false
	}
	var rs [4]*potv1.Tensor
	axis, channels := -1, int64(1)
	for i := range rs {
		v := r.in(l, i+1)
		if v.konst == nil || v.konst.Dtype != potv1.DataType_DATA_TYPE_FLOAT {
			return false
		}
		rs[i] = v.konst
		a, c, ok := rangeAxis(v.konst.Dims, x.dims)
		if !ok || (c > 1 && channels > 1 && (a != axis || c != channels)) {
			return false
		}
		if c > 1 {
			axis, channels = a, c
		}
	}
	vals := [4][]float32{}
	for i, t := range rs {
		vals[i] = f32s(t)
		if n := int64(len(vals[i])); n != 1 && n != channels {
			return false
		}
	}
	at := func(v []float32, c int64) float32 { return v[min(c, int64(len(v))-1)] }
	scale := make([]float32, channels)
	zero := make([]int64, channels)
	signed := true
	for c := range channels {
		il, ih, ol, oh := at(vals[0], c), at(vals[1], c), at(vals[2], c), at(vals[3], c)
		if il != ol || ih != oh || !(ih > il) || math.IsInf(float64(ih-il), 0) {
			return false
		}
		// As plan.ParamsOf computes a quantizer's scale and zero point.
		s := (float64(ih) - float64(il)) / float64(levels-1)
		zf := -float64(il) / s
		z := math.Round(zf)
		if math.Abs(zf-z) > zeroTolerance || z < 0 || z > float64(levels-1) || float32(s) == 0 {
			return false
		}
		scale[c], zero[c] = float32(s), int64(z)
		signed = signed && zero[c] == levels/2
	}
	dt := potv1.DataType_DATA_TYPE_UINT8
	zv := make([]float64, channels)
	for c, z := range zero {
		zv[c] = float64(z)
		if signed {
			dt, zv[c] = potv1.DataType_DATA_TYPE_INT8, float64(z-levels/2)
		}
	}
	sdims := []int64{channels}
	var attrs []*potv1.Attribute
	if axis < 0 {
		sdims = nil
	} else {
		attrs = append(attrs, sg.IntAttr("axis", int64(axis)))
	}
	sn := r.addConst(l.Name+"/scale", f32("", sdims, scale))
	zn := r.addConst(l.Name+"/zero_point", encode("", dt, sdims, zv))
	qOut := r.tmp(l, "quantized")
	r.node(r.sub(l, "QuantizeLinear"), "QuantizeLinear", []string{r.use(x), sn, zn}, []string{qOut}, attrs...)
	r.node(l.Name, "DequantizeLinear", []string{qOut, sn, zn}, []string{r.outName(l, 0)}, attrs...)
	return true
}

// rangeAxis is channelAxis for a FakeQuantize range against data of
// dims that may be dynamic: the varying axis must be static.
func rangeAxis(c, dims []int64) (int, int64, bool) { return varyingAxis(c, dims, 2) }

// varyingAxis is the one axis of dims along which c, right-aligned,
// varies with an extent of at least least; every other dimension of c
// is 1.
func varyingAxis(c, dims []int64, least int64) (int, int64, bool) {
	if len(c) > len(dims) {
		return 0, 0, false
	}
	axis, n := -1, int64(1)
	for i, d := range c {
		j := i + len(dims) - len(c)
		switch {
		case d == 1:
		case d >= least && d == dims[j] && axis < 0:
			axis, n = j, d
		default:
			return 0, 0, false
		}
	}
	return axis, n, true
}

// scalePreserving are the operations the QDQ export walks through from
// an activation quantizer to the operations it quantizes for (host/qdq).
var scalePreserving = map[string]bool{
	"MaxPool": true, "GlobalMaxPool": true, "ReduceMax": true, "Reshape": true, "Flatten": true, "Squeeze": true,
	"Unsqueeze": true, "Transpose": true, "Tile": true, "Slice": true, "Expand": true, "DepthToSpace": true,
	"SpaceToDepth": true, "Identity": true, "Dropout": true,
}

// quantizeBiases stores the float bias of each Conv and Gemm whose input
// is a per-tensor QuantizeLinear/DequantizeLinear activation (through
// scale-preserving operations) and whose weights are a DequantizeLinear
// with zero zero points as int32 levels of scale s_x·s_w behind a
// DequantizeLinear, as the QDQ export does; true when it stored any.
func (r *reader) quantizeBiases() (changed bool) {
	prod := map[string]*potv1.Node{}
	for _, n := range r.g.Nodes {
		for _, o := range n.Outputs {
			prod[o] = n
		}
	}
	inits := map[string]*potv1.Tensor{}
	for _, t := range r.g.Initializers {
		inits[t.Name] = t
	}
	uses := map[string]int{}
	for _, n := range r.g.Nodes {
		for _, in := range n.Inputs {
			uses[in]++
		}
	}
	for _, o := range r.g.Outputs {
		uses[o.Name]++
	}
	scalar := func(name string) ([]float32, bool) {
		t := inits[name]
		if t == nil || t.Dtype != potv1.DataType_DATA_TYPE_FLOAT || int64(len(t.Data)) != 4*numelOf(t) {
			return nil, false
		}
		return f32s(t), true
	}
	for _, n := range append([]*potv1.Node(nil), r.g.Nodes...) {
		if (n.OpType != "Conv" && n.OpType != "Gemm") || len(n.Inputs) < 3 || n.Inputs[2] == "" {
			continue
		}
		// The activation's scale.
		t := n.Inputs[0]
		var sx float32
		found := false
		for depth := 0; depth <= 16; depth++ {
			p := prod[t]
			if p == nil {
				break
			}
			if p.OpType == "DequantizeLinear" {
				q := prod[p.Inputs[0]]
				s, ok := scalar(p.Inputs[1])
				if q != nil && q.OpType == "QuantizeLinear" && ok && len(s) == 1 && len(inits[p.Inputs[1]].Dims) == 0 {
					sx, found = s[0], true
				}
				break
			}
			if !scalePreserving[p.OpType] || len(p.Inputs) == 0 {
				break
			}
			t = p.Inputs[0]
		}
		if !found {
			continue
		}
		wdq := prod[n.Inputs[1]]
		if wdq == nil || wdq.OpType != "DequantizeLinear" || len(wdq.Inputs) < 3 {
			continue
		}
		sw, ok := scalar(wdq.Inputs[1])
		zt := inits[wdq.Inputs[2]]
		if !ok || zt == nil {
			continue
		}
		zeros := true
		for _, b := range zt.Data {
			zeros = zeros && b == 0
		}
		if !zeros {
			continue
		}
		if len(sw) > 1 {
			axis := sg.AttrInt(wdq, "axis", 1)
			transB := sg.AttrInt(n, "transB", 0)
			if !(n.OpType == "Conv" && axis == 0 || n.OpType == "Gemm" && (axis == 0 && transB == 1 || axis == 1 && transB == 0)) {
				continue
			}
		}
		b := inits[n.Inputs[2]]
		if b == nil || b.Dtype != potv1.DataType_DATA_TYPE_FLOAT || len(b.Dims) != 1 || int64(len(b.Data)) != 4*numelOf(b) {
			continue
		}
		vals := f32s(b)
		if len(sw) != 1 && len(sw) != len(vals) {
			continue
		}
		scales := make([]float32, len(vals))
		levels := make([]float64, len(vals))
		ok = true
		for i, v := range vals {
			scales[i] = sx * sw[min(i, len(sw)-1)]
			l := math.RoundToEven(float64(v / scales[i]))
			if scales[i] == 0 || l > math.MaxInt32 || l < math.MinInt32 {
				ok = false
				break
			}
			levels[i] = l
		}
		if !ok {
			continue
		}
		name := n.Inputs[2]
		qn := r.addConst(name+"_quantized", encode("", potv1.DataType_DATA_TYPE_INT32, b.Dims, levels))
		sn := r.addConst(name+"_scale", f32("", []int64{int64(len(vals))}, scales))
		zn := r.addConst(name+"_zero_point", encode("", potv1.DataType_DATA_TYPE_INT32, []int64{int64(len(vals))}, make([]float64, len(vals))))
		out := r.tensorName(name + "_dequantized")
		r.node(r.nodeName(name+"_DequantizeLinear"), "DequantizeLinear", []string{qn, sn, zn}, []string{out}, sg.IntAttr("axis", 0))
		n.Inputs[2] = out
		changed = true
		if uses[name]--; uses[name] == 0 {
			r.dropInit(name)
		}
	}
	return changed
}

// dropInit removes an initializer no node reads any more.
func (r *reader) dropInit(name string) {
	for i, t := range r.g.Initializers {
		if t.Name == name {
			r.g.Initializers = append(r.g.Initializers[:i], r.g.Initializers[i+1:]...)
			return
		}
	}
}
