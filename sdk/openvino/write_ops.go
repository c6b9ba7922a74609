package openvino

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
)

// An opFunc writes the layers of one ONNX node.
type opFunc func(w *writer, n *potv1.Node) error

// ops maps ONNX operations (opset 13 and later) to OpenVINO's, with the
// names and attribute spellings of OpenVINO's operation specifications
// (docs/articles_en/documentation/openvino-ir-format/operation-sets/
// operation-specs).
var ops map[string]opFunc

func init() {
	ops = map[string]opFunc{
		"Conv": (*writer).conv, "Gemm": (*writer).gemm, "MatMul": (*writer).matmul,
		"MaxPool": (*writer).pool, "AveragePool": (*writer).pool,
		"GlobalAveragePool": (*writer).globalPool, "GlobalMaxPool": (*writer).globalPool,
		"Flatten": (*writer).flatten, "Reshape": (*writer).reshape, "Transpose": (*writer).transpose,
		"Softmax": (*writer).softmax, "Concat": (*writer).concat,
		"ReduceMean": (*writer).reduce, "ReduceMax": (*writer).reduce, "ReduceMin": (*writer).reduce,
		"ReduceSum": (*writer).reduce, "ReduceProd": (*writer).reduce,
		"Gather": (*writer).gather, "Shape": (*writer).shapeOf,
		"Unsqueeze": (*writer).unsqueeze, "Squeeze": (*writer).squeeze, "Slice": (*writer).slice,
		"Cast": (*writer).cast, "Split": (*writer).split, "LayerNormalization": (*writer).layerNorm,
		"BatchNormalization": (*writer).batchNorm,
		"Clip":               (*writer).clip, "HardSigmoid": (*writer).hardSigmoid, "LeakyRelu": (*writer).leakyRelu,
		"Elu": (*writer).elu, "PRelu": (*writer).prelu,
		"ConstantOfShape": (*writer).constantOfShape, "Expand": (*writer).expand, "Tile": (*writer).tile,
		"Where": (*writer).where, "Constant": (*writer).constant,
		"Identity": (*writer).identity, "Dropout": (*writer).identity,
	}
	for onnx := range unary {
		ops[onnx] = (*writer).unaryOp
	}
	for onnx := range binaryOps {
		ops[onnx] = (*writer).binaryOp
	}
}

// unary maps element-wise ONNX operations to OpenVINO's (type, version).
var unary = map[string][2]string{
	"Relu": {"ReLU", "opset1"}, "Sigmoid": {"Sigmoid", "opset1"}, "Tanh": {"Tanh", "opset1"},
	"Sqrt": {"Sqrt", "opset1"}, "Erf": {"Erf", "opset1"}, "Exp": {"Exp", "opset1"}, "Log": {"Log", "opset1"},
	"Abs": {"Abs", "opset1"}, "Neg": {"Negative", "opset1"}, "Floor": {"Floor", "opset1"},
	"Ceil": {"Ceiling", "opset1"}, "Sign": {"Sign", "opset1"}, "Not": {"LogicalNot", "opset1"},
	"HardSwish": {"HSwish", "opset4"}, "Softplus": {"SoftPlus", "opset4"}, "Sin": {"Sin", "opset1"},
	"Cos": {"Cos", "opset1"},
}

// binaryOps maps broadcasting ONNX operations to OpenVINO's (type, version);
// all take auto_broadcast="numpy".
var binaryOps = map[string][2]string{
	"Add": {"Add", "opset1"}, "Sub": {"Subtract", "opset1"}, "Mul": {"Multiply", "opset1"},
	"Div": {"Divide", "opset1"}, "Pow": {"Power", "opset1"}, "Max": {"Maximum", "opset1"},
	"Min": {"Minimum", "opset1"}, "Equal": {"Equal", "opset1"}, "Less": {"Less", "opset1"},
	"Greater": {"Greater", "opset1"}, "LessOrEqual": {"LessEqual", "opset1"},
	"GreaterOrEqual": {"GreaterEqual", "opset1"}, "And": {"LogicalAnd", "opset1"},
	"Or": {"LogicalOr", "opset1"}, "Xor": {"LogicalXor", "opset1"}, "Mod": {"FloorMod", "opset1"},
}

var numpy = [2]string{"auto_broadcast", "numpy"}

func (w *writer) node(n *potv1.Node) error {
	if n.GetDomain() == plan.FakeQuantizeDomain {
		return w.fakeQuantize(n)
	}
	return ops[n.GetOpType()](w, n)
}

// in returns input i of n, written.
func (w *writer) in(n *potv1.Node, i int) (*val, error) {
	if i >= len(n.GetInputs()) || n.GetInputs()[i] == "" {
		return nil, fmt.Errorf("input %d is missing", i)
	}
	return w.get(n.GetInputs()[i])
}

// peek returns input i of n without writing it; nil when absent.
func (w *writer) peek(n *potv1.Node, i int) *val {
	if i >= len(n.GetInputs()) || n.GetInputs()[i] == "" {
		return nil
	}
	return w.vals[n.GetInputs()[i]]
}

// konst returns the value of input i of n when it is a constant.
func (w *writer) konst(n *potv1.Node, i int) *potv1.Tensor {
	if v := w.peek(n, i); v != nil {
		return v.konst
	}
	return nil
}

// emit writes a layer reading ins with one output per out; names are the
// tensors each output defines ("" for an internal value).
func (w *writer) emit(name, typ, version string, attrs [][2]string, ins []*val, outs []*val, names []string) (*Layer, error) {
	l := w.layer(name, typ, version, attrs)
	for _, v := range ins {
		if v.layer == nil {
			return nil, fmt.Errorf("internal error: %s input not written", typ)
		}
		w.connect(l, v)
	}
	for i, o := range outs {
		if err := w.output(l, o, names[i]); err != nil {
			return nil, err
		}
		if names[i] != "" {
			w.vals[names[i]] = o
		}
	}
	return l, nil
}

// final writes the last layer of node n: named as the node, its output
// the node's first output.
func (w *writer) final(n *potv1.Node, typ, version string, attrs [][2]string, ins []*val, out *val) error {
	_, err := w.emit(n.GetName(), typ, version, attrs, ins, []*val{out}, []string{n.GetOutputs()[0]})
	return err
}

// mid writes an inner layer of node n, named NODE/suffix.
func (w *writer) mid(n *potv1.Node, suffix, typ, version string, attrs [][2]string, ins []*val, out *val) (*val, error) {
	_, err := w.emit(n.GetName()+"/"+suffix, typ, version, attrs, ins, []*val{out}, []string{""})
	return out, err
}

// inputs returns inputs [0, k) of n, written.
func (w *writer) inputs(n *potv1.Node, k int) ([]*val, error) {
	out := make([]*val, k)
	for i := range out {
		v, err := w.in(n, i)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (w *writer) unaryOp(n *potv1.Node) error {
	x, err := w.in(n, 0)
	if err != nil {
		return err
	}
	t := unary[n.GetOpType()]
	dt := x.dt
	if n.GetOpType() == "Not" {
		dt = potv1.DataType_DATA_TYPE_BOOL
	}
	return w.final(n, t[0], t[1], nil, []*val{x}, &val{dims: x.dims, dt: dt})
}

func (w *writer) binaryOp(n *potv1.Node) error {
	ins, err := w.inputs(n, 2)
	if err != nil {
		return err
	}
	a, b := ins[0], ins[1]
	t := binaryOps[n.GetOpType()]
	out := &val{dims: broadcast(a.dims, b.dims), dt: a.dt}
	attrs := [][2]string{numpy}
	switch n.GetOpType() {
	case "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor":
		out.dt = potv1.DataType_DATA_TYPE_BOOL
	case "Div":
		// ONNX divides integers truncating toward zero: not Python's
		// floor division.
		attrs = [][2]string{{"m_pythondiv", strconv.FormatBool(graph.IsFloatType(a.dt))}, numpy}
	}
	if numElements(out.dims) >= 0 && numElements(out.dims) <= 64 {
		out.parts = broadcastParts(a.parts, b.parts, intOp(n.GetOpType()))
	}
	return w.final(n, t[0], t[1], attrs, ins, out)
}

// intOp is an integer operation on known shape values.
func intOp(op string) func(x, y int64) (int64, bool) {
	switch op {
	case "Add":
		return func(x, y int64) (int64, bool) { return x + y, true }
	case "Sub":
		return func(x, y int64) (int64, bool) { return x - y, true }
	case "Mul":
		return func(x, y int64) (int64, bool) { return x * y, true }
	case "Div":
		return func(x, y int64) (int64, bool) { return x / max(y, 1), y != 0 }
	case "Equal":
		return func(x, y int64) (int64, bool) {
			if x == y {
				return 1, true
			}
			return 0, true
		}
	}
	return func(int64, int64) (int64, bool) { return 0, false }
}

// onnxAutoPad maps ONNX auto_pad to OpenVINO's spelling.
func onnxAutoPad(n *potv1.Node) string {
	switch s := graph.AttrString(n, "auto_pad", "NOTSET"); s {
	case "SAME_UPPER":
		return "same_upper"
	case "SAME_LOWER":
		return "same_lower"
	case "VALID":
		return "valid"
	}
	return "explicit"
}

func joinInts(v []int64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatInt(x, 10)
	}
	return strings.Join(s, ",")
}

// window reads the attributes of a sliding window over rank-2 spatial
// dims: kernel, strides, dilations, pads begin and end, and the output
// spatial dims.
func window(n *potv1.Node, in []int64, kernel []int64, ceil bool) (strides, dil, pb, pe, outSpatial []int64) {
	k := len(kernel)
	strides = graph.AttrInts(n, "strides", ones(k))
	dil = graph.AttrInts(n, "dilations", ones(k))
	pads := graph.AttrInts(n, "pads", make([]int64, 2*k))
	if len(pads) != 2*k {
		pads = make([]int64, 2*k)
	}
	pb, pe = pads[:k], pads[k:]
	ap := graph.AttrString(n, "auto_pad", "NOTSET")
	for i := 0; i < k; i++ {
		d := int64(-1)
		if 2+i < len(in) {
			d = in[2+i]
		}
		outSpatial = append(outSpatial, spatial(d, kernel[i], strides[i], dil[i], pb[i], pe[i], ap, ceil))
	}
	if ap != "NOTSET" {
		pb, pe = make([]int64, k), make([]int64, k)
	}
	return
}

func (w *writer) conv(n *potv1.Node) error {
	x, err := w.in(n, 0)
	if err != nil {
		return err
	}
	wv := w.peek(n, 1)
	if wv == nil {
		return fmt.Errorf("no weights")
	}
	if len(wv.dims) < 3 || len(x.dims) != len(wv.dims) {
		return fmt.Errorf("weights dims %v for input dims %v", wv.dims, x.dims)
	}
	kernel := graph.AttrInts(n, "kernel_shape", wv.dims[2:])
	strides, dil, pb, pe, sp := window(n, x.dims, kernel, false)
	group := graph.AttrInt(n, "group", 1)
	out := &val{dims: append([]int64{x.dims[0], wv.dims[0]}, sp...), dt: x.dt}
	attrs := [][2]string{{"strides", joinInts(strides)}, {"dilations", joinInts(dil)}, {"pads_begin", joinInts(pb)},
		{"pads_end", joinInts(pe)}, {"auto_pad", onnxAutoPad(n)}}
	typ := "Convolution"
	var weights *val
	if group == 1 {
		if weights, err = w.in(n, 1); err != nil {
			return err
		}
	} else {
		// GroupConvolution's weights are [GROUPS, C_OUT/G, C_IN/G, k...].
		typ = "GroupConvolution"
		o := wv.dims[0]
		if o%group != 0 {
			return fmt.Errorf("%d output channels in %d groups", o, group)
		}
		gd := append([]int64{group, o / group}, wv.dims[1:]...)
		if weights, err = w.reshaped(n, 1, gd); err != nil {
			return err
		}
	}
	ins := []*val{x, weights}
	b := w.peek(n, 2)
	if b == nil {
		return w.final(n, typ, "opset1", attrs, ins, out)
	}
	conv, err := w.mid(n, "WithoutBiases", typ, "opset1", attrs, ins, out)
	if err != nil {
		return err
	}
	// The bias as [1, C, 1, 1], as OpenVINO's ONNX front end writes it.
	bd := ones(len(out.dims))
	bd[1] = wv.dims[0]
	bias, err := w.reshaped(n, 2, bd)
	if err != nil {
		return err
	}
	return w.final(n, "Add", "opset1", [][2]string{numpy}, []*val{conv, bias}, &val{dims: out.dims, dt: x.dt})
}

// reshaped returns input i of n with dims: a constant written with those
// dims, anything else through a Reshape layer.
func (w *writer) reshaped(n *potv1.Node, i int, dims []int64) (*val, error) {
	v := w.peek(n, i)
	if v == nil {
		return nil, fmt.Errorf("input %d is missing", i)
	}
	if slices.Equal(v.dims, dims) {
		return w.in(n, i)
	}
	if v.konst != nil && v.layer == nil {
		c := &val{konst: v.konst, dt: v.dt}
		if err := w.constLayer(n.GetInputs()[i], c, dims); err != nil {
			return nil, err
		}
		return c, nil
	}
	if v.konst != nil {
		c := &val{konst: v.konst, dt: v.dt}
		if err := w.constLayer(n.GetInputs()[i]+"/reshaped", c, dims); err != nil {
			return nil, err
		}
		return c, nil
	}
	src, err := w.in(n, i)
	if err != nil {
		return nil, err
	}
	shape, err := w.i64Const(n.GetName()+"/"+strconv.Itoa(i)+"/shape", []int64{int64(len(dims))}, dims)
	if err != nil {
		return nil, err
	}
	return w.mid(n, strconv.Itoa(i)+"/Reshape", "Reshape", "opset1", [][2]string{{"special_zero", "false"}},
		[]*val{src, shape}, &val{dims: dims, dt: src.dt})
}

func (w *writer) gemm(n *potv1.Node) error {
	ins, err := w.inputs(n, 2)
	if err != nil {
		return err
	}
	a, b := ins[0], ins[1]
	if len(a.dims) != 2 || len(b.dims) != 2 {
		return fmt.Errorf("Gemm of dims %v and %v", a.dims, b.dims)
	}
	ta, tb := graph.AttrInt(n, "transA", 0) == 1, graph.AttrInt(n, "transB", 0) == 1
	alpha, beta := graph.AttrFloat(n, "alpha", 1), graph.AttrFloat(n, "beta", 1)
	m, k := a.dims[0], b.dims[1]
	if ta {
		m = a.dims[1]
	}
	if tb {
		k = b.dims[0]
	}
	out := &val{dims: []int64{m, k}, dt: a.dt}
	attrs := [][2]string{{"transpose_a", strconv.FormatBool(ta)}, {"transpose_b", strconv.FormatBool(tb)}}
	c := w.peek(n, 2)
	steps := 0
	if alpha != 1 {
		steps++
	}
	if c != nil {
		steps++
	}
	if steps == 0 {
		return w.final(n, "MatMul", "opset1", attrs, ins, out)
	}
	y, err := w.mid(n, "MatMul", "MatMul", "opset1", attrs, ins, out)
	if err != nil {
		return err
	}
	if alpha != 1 {
		s, err := w.f32Const(n.GetName()+"/alpha", []int64{}, []float32{alpha})
		if err != nil {
			return err
		}
		res := &val{dims: out.dims, dt: out.dt}
		if c == nil {
			return w.final(n, "Multiply", "opset1", [][2]string{numpy}, []*val{y, s}, res)
		}
		if y, err = w.mid(n, "alpha", "Multiply", "opset1", [][2]string{numpy}, []*val{y, s}, res); err != nil {
			return err
		}
	}
	cv, err := w.in(n, 2)
	if err != nil {
		return err
	}
	if beta != 1 {
		s, err := w.f32Const(n.GetName()+"/beta", []int64{}, []float32{beta})
		if err != nil {
			return err
		}
		if cv, err = w.mid(n, "beta", "Multiply", "opset1", [][2]string{numpy}, []*val{cv, s}, &val{dims: cv.dims, dt: cv.dt}); err != nil {
			return err
		}
	}
	return w.final(n, "Add", "opset1", [][2]string{numpy}, []*val{y, cv}, &val{dims: broadcast(out.dims, cv.dims), dt: out.dt})
}

func (w *writer) matmul(n *potv1.Node) error {
	ins, err := w.inputs(n, 2)
	if err != nil {
		return err
	}
	a, b := ins[0], ins[1]
	var dims []int64
	switch {
	case len(a.dims) == 0 || len(b.dims) == 0:
		return fmt.Errorf("MatMul of a scalar")
	case len(a.dims) == 1 && len(b.dims) == 1:
		dims = []int64{}
	case len(a.dims) == 1:
		dims = append(append([]int64{}, b.dims[:len(b.dims)-2]...), b.dims[len(b.dims)-1])
	case len(b.dims) == 1:
		dims = append([]int64{}, a.dims[:len(a.dims)-1]...)
	default:
		batch := broadcast(a.dims[:len(a.dims)-2], b.dims[:len(b.dims)-2])
		dims = append(batch, a.dims[len(a.dims)-2], b.dims[len(b.dims)-1])
	}
	return w.final(n, "MatMul", "opset1", [][2]string{{"transpose_a", "false"}, {"transpose_b", "false"}}, ins, &val{dims: dims, dt: a.dt})
}

func roundingType(ceil bool) string {
	if ceil {
		return "ceil"
	}
	return "floor"
}

func (w *writer) pool(n *potv1.Node) error {
	x, err := w.in(n, 0)
	if err != nil {
		return err
	}
	if len(n.GetOutputs()) > 1 && n.GetOutputs()[1] != "" {
		return fmt.Errorf("MaxPool indices are not written")
	}
	kernel := graph.AttrInts(n, "kernel_shape", nil)
	if len(kernel) == 0 || len(x.dims) != len(kernel)+2 {
		return fmt.Errorf("kernel %v for input dims %v", kernel, x.dims)
	}
	ceil := graph.AttrInt(n, "ceil_mode", 0) == 1
	strides, dil, pb, pe, sp := window(n, x.dims, kernel, ceil)
	out := &val{dims: append([]int64{x.dims[0], x.dims[1]}, sp...), dt: x.dt}
	attrs := [][2]string{{"strides", joinInts(strides)}}
	if n.GetOpType() == "AveragePool" {
		if !slices.Equal(dil, ones(len(kernel))) {
			return fmt.Errorf("dilated AveragePool")
		}
		attrs = append(attrs, [2]string{"pads_begin", joinInts(pb)}, [2]string{"pads_end", joinInts(pe)},
			[2]string{"kernel", joinInts(kernel)},
			[2]string{"exclude-pad", strconv.FormatBool(graph.AttrInt(n, "count_include_pad", 0) == 0)},
			[2]string{"rounding_type", roundingType(ceil)}, [2]string{"auto_pad", onnxAutoPad(n)})
		return w.final(n, "AvgPool", "opset1", attrs, []*val{x}, out)
	}
	if slices.Equal(dil, ones(len(kernel))) {
		attrs = append(attrs, [2]string{"pads_begin", joinInts(pb)}, [2]string{"pads_end", joinInts(pe)},
			[2]string{"kernel", joinInts(kernel)}, [2]string{"rounding_type", roundingType(ceil)}, [2]string{"auto_pad", onnxAutoPad(n)})
		return w.final(n, "MaxPool", "opset1", attrs, []*val{x}, out)
	}
	// MaxPool-8 takes dilations; its second output (the indices) is left
	// unconnected.
	attrs = append(attrs, [2]string{"dilations", joinInts(dil)}, [2]string{"pads_begin", joinInts(pb)},
		[2]string{"pads_end", joinInts(pe)}, [2]string{"kernel", joinInts(kernel)},
		[2]string{"rounding_type", roundingType(ceil)}, [2]string{"auto_pad", onnxAutoPad(n)},
		[2]string{"index_element_type", "i64"}, [2]string{"axis", "0"})
	_, err = w.emit(n.GetName(), "MaxPool", "opset8", attrs, []*val{x},
		[]*val{out, {dims: out.dims, dt: potv1.DataType_DATA_TYPE_INT64}}, []string{n.GetOutputs()[0], ""})
	return err
}

func (w *writer) globalPool(n *potv1.Node) error {
	x, err := w.in(n, 0)
	if err != nil {
		return err
	}
	if len(x.dims) < 3 {
		return fmt.Errorf("input dims %v", x.dims)
	}
	var axes []int64
	dims := []int64{x.dims[0], x.dims[1]}
	for i := 2; i < len(x.dims); i++ {
		axes = append(axes, int64(i))
		dims = append(dims, 1)
	}
	av, err := w.i64Const(n.GetName()+"/axes", []int64{int64(len(axes))}, axes)
	if err != nil {
		return err
	}
	typ := "ReduceMean"
	if n.GetOpType() == "GlobalMaxPool" {
		typ = "ReduceMax"
	}
	return w.final(n, typ, "opset1", [][2]string{{"keep_dims", "true"}}, []*val{x, av}, &val{dims: dims, dt: x.dt})
}

func (w *writer) flatten(n *potv1.Node) error {
	x, err := w.in(n, 0)
	if err != nil {
		return err
	}
	axis := normAxis(graph.AttrInt(n, "axis", 1), len(x.dims))
	if axis < 0 || axis > int64(len(x.dims)) {
		return fmt.Errorf("axis %d of dims %v", axis, x.dims)
	}
	lead, rest := int64(1), int64(1)
	for i, d := range x.dims {
		switch {
		case int64(i) < axis && (d < 0 || lead < 0):
			lead = -1
		case int64(i) < axis:
			lead *= d
		case d < 0 || rest < 0:
			rest = -1
		default:
			rest *= d
		}
	}
	var shape []int64
	switch {
	case axis == 1:
		shape = []int64{0, -1} // 0 copies the batch, dynamic or not
	case lead >= 0:
		shape = []int64{lead, -1}
	case rest >= 0:
		shape = []int64{-1, rest}
	default:
		return fmt.Errorf("Flatten at axis %d of dims %v with dynamic dims on both sides", axis, x.dims)
	}
	sv, err := w.i64Const(n.GetName()+"/shape", []int64{2}, shape)
	if err != nil {
		return err
	}
	return w.final(n, "Reshape", "opset1", [][2]string{{"special_zero", "true"}}, []*val{x, sv},
		&val{dims: []int64{lead, rest}, dt: x.dt, parts: x.parts})
}

func (w *writer) reshape(n *potv1.Node) error {
	ins, err := w.inputs(n, 2)
	if err != nil {
		return err
	}
	x, s := ins[0], ins[1]
	if len(s.dims) != 1 || s.dims[0] < 0 {
		return fmt.Errorf("shape of dims %v", s.dims)
	}
	parts := s.parts
	if parts == nil {
		parts = make([]int64, s.dims[0])
		for i := range parts {
			parts[i] = unk
		}
	}
	allowZero := graph.AttrInt(n, "allowzero", 0) == 1
	return w.final(n, "Reshape", "opset1", [][2]string{{"special_zero", strconv.FormatBool(!allowZero)}}, ins,
		&val{dims: reshapeDims(x.dims, parts, allowZero), dt: x.dt, parts: x.parts})
}

func (w *writer) transpose(n *potv1.Node) error {
	x, err := w.in(n, 0)
	if err != nil {
		return err
	}
	r := len(x.dims)
	perm := graph.AttrInts(n, "perm", nil)
	if perm == nil {
		for i := r - 1; i >= 0; i-- {
			perm = append(perm, int64(i))
		}
	}
	if len(perm) != r {
		return fmt.Errorf("perm %v of dims %v", perm, x.dims)
	}
	dims := make([]int64, r)
	for i, p := range perm {
		if p < 0 || p >= int64(r) {
			return fmt.Errorf("perm %v", perm)
		}
		dims[i] = x.dims[p]
	}
	order, err := w.i64Const(n.GetName()+"/order", []int64{int64(r)}, perm)
	if err != nil {
		return err
	}
	return w.final(n, "Transpose", "opset1", nil, []*val{x, order}, &val{dims: dims, dt: x.dt})
}

func (w *writer) softmax(n *potv1.Node) error {
	x, err := w.in(n, 0)
	if err != nil {
		return err
	}
	axis := graph.AttrInt(n, "axis", -1)
	return w.final(n, "SoftMax", "opset8", [][2]string{{"axis", strconv.FormatInt(axis, 10)}}, []*val{x}, &val{dims: x.dims, dt: x.dt})
}

func (w *writer) concat(n *potv1.Node) error {
	ins, err := w.inputs(n, len(n.GetInputs()))
	if err != nil {
		return err
	}
	r := len(ins[0].dims)
	axis := normAxis(graph.AttrInt(n, "axis", 0), r)
	if axis < 0 || axis >= int64(r) {
		return fmt.Errorf("axis %d of rank %d", axis, r)
	}
	dims := append([]int64{}, ins[0].dims...)
	dims[axis] = 0
	var parts []int64
	for _, v := range ins {
		if len(v.dims) != r {
			return fmt.Errorf("inputs of ranks %d and %d", r, len(v.dims))
		}
		for i, d := range v.dims {
			switch {
			case int64(i) == axis && (d < 0 || dims[axis] < 0):
				dims[axis] = -1
			case int64(i) == axis:
				dims[axis] += d
			case dims[i] < 0:
				dims[i] = d
			}
		}
		if r == 1 && v.parts == nil && v.dims[0] >= 0 {
			for k := int64(0); k < v.dims[0]; k++ {
				parts = append(parts, unk)
			}
		} else {
			parts = append(parts, v.parts...)
		}
	}
	out := &val{dims: dims, dt: ins[0].dt}
	if r == 1 && int64(len(parts)) == dims[0] {
		out.parts = parts
	}
	return w.final(n, "Concat", "opset1", [][2]string{{"axis", strconv.FormatInt(axis, 10)}}, ins, out)
}

func (w *writer) reduce(n *potv1.Node) error {
	x, err := w.in(n, 0)
	if err != nil {
		return err
	}
	r := len(x.dims)
	var axes []int64
	if n.GetOpType() == "ReduceSum" {
		if t := w.konst(n, 1); t != nil {
			axes = intValues(t)
		} else if w.peek(n, 1) != nil {
			return fmt.Errorf("axes are not constant")
		}
	} else {
		axes = graph.AttrInts(n, "axes", nil)
	}
	if len(axes) == 0 {
		if graph.AttrInt(n, "noop_with_empty_axes", 0) == 1 {
			return fmt.Errorf("noop_with_empty_axes")
		}
		for i := 0; i < r; i++ {
			axes = append(axes, int64(i))
		}
	}
	keep := graph.AttrInt(n, "keepdims", 1) == 1
	red := map[int64]bool{}
	for _, a := range axes {
		a = normAxis(a, r)
		if a < 0 || a >= int64(r) {
			return fmt.Errorf("axis %d of rank %d", a, r)
		}
		red[a] = true
	}
	var dims []int64
	for i, d := range x.dims {
		switch {
		case !red[int64(i)]:
			dims = append(dims, d)
		case keep:
			dims = append(dims, 1)
		}
	}
	if dims == nil {
		dims = []int64{}
	}
	av, err := w.i64Const(n.GetName()+"/axes", []int64{int64(len(axes))}, axes)
	if err != nil {
		return err
	}
	return w.final(n, n.GetOpType(), "opset1", [][2]string{{"keep_dims", strconv.FormatBool(keep)}}, []*val{x, av}, &val{dims: dims, dt: x.dt})
}

func (w *writer) gather(n *potv1.Node) error {
	ins, err := w.inputs(n, 2)
	if err != nil {
		return err
	}
	x, idx := ins[0], ins[1]
	axis := normAxis(graph.AttrInt(n, "axis", 0), len(x.dims))
	if axis < 0 || axis >= int64(len(x.dims)) {
		return fmt.Errorf("axis %d of dims %v", axis, x.dims)
	}
	dims := append(append(append([]int64{}, x.dims[:axis]...), idx.dims...), x.dims[axis+1:]...)
	out := &val{dims: dims, dt: x.dt}
	if len(x.dims) == 1 && x.parts != nil && idx.parts != nil {
		for _, i := range idx.parts {
			if i < 0 && i != unk {
				i += int64(len(x.parts))
			}
			if i == unk || i < 0 || i >= int64(len(x.parts)) {
				out.parts = append(out.parts, unk)
			} else {
				out.parts = append(out.parts, x.parts[i])
			}
		}
	}
	av, err := w.i64Const(n.GetName()+"/axis", []int64{}, []int64{axis})
	if err != nil {
		return err
	}
	return w.final(n, "Gather", "opset8", [][2]string{{"batch_dims", "0"}}, []*val{x, idx, av}, out)
}

func (w *writer) shapeOf(n *potv1.Node) error {
	x, err := w.in(n, 0)
	if err != nil {
		return err
	}
	if graph.HasAttr(n, "start") || graph.HasAttr(n, "end") {
		return fmt.Errorf("Shape with start or end")
	}
	parts := make([]int64, len(x.dims))
	for i, d := range x.dims {
		parts[i] = d
		if d < 0 {
			parts[i] = unk
		}
	}
	return w.final(n, "ShapeOf", "opset3", [][2]string{{"output_type", "i64"}}, []*val{x},
		&val{dims: []int64{int64(len(x.dims))}, dt: potv1.DataType_DATA_TYPE_INT64, parts: parts})
}

// axesInput returns the constant axes of input i (opset 13's Unsqueeze,
// Squeeze, ReduceSum).
func (w *writer) axesInput(n *potv1.Node, i int) ([]int64, error) {
	t := w.konst(n, i)
	if t == nil {
		return nil, fmt.Errorf("axes are not constant")
	}
	a := intValues(t)
	if a == nil {
		return nil, fmt.Errorf("axes of type %v", t.GetDtype())
	}
	return a, nil
}

func (w *writer) unsqueeze(n *potv1.Node) error {
	ins, err := w.inputs(n, 2)
	if err != nil {
		return err
	}
	x := ins[0]
	axes, err := w.axesInput(n, 1)
	if err != nil {
		return err
	}
	r := len(x.dims) + len(axes)
	add := map[int64]bool{}
	for _, a := range axes {
		add[normAxis(a, r)] = true
	}
	var dims []int64
	k := 0
	for i := 0; i < r; i++ {
		if add[int64(i)] {
			dims = append(dims, 1)
		} else if k < len(x.dims) {
			dims = append(dims, x.dims[k])
			k++
		}
	}
	if len(dims) != r {
		return fmt.Errorf("axes %v of dims %v", axes, x.dims)
	}
	return w.final(n, "Unsqueeze", "opset1", nil, ins, &val{dims: dims, dt: x.dt, parts: x.parts})
}

func (w *writer) squeeze(n *potv1.Node) error {
	x, err := w.in(n, 0)
	if err != nil {
		return err
	}
	ins := []*val{x}
	drop := map[int64]bool{}
	if w.peek(n, 1) != nil {
		axes, err := w.axesInput(n, 1)
		if err != nil {
			return err
		}
		for _, a := range axes {
			drop[normAxis(a, len(x.dims))] = true
		}
		av, err := w.in(n, 1)
		if err != nil {
			return err
		}
		ins = append(ins, av)
	} else {
		for i, d := range x.dims {
			if d < 0 {
				return fmt.Errorf("Squeeze without axes of dynamic dims %v", x.dims)
			}
			drop[int64(i)] = d == 1
		}
	}
	dims := []int64{}
	for i, d := range x.dims {
		if !drop[int64(i)] {
			dims = append(dims, d)
		}
	}
	return w.final(n, "Squeeze", "opset1", nil, ins, &val{dims: dims, dt: x.dt, parts: x.parts})
}

func (w *writer) slice(n *potv1.Node) error {
	ins, err := w.inputs(n, 3)
	if err != nil {
		return err
	}
	x, starts, ends := ins[0], ins[1], ins[2]
	if len(starts.dims) != 1 || starts.dims[0] < 0 {
		return fmt.Errorf("starts of dims %v", starts.dims)
	}
	k := int(starts.dims[0])
	var axes, steps *val
	if w.peek(n, 3) != nil {
		if axes, err = w.in(n, 3); err != nil {
			return err
		}
	}
	if w.peek(n, 4) != nil {
		if steps, err = w.in(n, 4); err != nil {
			return err
		}
	} else {
		one := ones(k)
		if steps, err = w.newConstOfType(n.GetName()+"/steps", starts.dt, one); err != nil {
			return err
		}
	}
	// The output dims, as far as the slice bounds are known.
	dims := append([]int64{}, x.dims...)
	axv := make([]int64, k)
	for i := range axv {
		axv[i] = int64(i)
	}
	if axes != nil {
		axv = axes.parts
	}
	known := axv != nil && len(axv) == k
	for i := 0; i < k && known; i++ {
		a := axv[i]
		if a == unk {
			known = false
			break
		}
		a = normAxis(a, len(x.dims))
		if a < 0 || a >= int64(len(x.dims)) {
			return fmt.Errorf("axis %d of dims %v", a, x.dims)
		}
		get := func(v *val) int64 {
			if v.parts == nil || i >= len(v.parts) {
				return unk
			}
			return v.parts[i]
		}
		dims[a] = sliceDim(x.dims[a], get(starts), get(ends), get(steps))
	}
	if !known {
		for i := range dims {
			dims[i] = -1
		}
	}
	out := &val{dims: dims, dt: x.dt}
	if len(x.dims) == 1 && x.parts != nil && k == 1 && dims[0] >= 0 && starts.parts != nil && steps.parts != nil && steps.parts[0] == 1 {
		s := starts.parts[0]
		if s < 0 {
			s += int64(len(x.parts))
		}
		s = max(0, min(s, int64(len(x.parts))))
		if s+dims[0] <= int64(len(x.parts)) {
			out.parts = append([]int64{}, x.parts[s:s+dims[0]]...)
		}
	}
	sl := []*val{x, starts, ends, steps}
	if axes != nil {
		sl = append(sl, axes)
	}
	return w.final(n, "Slice", "opset8", nil, sl, out)
}

// newConstOfType writes an integer constant of type dt (int32 or int64).
func (w *writer) newConstOfType(name string, dt potv1.DataType, v []int64) (*val, error) {
	if dt == potv1.DataType_DATA_TYPE_INT32 {
		b := make([]byte, 4*len(v))
		for i, x := range v {
			u := uint32(int32(x))
			b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
		}
		c, err := w.newConst(name, dt, []int64{int64(len(v))}, b)
		if c != nil {
			c.parts = v
		}
		return c, err
	}
	return w.i64Const(name, []int64{int64(len(v))}, v)
}

func (w *writer) cast(n *potv1.Node) error {
	x, err := w.in(n, 0)
	if err != nil {
		return err
	}
	to := potv1.DataType(graph.AttrInt(n, "to", 0))
	et, err := ElementType(to)
	if err != nil {
		return err
	}
	out := &val{dims: x.dims, dt: to}
	if to == potv1.DataType_DATA_TYPE_INT64 || to == potv1.DataType_DATA_TYPE_INT32 {
		out.parts = x.parts
	}
	return w.final(n, "Convert", "opset1", [][2]string{{"destination_type", et}}, []*val{x}, out)
}

func (w *writer) split(n *potv1.Node) error {
	x, err := w.in(n, 0)
	if err != nil {
		return err
	}
	axis := normAxis(graph.AttrInt(n, "axis", 0), len(x.dims))
	if axis < 0 || axis >= int64(len(x.dims)) {
		return fmt.Errorf("axis %d of dims %v", axis, x.dims)
	}
	k := len(n.GetOutputs())
	av, err := w.i64Const(n.GetName()+"/axis", []int64{}, []int64{axis})
	if err != nil {
		return err
	}
	var sizes []int64
	ins := []*val{x, av}
	typ, attrs := "Split", [][2]string{{"num_splits", strconv.Itoa(k)}}
	if w.peek(n, 1) != nil {
		t := w.konst(n, 1)
		if t == nil {
			return fmt.Errorf("split sizes are not constant")
		}
		sizes = intValues(t)
		sv, err := w.in(n, 1)
		if err != nil {
			return err
		}
		typ, attrs = "VariadicSplit", nil
		ins = append(ins, sv)
	} else {
		for i := 0; i < k; i++ {
			s := int64(-1)
			if d := x.dims[axis]; d >= 0 {
				s = d / int64(k)
			}
			sizes = append(sizes, s)
		}
	}
	if len(sizes) != k {
		return fmt.Errorf("%d split sizes for %d outputs", len(sizes), k)
	}
	outs := make([]*val, k)
	for i := range outs {
		d := append([]int64{}, x.dims...)
		d[axis] = sizes[i]
		outs[i] = &val{dims: d, dt: x.dt}
	}
	_, err = w.emit(n.GetName(), typ, "opset1", attrs, ins, outs, n.GetOutputs())
	return err
}

func (w *writer) layerNorm(n *potv1.Node) error {
	x, err := w.in(n, 0)
	if err != nil {
		return err
	}
	if len(n.GetOutputs()) > 1 {
		for _, o := range n.GetOutputs()[1:] {
			if o != "" {
				return fmt.Errorf("LayerNormalization mean and inverse deviation outputs are not written")
			}
		}
	}
	axis := normAxis(graph.AttrInt(n, "axis", -1), len(x.dims))
	var axes []int64
	for a := axis; a < int64(len(x.dims)); a++ {
		axes = append(axes, a)
	}
	av, err := w.i64Const(n.GetName()+"/axes", []int64{int64(len(axes))}, axes)
	if err != nil {
		return err
	}
	eps := graph.AttrFloat(n, "epsilon", 1e-5)
	y, err := w.mid(n, "MVN", "MVN", "opset6", [][2]string{{"eps", formatFloat(eps)}, {"normalize_variance", "true"}, {"eps_mode", "inside_sqrt"}},
		[]*val{x, av}, &val{dims: x.dims, dt: x.dt})
	if err != nil {
		return err
	}
	scale, err := w.in(n, 1)
	if err != nil {
		return err
	}
	if w.peek(n, 2) == nil {
		return w.final(n, "Multiply", "opset1", [][2]string{numpy}, []*val{y, scale}, &val{dims: x.dims, dt: x.dt})
	}
	if y, err = w.mid(n, "scale", "Multiply", "opset1", [][2]string{numpy}, []*val{y, scale}, &val{dims: x.dims, dt: x.dt}); err != nil {
		return err
	}
	b, err := w.in(n, 2)
	if err != nil {
		return err
	}
	return w.final(n, "Add", "opset1", [][2]string{numpy}, []*val{y, b}, &val{dims: x.dims, dt: x.dt})
}

func (w *writer) batchNorm(n *potv1.Node) error {
	if graph.AttrInt(n, "training_mode", 0) != 0 {
		return fmt.Errorf("training mode")
	}
	ins, err := w.inputs(n, 5)
	if err != nil {
		return err
	}
	for _, o := range n.GetOutputs()[1:] {
		if o != "" {
			return fmt.Errorf("running statistics outputs are not written")
		}
	}
	return w.final(n, "BatchNormInference", "opset5", [][2]string{{"epsilon", formatFloat(graph.AttrFloat(n, "epsilon", 1e-5))}},
		ins, &val{dims: ins[0].dims, dt: ins[0].dt})
}

// formatFloat writes a float attribute: the shortest decimal that reads
// back as the same float32.
func formatFloat(f float32) string {
	return strconv.FormatFloat(float64(f), 'g', -1, 32)
}

// scalar returns the single float value of constant input i of n.
func (w *writer) scalar(n *potv1.Node, i int) (float32, bool, error) {
	v := w.peek(n, i)
	if v == nil {
		return 0, false, nil
	}
	if v.konst == nil {
		return 0, false, fmt.Errorf("input %d is not constant", i)
	}
	f, err := graph.Float32s(v.konst)
	if err != nil || len(f) != 1 {
		return 0, false, fmt.Errorf("input %d is not one float32", i)
	}
	return f[0], true, nil
}

// clip writes Clip with constant bounds as Clamp, and with a bound that
// is computed (a decibel floor below the maximum, say) as Maximum and
// Minimum, which OpenVINO broadcasts as numpy.
func (w *writer) clip(n *potv1.Node) error {
	x, err := w.in(n, 0)
	if err != nil {
		return err
	}
	if w.computed(n, 1) || w.computed(n, 2) {
		return w.clipComputed(n, x)
	}
	lo, hasLo, err := w.scalar(n, 1)
	if err != nil {
		return err
	}
	hi, hasHi, err := w.scalar(n, 2)
	if err != nil {
		return err
	}
	if !hasLo {
		lo = -math.MaxFloat32
	}
	if !hasHi {
		hi = math.MaxFloat32
	}
	return w.final(n, "Clamp", "opset1", [][2]string{{"min", formatFloat(lo)}, {"max", formatFloat(hi)}}, []*val{x}, &val{dims: x.dims, dt: x.dt})
}

// computed tells whether input i of n is given and not a constant.
func (w *writer) computed(n *potv1.Node, i int) bool {
	v := w.peek(n, i)
	return v != nil && v.konst == nil
}

// infinite tells whether t is a constant scalar ±Inf: a bound that
// bounds nothing.
func infinite(t *potv1.Tensor) bool {
	if t == nil {
		return false
	}
	f, err := graph.Float32s(t)
	return err == nil && len(f) == 1 && math.IsInf(float64(f[0]), 0)
}

// clipComputed writes Clip as Maximum with the lower bound, then Minimum
// with the upper one (each only when given).
func (w *writer) clipComputed(n *potv1.Node, x *val) error {
	var lo, hi *val
	for i, b := range []**val{&lo, &hi} {
		if p := w.peek(n, i+1); p == nil || infinite(p.konst) {
			continue // no bound
		}
		v, err := w.in(n, i+1)
		if err != nil {
			return err
		}
		*b = v
	}
	out := &val{dims: x.dims, dt: x.dt}
	if lo == nil && hi == nil {
		return fmt.Errorf("Clip with no finite bound is not written")
	}
	if lo != nil {
		if hi == nil {
			return w.final(n, "Maximum", "opset1", [][2]string{numpy}, []*val{x, lo}, out)
		}
		var err error
		if x, err = w.mid(n, "min", "Maximum", "opset1", [][2]string{numpy}, []*val{x, lo}, out); err != nil {
			return err
		}
	}
	return w.final(n, "Minimum", "opset1", [][2]string{numpy}, []*val{x, hi}, &val{dims: x.dims, dt: x.dt})
}

func (w *writer) hardSigmoid(n *potv1.Node) error {
	x, err := w.in(n, 0)
	if err != nil {
		return err
	}
	alpha, beta := graph.AttrFloat(n, "alpha", 0.2), graph.AttrFloat(n, "beta", 0.5)
	out := &val{dims: x.dims, dt: x.dt}
	if alpha == float32(1.0/6) && beta == 0.5 {
		return w.final(n, "HSigmoid", "opset5", nil, []*val{x}, out)
	}
	a, err := w.f32Const(n.GetName()+"/alpha", []int64{}, []float32{alpha})
	if err != nil {
		return err
	}
	b, err := w.f32Const(n.GetName()+"/beta", []int64{}, []float32{beta})
	if err != nil {
		return err
	}
	return w.final(n, "HardSigmoid", "opset1", nil, []*val{x, a, b}, out)
}

func (w *writer) leakyRelu(n *potv1.Node) error {
	x, err := w.in(n, 0)
	if err != nil {
		return err
	}
	s, err := w.f32Const(n.GetName()+"/slope", []int64{1}, []float32{graph.AttrFloat(n, "alpha", 0.01)})
	if err != nil {
		return err
	}
	return w.final(n, "PRelu", "opset1", nil, []*val{x, s}, &val{dims: x.dims, dt: x.dt})
}

func (w *writer) prelu(n *potv1.Node) error {
	ins, err := w.inputs(n, 2)
	if err != nil {
		return err
	}
	return w.final(n, "PRelu", "opset1", nil, ins, &val{dims: ins[0].dims, dt: ins[0].dt})
}

func (w *writer) elu(n *potv1.Node) error {
	x, err := w.in(n, 0)
	if err != nil {
		return err
	}
	return w.final(n, "Elu", "opset1", [][2]string{{"alpha", formatFloat(graph.AttrFloat(n, "alpha", 1))}}, []*val{x}, &val{dims: x.dims, dt: x.dt})
}

// shapeDims are the dims a shape input gives, as far as they are known.
func shapeDims(s *val) ([]int64, error) {
	if len(s.dims) != 1 || s.dims[0] < 0 {
		return nil, fmt.Errorf("shape of dims %v", s.dims)
	}
	if s.parts == nil {
		d := make([]int64, s.dims[0])
		for i := range d {
			d[i] = -1
		}
		return d, nil
	}
	return dimsFromParts(s.parts), nil
}

func (w *writer) constantOfShape(n *potv1.Node) error {
	s, err := w.in(n, 0)
	if err != nil {
		return err
	}
	value := graph.FloatTensor("", []int64{}, []float32{0})
	if a := graph.Attr(n, "value"); a != nil && a.GetT() != nil {
		value = a.GetT()
	}
	dims, err := shapeDims(s)
	if err != nil {
		return err
	}
	c, err := w.newConst(n.GetName()+"/value", value.GetDtype(), []int64{}, value.GetData())
	if err != nil {
		return err
	}
	out := &val{dims: dims, dt: value.GetDtype()}
	if iv := intValues(value); iv != nil && len(dims) == 1 && dims[0] >= 0 && dims[0] <= 64 {
		out.parts = slices.Repeat(iv[:1], int(dims[0]))
	}
	return w.final(n, "Broadcast", "opset3", [][2]string{{"mode", "numpy"}}, []*val{c, s}, out)
}

func (w *writer) expand(n *potv1.Node) error {
	ins, err := w.inputs(n, 2)
	if err != nil {
		return err
	}
	dims, err := shapeDims(ins[1])
	if err != nil {
		return err
	}
	return w.final(n, "Broadcast", "opset3", [][2]string{{"mode", "bidirectional"}}, ins, &val{dims: broadcast(ins[0].dims, dims), dt: ins[0].dt})
}

func (w *writer) tile(n *potv1.Node) error {
	ins, err := w.inputs(n, 2)
	if err != nil {
		return err
	}
	x, r := ins[0], ins[1]
	dims := make([]int64, len(x.dims))
	for i, d := range x.dims {
		dims[i] = -1
		if r.parts != nil && i < len(r.parts) && r.parts[i] != unk && d >= 0 {
			dims[i] = d * r.parts[i]
		}
	}
	return w.final(n, "Tile", "opset1", nil, ins, &val{dims: dims, dt: x.dt})
}

func (w *writer) where(n *potv1.Node) error {
	ins, err := w.inputs(n, 3)
	if err != nil {
		return err
	}
	c, a, b := ins[0], ins[1], ins[2]
	out := &val{dims: broadcast(broadcast(c.dims, a.dims), b.dims), dt: a.dt}
	if c.parts != nil && a.parts != nil && b.parts != nil {
		k := max(len(c.parts), len(a.parts), len(b.parts))
		if ok := func(p []int64) bool { return len(p) == 1 || len(p) == k }; ok(c.parts) && ok(a.parts) && ok(b.parts) {
			out.parts = make([]int64, k)
			for i := range out.parts {
				cv, av, bv := c.parts[min(i, len(c.parts)-1)], a.parts[min(i, len(a.parts)-1)], b.parts[min(i, len(b.parts)-1)]
				switch {
				case cv == unk:
					out.parts[i] = unk
				case cv != 0:
					out.parts[i] = av
				default:
					out.parts[i] = bv
				}
			}
		}
	}
	return w.final(n, "Select", "opset1", [][2]string{numpy}, ins, out)
}

func (w *writer) constant(n *potv1.Node) error {
	a := graph.Attr(n, "value")
	if a == nil || a.GetT() == nil {
		return fmt.Errorf("Constant without a tensor value")
	}
	t := a.GetT()
	if t.GetName() != n.GetOutputs()[0] {
		t = &potv1.Tensor{Name: n.GetOutputs()[0], Dtype: t.GetDtype(), Dims: t.GetDims(), Data: t.GetData(), StringData: t.GetStringData()}
	}
	w.vals[n.GetOutputs()[0]] = constVal(t)
	return nil
}

// identity writes no layer: the output is the input, whose port gets the
// output's name too.
func (w *writer) identity(n *potv1.Node) error {
	x, err := w.in(n, 0)
	if err != nil {
		return err
	}
	o := n.GetOutputs()[0]
	p := &x.layer.Output[x.port-len(x.layer.Input)]
	if p.Names == "" {
		p.Names = escapeName(o)
	} else {
		p.Names += "," + escapeName(o)
	}
	w.vals[o] = x
	return nil
}
