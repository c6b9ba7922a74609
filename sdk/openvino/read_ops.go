package openvino

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/potgo/pot/proto/potv1"
	sg "github.com/potgo/pot/sdk/graph"
)

// opsets lists the operation sets of OpenVINO the reader knows (1 to 13).
func opsetNumber(v string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimPrefix(v, "opset"))
	if !strings.HasPrefix(v, "opset") || err != nil || n < 1 || n > 13 {
		return 0, false
	}
	return n, true
}

// mapper maps one layer; since is the first opset of the version it
// reads (a layer of opset n reads as the op's latest version <= n).
type mapper struct {
	since []int
	fn    func(r *reader, l *Layer, version int) error
}

var mappers map[string]mapper

func init() {
	v1 := []int{1}
	unary := func(op string) mapper {
		return mapper{v1, func(r *reader, l *Layer, _ int) error { return r.unary(l, op) }}
	}
	binary := func(op string) mapper {
		return mapper{v1, func(r *reader, l *Layer, _ int) error { return r.binary(l, op) }}
	}
	mappers = map[string]mapper{
		"Parameter":          {v1, (*reader).parameter},
		"Result":             {v1, (*reader).result},
		"Const":              {v1, func(*reader, *Layer, int) error { return nil }},
		"Convolution":        {v1, (*reader).convolution},
		"GroupConvolution":   {v1, (*reader).convolution},
		"MatMul":             {v1, (*reader).matmul},
		"Add":                binary("Add"),
		"Subtract":           binary("Sub"),
		"Multiply":           binary("Mul"),
		"Divide":             binary("Div"),
		"Power":              binary("Pow"),
		"Maximum":            binary("Max"),
		"Minimum":            binary("Min"),
		"SquaredDifference":  binary("SquaredDifference"),
		"ReLU":               unary("Relu"),
		"Relu":               unary("Relu"), // the type OpenVINO writes
		"Sigmoid":            unary("Sigmoid"),
		"Tanh":               unary("Tanh"),
		"Exp":                unary("Exp"),
		"Sqrt":               unary("Sqrt"),
		"Erf":                unary("Erf"),
		"Abs":                unary("Abs"),
		"Negative":           unary("Neg"),
		"Floor":              unary("Floor"),
		"Ceiling":            unary("Ceil"),
		"Log":                unary("Log"),
		"SoftPlus":           {[]int{4}, func(r *reader, l *Layer, _ int) error { return r.unary(l, "Softplus") }},
		"Elu":                {v1, (*reader).elu},
		"Clamp":              {v1, (*reader).clamp},
		"PRelu":              {v1, (*reader).prelu},
		"HSwish":             {[]int{4}, (*reader).hswish},
		"HSigmoid":           {[]int{5}, (*reader).hsigmoid},
		"Swish":              {[]int{4}, (*reader).swish},
		"Mish":               {[]int{4}, (*reader).mish},
		"Gelu":               {[]int{2, 7}, (*reader).gelu},
		"MaxPool":            {[]int{1, 8}, (*reader).pool},
		"AvgPool":            {v1, (*reader).pool},
		"Concat":             {v1, (*reader).concat},
		"Reshape":            {v1, (*reader).reshape},
		"Transpose":          {v1, (*reader).transpose},
		"SoftMax":            {[]int{1, 8}, (*reader).softmax}, // OpenVINO's spelling
		"Softmax":            {[]int{1, 8}, (*reader).softmax},
		"Slice":              {[]int{8}, (*reader).slice},
		"Broadcast":          {[]int{1, 3}, (*reader).broadcast},
		"Select":             {v1, (*reader).selectLayer},
		"Equal":              binary("Equal"),
		"Less":               binary("Less"),
		"Greater":            binary("Greater"),
		"LessEqual":          binary("LessOrEqual"),
		"GreaterEqual":       binary("GreaterOrEqual"),
		"LogicalAnd":         binary("And"),
		"LogicalOr":          binary("Or"),
		"LogicalXor":         binary("Xor"),
		"LogicalNot":         unary("Not"),
		"LogSoftmax":         {[]int{5}, (*reader).softmax},
		"MVN":                {[]int{2, 6}, (*reader).mvn},
		"ReduceMean":         {v1, (*reader).reduce},
		"ReduceSum":          {v1, (*reader).reduce},
		"ReduceMax":          {v1, (*reader).reduce},
		"ReduceMin":          {v1, (*reader).reduce},
		"ReduceProd":         {v1, (*reader).reduce},
		"ReduceL1":           {[]int{4}, (*reader).reduce},
		"ReduceL2":           {[]int{4}, (*reader).reduce},
		"ShapeOf":            {[]int{1, 3}, (*reader).shapeOf},
		"Gather":             {[]int{1, 7, 8}, (*reader).gather},
		"Squeeze":            {v1, (*reader).squeeze},
		"Unsqueeze":          {v1, (*reader).squeeze},
		"StridedSlice":       {v1, (*reader).stridedSlice},
		"Convert":            {v1, (*reader).convert},
		"Split":              {v1, (*reader).split},
		"VariadicSplit":      {v1, (*reader).split},
		"FakeQuantize":       {v1, (*reader).fakeQuantize},
		"BatchNormInference": {[]int{1, 5}, (*reader).batchNorm},
		"Pad":                {v1, (*reader).pad},
	}
}

// unmapped says why the reader refuses layer types it knows but does
// not map; other types get "no ONNX mapping".
var unmapped = map[string]string{
	"If":                "control flow: If's then/else bodies are not read",
	"Loop":              "control flow: Loop's body is not read",
	"TensorIterator":    "control flow: TensorIterator's body is not read",
	"ReadValue":         "state variable: ReadValue/Assign are not read (pot reads stateless graphs)",
	"Assign":            "state variable: ReadValue/Assign are not read (pot reads stateless graphs)",
	"NonMaxSuppression": "not mapped: its selected_scores and valid_outputs outputs and sort_result_descending order have no ONNX counterpart",
	"ReduceLogicalAnd":  "boolean reduction: ONNX opset 13 has none",
	"ReduceLogicalOr":   "boolean reduction: ONNX opset 13 has none",
}

// unmappedReason is the refusal of a layer of a type with no mapper.
func unmappedReason(l *Layer) string {
	why, ok := unmapped[l.Type]
	switch {
	case ok && (l.Type == "ReadValue" || l.Type == "Assign"):
		if v, ok := l.Attr("variable_id"); ok {
			return fmt.Sprintf("state variable %q: ReadValue/Assign are not read (pot reads stateless graphs)", v)
		}
		return why
	case ok:
		return why
	case strings.HasPrefix(l.Type, "ExperimentalDetectron"):
		return "no ONNX mapping for " + l.Type + ": an OpenVINO-only detection operation with no ONNX counterpart"
	}
	return "no ONNX mapping for " + l.Type
}

// mapLayer adds the nodes of one layer.
func (r *reader) mapLayer(l *Layer) error {
	m, ok := mappers[l.Type]
	if !ok {
		return refuse("%s", unmappedReason(l))
	}
	n, ok := opsetNumber(l.Version)
	if !ok {
		return refuse("operation set %q is not one pot reads (opset1 to opset13)", l.Version)
	}
	if n < m.since[0] {
		return refuse("%s is not in %s", l.Type, l.Version)
	}
	version := m.since[0]
	for _, s := range m.since {
		if s <= n {
			version = s
		}
	}
	for i, p := range l.Input {
		if r.in(l, i) == nil {
			return fmt.Errorf("input port %d has no value", p.ID)
		}
	}
	return m.fn(r, l, version)
}

// use returns the tensor name of a value, adding a constant as an
// initializer the first time a node reads it.
func (r *reader) use(v *value) string {
	if v.konst != nil && !r.inits[v.name] {
		r.inits[v.name] = true
		t := v.konst
		if t.Name != v.name {
			t = &potv1.Tensor{Name: v.name, Dtype: t.Dtype, Dims: t.Dims, Data: t.Data}
		}
		r.g.Initializers = append(r.g.Initializers, t)
	}
	return v.name
}

// inName is the tensor name of input i of l.
func (r *reader) inName(l *Layer, i int) string { return r.use(r.in(l, i)) }

// outName is the tensor name of output i of l.
func (r *reader) outName(l *Layer, i int) string { return r.out(l, i).name }

// addConst adds a new initializer named after base.
func (r *reader) addConst(base string, t *potv1.Tensor) string {
	name := r.tensorName(base)
	r.inits[name] = true
	r.g.Initializers = append(r.g.Initializers, &potv1.Tensor{Name: name, Dtype: t.Dtype, Dims: t.Dims, Data: t.Data})
	return name
}

// scalar adds a scalar constant of a float type.
func (r *reader) scalar(base string, dt potv1.DataType, v float64) string {
	if !isFloat(dt) {
		dt = potv1.DataType_DATA_TYPE_FLOAT
	}
	return r.addConst(base, encode("", dt, nil, []float64{v}))
}

// ints64 adds an int64 constant.
func (r *reader) ints64(base string, v []int64) string {
	return r.addConst(base, i64("", []int64{int64(len(v))}, v))
}

// tmp names an intermediate tensor of a decomposition.
func (r *reader) tmp(l *Layer, what string) string { return r.tensorName(l.Name + "/" + what) }

// node adds a node; name is a layer name or a decomposition's name.
func (r *reader) node(name, op string, ins, outs []string, attrs ...*potv1.Attribute) *potv1.Node {
	n := &potv1.Node{Name: name, OpType: op, Inputs: ins, Outputs: outs, Attributes: attrs}
	r.g.Nodes = append(r.g.Nodes, n)
	return n
}

// sub names a helper node of a layer's decomposition.
func (r *reader) sub(l *Layer, what string) string { return r.nodeName(l.Name + "/" + what) }

// constIn returns the constant at input i, or nil.
func (r *reader) constIn(l *Layer, i int) *potv1.Tensor {
	if v := r.in(l, i); v != nil {
		return v.konst
	}
	return nil
}

// constInts returns the integer constant at input i.
func (r *reader) constInts(l *Layer, i int, what string) ([]int64, error) {
	t := r.constIn(l, i)
	if t == nil {
		return nil, refuse("%s (input %d) is not a constant", what, i)
	}
	v, err := ints(t)
	if err != nil {
		return nil, refuse("%s: %v", what, err)
	}
	return v, nil
}

// attrInts parses a list attribute ("1,1", "" for none); def when absent.
func attrInts(l *Layer, name string, def []int64) ([]int64, error) {
	s, ok := l.Attr(name)
	if !ok {
		return def, nil
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return []int64{}, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > maxDims {
		return nil, fmt.Errorf("attribute %s has %d values (at most %d)", name, len(parts), maxDims)
	}
	out := make([]int64, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("attribute %s=%q: %q is not an integer", name, s, p)
		}
		out[i] = v
	}
	return out, nil
}

// attrFloat parses a float attribute; def when absent.
func attrFloat(l *Layer, name string, def float64) (float64, error) {
	s, ok := l.Attr(name)
	if !ok {
		return def, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, fmt.Errorf("attribute %s=%q is not a number", name, s)
	}
	return v, nil
}

// attrBool parses a boolean attribute ("true"/"false", "1"/"0").
func attrBool(l *Layer, name string, def bool) (bool, error) {
	s, ok := l.Attr(name)
	if !ok {
		return def, nil
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("attribute %s=%q is not a boolean", name, s)
}

// dimsProto converts dims to pot's, naming dynamic ones (the first "N",
// the batch; others NAME_dI).
func dimsProto(name string, dims []int64) []*potv1.Dim {
	out := make([]*potv1.Dim, len(dims))
	for i, d := range dims {
		switch {
		case d >= 0:
			out[i] = &potv1.Dim{Value: &potv1.Dim_Size{Size: d}}
		case i == 0:
			out[i] = &potv1.Dim{Value: &potv1.Dim_Param{Param: "N"}}
		default:
			out[i] = &potv1.Dim{Value: &potv1.Dim_Param{Param: fmt.Sprintf("%s_d%d", name, i)}}
		}
	}
	return out
}

func (r *reader) parameter(l *Layer, _ int) error {
	et, ok := l.Attr("element_type")
	v := r.out(l, 0)
	if v == nil {
		return fmt.Errorf("Parameter without an output port")
	}
	dt := v.dtype
	if ok {
		var err error
		if dt, err = DataType(et); err != nil {
			return refuse("%v", err)
		}
	}
	if dt == potv1.DataType_DATA_TYPE_UNDEFINED {
		return refuse("Parameter without an element type")
	}
	dims := v.dims
	if s, ok := l.Attr("shape"); ok {
		if strings.TrimSpace(s) == "..." {
			return refuse("dynamic rank (shape %q) is not read", s)
		}
		d, err := ParseShape(s)
		if err != nil {
			return err
		}
		dims = d
	}
	r.g.Inputs = append(r.g.Inputs, &potv1.ValueInfo{Name: v.name, Dtype: dt, Shape: dimsProto(v.name, dims), HasShape: true})
	return nil
}

func (r *reader) result(l *Layer, _ int) error {
	v := r.in(l, 0)
	if v == nil {
		return fmt.Errorf("Result without an input")
	}
	name := r.use(v)
	taken := v.konst != nil
	for _, in := range r.g.Inputs {
		taken = taken || in.Name == name
	}
	for _, o := range r.g.Outputs {
		taken = taken || o.Name == name
	}
	if taken {
		out := r.tensorName(l.Name)
		r.node(r.nodeName(l.Name), "Identity", []string{name}, []string{out})
		name = out
	}
	dims := v.dims
	if len(l.Input) > 0 {
		if d, err := portDims(l.Input[0]); err == nil && d != nil {
			dims = d
		}
	}
	r.g.Outputs = append(r.g.Outputs, &potv1.ValueInfo{Name: name, Dtype: v.dtype, Shape: dimsProto(name, dims), HasShape: dims != nil})
	return nil
}

func (r *reader) unary(l *Layer, op string) error {
	r.node(l.Name, op, []string{r.inName(l, 0)}, []string{r.outName(l, 0)})
	return nil
}

// broadcastOK checks auto_broadcast of an elementwise layer.
func (r *reader) broadcastOK(l *Layer) error {
	ab, _ := l.Attr("auto_broadcast")
	switch ab {
	case "", "numpy":
		return nil
	case "none":
		a, b := r.in(l, 0), r.in(l, 1)
		if a != nil && b != nil && static(a.dims) && static(b.dims) && slices.Equal(a.dims, b.dims) {
			return nil
		}
		return refuse("auto_broadcast none with inputs of different or unknown shapes")
	}
	return refuse("auto_broadcast %q is not read (numpy, or none with equal shapes)", ab)
}

func (r *reader) binary(l *Layer, op string) error {
	if len(l.Input) != 2 {
		return fmt.Errorf("%d inputs, want 2", len(l.Input))
	}
	if err := r.broadcastOK(l); err != nil {
		return err
	}
	a, b := r.inName(l, 0), r.inName(l, 1)
	if op == "SquaredDifference" {
		d := r.tmp(l, "diff")
		r.node(r.sub(l, "Sub"), "Sub", []string{a, b}, []string{d})
		r.node(l.Name, "Mul", []string{d, d}, []string{r.outName(l, 0)})
		return nil
	}
	r.node(l.Name, op, []string{a, b}, []string{r.outName(l, 0)})
	return nil
}

func (r *reader) elu(l *Layer, _ int) error {
	alpha, err := attrFloat(l, "alpha", 1)
	if err != nil {
		return err
	}
	r.node(l.Name, "Elu", []string{r.inName(l, 0)}, []string{r.outName(l, 0)}, sg.FloatAttr("alpha", float32(alpha)))
	return nil
}

func (r *reader) clamp(l *Layer, _ int) error {
	lo, err := attrFloat(l, "min", math.Inf(-1))
	if err != nil {
		return err
	}
	hi, err := attrFloat(l, "max", math.Inf(1))
	if err != nil {
		return err
	}
	dt := r.in(l, 0).dtype
	if !isFloat(dt) {
		return refuse("Clamp of %v is not read (floating-point inputs only)", dt)
	}
	r.node(l.Name, "Clip", []string{r.inName(l, 0), r.scalar(l.Name+"/min", dt, lo), r.scalar(l.Name+"/max", dt, hi)}, []string{r.outName(l, 0)})
	return nil
}

func (r *reader) prelu(l *Layer, _ int) error {
	slope := r.in(l, 1)
	x := r.in(l, 0)
	name := r.use(slope)
	// IR's PRelu applies a 1-D slope of C values along axis 1; ONNX's
	// broadcasts it from the right, so it becomes [C, 1, ...].
	if len(slope.dims) == 1 && slope.dims[0] > 1 && len(x.dims) > 2 {
		if slope.konst == nil {
			return refuse("a per-channel slope that is not a constant")
		}
		dims := append([]int64{slope.dims[0]}, make([]int64, len(x.dims)-2)...)
		for i := 1; i < len(dims); i++ {
			dims[i] = 1
		}
		t := slope.konst
		name = r.addConst(l.Name+"/slope", &potv1.Tensor{Dtype: t.Dtype, Dims: dims, Data: t.Data})
	}
	r.node(l.Name, "PRelu", []string{r.inName(l, 0), name}, []string{r.outName(l, 0)})
	return nil
}

// hardSigmoid adds HardSigmoid(x) = max(0, min(1, x/6 + 1/2)).
func (r *reader) hardSigmoid(name, x, out string) {
	r.node(name, "HardSigmoid", []string{x}, []string{out}, sg.FloatAttr("alpha", 1.0/6), sg.FloatAttr("beta", 0.5))
}

func (r *reader) hsigmoid(l *Layer, _ int) error {
	r.hardSigmoid(l.Name, r.inName(l, 0), r.outName(l, 0))
	return nil
}

// hswish is x·HardSigmoid(x), ONNX's HardSwish (which opset 13 lacks).
func (r *reader) hswish(l *Layer, _ int) error {
	x := r.inName(l, 0)
	s := r.tmp(l, "hsigmoid")
	r.hardSigmoid(r.sub(l, "HardSigmoid"), x, s)
	r.node(l.Name, "Mul", []string{x, s}, []string{r.outName(l, 0)})
	return nil
}

// swish is x·Sigmoid(beta·x).
func (r *reader) swish(l *Layer, _ int) error {
	x := r.inName(l, 0)
	arg := x
	if len(l.Input) > 1 {
		arg = r.tmp(l, "beta_x")
		r.node(r.sub(l, "Mul_beta"), "Mul", []string{x, r.inName(l, 1)}, []string{arg})
	}
	s := r.tmp(l, "sigmoid")
	r.node(r.sub(l, "Sigmoid"), "Sigmoid", []string{arg}, []string{s})
	r.node(l.Name, "Mul", []string{x, s}, []string{r.outName(l, 0)})
	return nil
}

// mish is x·tanh(softplus(x)).
func (r *reader) mish(l *Layer, _ int) error {
	x := r.inName(l, 0)
	sp, th := r.tmp(l, "softplus"), r.tmp(l, "tanh")
	r.node(r.sub(l, "Softplus"), "Softplus", []string{x}, []string{sp})
	r.node(r.sub(l, "Tanh"), "Tanh", []string{sp}, []string{th})
	r.node(l.Name, "Mul", []string{x, th}, []string{r.outName(l, 0)})
	return nil
}

// gelu is 0.5·x·(1 + erf(x/√2)), or with approximation_mode tanh
// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
func (r *reader) gelu(l *Layer, version int) error {
	mode := "erf"
	if version >= 7 {
		if m, ok := l.Attr("approximation_mode"); ok {
			mode = strings.ToLower(m)
		}
	}
	x := r.inName(l, 0)
	dt := r.in(l, 0).dtype
	var inner string
	switch mode {
	case "erf":
		d := r.tmp(l, "scaled")
		r.node(r.sub(l, "Div"), "Div", []string{x, r.scalar(l.Name+"/sqrt2", dt, math.Sqrt2)}, []string{d})
		inner = r.tmp(l, "erf")
		r.node(r.sub(l, "Erf"), "Erf", []string{d}, []string{inner})
	case "tanh":
		x3, c, s, arg := r.tmp(l, "cube"), r.tmp(l, "cubic"), r.tmp(l, "sum"), r.tmp(l, "arg")
		r.node(r.sub(l, "Pow"), "Pow", []string{x, r.scalar(l.Name+"/three", dt, 3)}, []string{x3})
		r.node(r.sub(l, "Mul_c"), "Mul", []string{x3, r.scalar(l.Name+"/c", dt, 0.044715)}, []string{c})
		r.node(r.sub(l, "Add_x"), "Add", []string{x, c}, []string{s})
		r.node(r.sub(l, "Mul_k"), "Mul", []string{s, r.scalar(l.Name+"/k", dt, math.Sqrt(2/math.Pi))}, []string{arg})
		inner = r.tmp(l, "tanh")
		r.node(r.sub(l, "Tanh"), "Tanh", []string{arg}, []string{inner})
	default:
		return refuse("approximation_mode %q (erf or tanh)", mode)
	}
	one, half := r.tmp(l, "one_plus"), r.tmp(l, "half_x")
	r.node(r.sub(l, "Add_one"), "Add", []string{inner, r.scalar(l.Name+"/one", dt, 1)}, []string{one})
	r.node(r.sub(l, "Mul_half"), "Mul", []string{x, r.scalar(l.Name+"/half", dt, 0.5)}, []string{half})
	r.node(l.Name, "Mul", []string{half, one}, []string{r.outName(l, 0)})
	return nil
}

// autoPad maps auto_pad.
func autoPad(l *Layer) (string, error) {
	ap, _ := l.Attr("auto_pad")
	switch strings.ToLower(ap) {
	case "", "explicit", "notset":
		return "NOTSET", nil
	case "valid":
		return "VALID", nil
	case "same_upper":
		return "SAME_UPPER", nil
	case "same_lower":
		return "SAME_LOWER", nil
	}
	return "", refuse("auto_pad %q", ap)
}

// spatialAttrs reads strides, dilations, pads and auto_pad of a
// convolution or pooling over n spatial axes.
func spatialAttrs(l *Layer, n int, dilations bool) ([]*potv1.Attribute, error) {
	ones := make([]int64, n)
	zeros := make([]int64, n)
	for i := range ones {
		ones[i] = 1
	}
	strides, err := attrInts(l, "strides", ones)
	if err != nil {
		return nil, err
	}
	pb, err := attrInts(l, "pads_begin", zeros)
	if err != nil {
		return nil, err
	}
	pe, err := attrInts(l, "pads_end", zeros)
	if err != nil {
		return nil, err
	}
	if len(strides) != n || len(pb) != n || len(pe) != n {
		return nil, fmt.Errorf("strides %v, pads_begin %v, pads_end %v for %d spatial axes", strides, pb, pe, n)
	}
	ap, err := autoPad(l)
	if err != nil {
		return nil, err
	}
	attrs := []*potv1.Attribute{sg.IntsAttr("strides", strides)}
	if dilations {
		d, err := attrInts(l, "dilations", ones)
		if err != nil {
			return nil, err
		}
		if len(d) != n {
			return nil, fmt.Errorf("dilations %v for %d spatial axes", d, n)
		}
		attrs = append(attrs, sg.IntsAttr("dilations", d))
	}
	if ap == "NOTSET" {
		attrs = append(attrs, sg.IntsAttr("pads", append(append([]int64{}, pb...), pe...)))
	} else {
		attrs = append(attrs, sg.StringAttr("auto_pad", ap))
	}
	return attrs, nil
}

// convolution maps Convolution and GroupConvolution to Conv, folding a
// constant per-channel bias Add that follows into Conv's bias.
func (r *reader) convolution(l *Layer, _ int) error {
	if len(l.Input) != 2 {
		return fmt.Errorf("%d inputs, want 2", len(l.Input))
	}
	w := r.in(l, 1)
	wname := ""
	group := int64(1)
	var kdims []int64
	if l.Type == "GroupConvolution" {
		if len(w.dims) < 3 || !static(w.dims) {
			return refuse("weights of shape %v (want static [G, O/G, I/G, k...])", w.dims)
		}
		group = w.dims[0]
		kdims = append([]int64{w.dims[0] * w.dims[1]}, w.dims[2:]...)
		if name, ok := r.dequantized(w, kdims); ok {
			wname = name
		} else if w.konst != nil && len(r.users[r.src[portKey{l.ID, l.Input[1].ID}]]) == 1 && !r.inits[w.name] {
			// The weights' own name (as the ONNX model had it): no other
			// layer reads them in the IR's shape.
			r.inits[w.name] = true
			r.g.Initializers = append(r.g.Initializers, &potv1.Tensor{Name: w.name, Dtype: w.konst.Dtype, Dims: kdims, Data: w.konst.Data})
			wname = w.name
		} else if w.konst != nil {
			wname = r.addConst(w.name, &potv1.Tensor{Dtype: w.konst.Dtype, Dims: kdims, Data: w.konst.Data})
		} else {
			wname = r.tmp(l, "weights")
			r.node(r.sub(l, "Reshape_weights"), "Reshape", []string{r.use(w), r.ints64(l.Name+"/weights_shape", kdims)}, []string{wname})
		}
	} else {
		kdims = w.dims
		wname = r.useWeights(w)
	}
	if len(kdims) < 3 {
		return refuse("weights of rank %d", len(kdims))
	}
	attrs, err := spatialAttrs(l, len(kdims)-2, true)
	if err != nil {
		return err
	}
	if static(kdims[2:]) {
		attrs = append(attrs, sg.IntsAttr("kernel_shape", kdims[2:]))
	}
	if group != 1 {
		attrs = append(attrs, sg.IntAttr("group", group))
	}
	ins := []string{r.inName(l, 0), wname}
	out := r.outName(l, 0)
	name := l.Name
	if add, bias := r.biasAdd(l, kdims[0], len(kdims), false); add != nil {
		ins = append(ins, bias)
		out = r.outName(add, 0)
		name = biasedName(l, add)
	}
	r.node(name, "Conv", ins, []string{out}, attrs...)
	return nil
}

// biasAdd finds the Add that only follows output 0 of l with a constant
// f32 bias of c values along axis 1 of a rank-rank output (gemm: along
// the last axis of a 2-D output), marks it absorbed and returns it and
// the bias initializer's name.
func (r *reader) biasAdd(l *Layer, c int64, rank int, gemm bool) (*Layer, string) {
	if len(l.Output) != 1 {
		return nil, ""
	}
	users := r.users[portKey{l.ID, l.Output[0].ID}]
	if len(users) != 1 {
		return nil, ""
	}
	add := r.byID[users[0].layer]
	if add.Type != "Add" || len(add.Input) != 2 || len(add.Output) != 1 || add.Version != "opset1" {
		return nil, ""
	}
	if ab, _ := add.Attr("auto_broadcast"); ab != "" && ab != "numpy" {
		return nil, ""
	}
	other := 1
	if r.src[portKey{add.ID, add.Input[1].ID}] == (portKey{l.ID, l.Output[0].ID}) {
		other = 0
	}
	b := r.in(add, other)
	if b.konst == nil || b.konst.Dtype != potv1.DataType_DATA_TYPE_FLOAT || numelOf(b.konst) != c {
		return nil, ""
	}
	d := b.konst.Dims
	ok := false
	if gemm {
		ok = len(d) == 1 || len(d) == 2 && d[0] == 1
	} else {
		// [C, 1, ...] or [1, C, 1, ...], C on axis 1 of the output.
		for len(d) > rank-1 && len(d) > 0 && d[0] == 1 {
			d = d[1:]
		}
		ok = len(d) == rank-1 && d[0] == c
	}
	if !ok {
		return nil, ""
	}
	r.absorbed[add.ID] = true
	t := &potv1.Tensor{Dtype: b.konst.Dtype, Dims: []int64{c}, Data: b.konst.Data}
	bk := r.src[portKey{add.ID, add.Input[other].ID}]
	if len(r.users[bk]) == 1 && !r.inits[b.name] {
		r.inits[b.name] = true
		t.Name = b.name
		r.g.Initializers = append(r.g.Initializers, t)
		return add, b.name
	}
	return add, r.addConst(b.name+"/bias", t)
}

// biasedName is the name of the node of a layer l and the bias Add it
// absorbed: the Add's when l's name extends it ("conv/WithoutBiases"
// and "conv", as OpenVINO's converters and pot's writer name the two
// layers of one ONNX node), else l's.
func biasedName(l, add *Layer) string {
	if strings.HasPrefix(l.Name, add.Name+"/") {
		return add.Name
	}
	return l.Name
}

// transposed returns a constant with its last two axes swapped.
func transposed(t *potv1.Tensor) *potv1.Tensor {
	d := t.Dims
	n := len(d)
	rows, cols := d[n-2], d[n-1]
	batch := numelOf(t) / max(rows*cols, 1)
	es := int64(elemBits(t.Dtype) / 8)
	out := make([]byte, len(t.Data))
	for b := range batch {
		base := b * rows * cols
		for i := range rows {
			for j := range cols {
				src := (base + i*cols + j) * es
				dst := (base + j*rows + i) * es
				copy(out[dst:dst+es], t.Data[src:src+es])
			}
		}
	}
	dims := append(append([]int64{}, d[:n-2]...), cols, rows)
	return &potv1.Tensor{Dtype: t.Dtype, Dims: dims, Data: out}
}

// matmul maps MatMul: a 2-D product with a constant B and a constant bias
// Add becomes Gemm (as ONNX exporters write a linear layer); otherwise
// MatMul, transposes done on the constant or by Transpose nodes.
func (r *reader) matmul(l *Layer, _ int) error {
	ta, err := attrBool(l, "transpose_a", false)
	if err != nil {
		return err
	}
	tb, err := attrBool(l, "transpose_b", false)
	if err != nil {
		return err
	}
	a, b := r.in(l, 0), r.in(l, 1)
	if len(a.dims) == 2 && b.konst != nil && len(b.dims) == 2 && b.konst.Dtype == potv1.DataType_DATA_TYPE_FLOAT {
		n := b.dims[1]
		if tb {
			n = b.dims[0]
		}
		if add, bias := r.biasAdd(l, n, 2, true); add != nil {
			var attrs []*potv1.Attribute
			if ta {
				attrs = append(attrs, sg.IntAttr("transA", 1))
			}
			if tb {
				attrs = append(attrs, sg.IntAttr("transB", 1))
			}
			r.node(biasedName(l, add), "Gemm", []string{r.use(a), r.useWeights(b), bias}, []string{r.outName(add, 0)}, attrs...)
			return nil
		}
	}
	operand := func(v *value, t bool, what string) (string, error) {
		if !t || len(v.dims) < 2 {
			if what == "b" {
				return r.useWeights(v), nil
			}
			return r.use(v), nil
		}
		if v.konst != nil && elemBits(v.konst.Dtype) >= 8 {
			return r.addConst(v.name+"/transposed", transposed(v.konst)), nil
		}
		perm := make([]int64, len(v.dims))
		for i := range perm {
			perm[i] = int64(i)
		}
		n := len(perm)
		perm[n-2], perm[n-1] = perm[n-1], perm[n-2]
		out := r.tmp(l, what)
		r.node(r.sub(l, "Transpose_"+what), "Transpose", []string{r.use(v)}, []string{out}, sg.IntsAttr("perm", perm))
		return out, nil
	}
	if ta && a.dims == nil || tb && b.dims == nil {
		return refuse("transpose of an input of unknown rank")
	}
	an, err := operand(a, ta, "a")
	if err != nil {
		return err
	}
	bn, err := operand(b, tb, "b")
	if err != nil {
		return err
	}
	r.node(l.Name, "MatMul", []string{an, bn}, []string{r.outName(l, 0)})
	return nil
}

func (r *reader) pool(l *Layer, version int) error {
	kernel, err := attrInts(l, "kernel", nil)
	if err != nil {
		return err
	}
	if len(kernel) == 0 {
		return fmt.Errorf("no kernel")
	}
	op := "MaxPool"
	dil := version >= 8
	if l.Type == "AvgPool" {
		op, dil = "AveragePool", false
	}
	if op == "MaxPool" && r.used(l, 1) {
		return refuse("its second output (the indices) is used; ONNX MaxPool's indices differ")
	}
	attrs, err := spatialAttrs(l, len(kernel), dil)
	if err != nil {
		return err
	}
	attrs = append(attrs, sg.IntsAttr("kernel_shape", kernel))
	switch rt, _ := l.Attr("rounding_type"); strings.ToLower(rt) {
	case "", "floor":
	case "ceil":
		attrs = append(attrs, sg.IntAttr("ceil_mode", 1))
	default:
		return refuse("rounding_type %q (floor or ceil)", rt)
	}
	if op == "AveragePool" {
		ex, err := attrBool(l, "exclude-pad", false)
		if err != nil {
			return err
		}
		if !ex {
			attrs = append(attrs, sg.IntAttr("count_include_pad", 1))
		}
	}
	r.node(l.Name, op, []string{r.inName(l, 0)}, []string{r.outName(l, 0)}, attrs...)
	return nil
}

func (r *reader) concat(l *Layer, _ int) error {
	axis, err := attrInt(l, "axis", 0)
	if err != nil {
		return err
	}
	var ins []string
	for i := range l.Input {
		ins = append(ins, r.inName(l, i))
	}
	r.node(l.Name, "Concat", ins, []string{r.outName(l, 0)}, sg.IntAttr("axis", axis))
	return nil
}

// int64In returns input i as an int64 tensor: the constant converted, or
// a Cast node.
func (r *reader) int64In(l *Layer, i int, what string) (string, error) {
	v := r.in(l, i)
	if v.konst != nil {
		if v.konst.Dtype == potv1.DataType_DATA_TYPE_INT64 {
			return r.use(v), nil
		}
		x, err := ints(v.konst)
		if err != nil {
			return "", refuse("%s: %v", what, err)
		}
		return r.addConst(v.name+"/i64", i64("", v.konst.Dims, x)), nil
	}
	if v.dtype == potv1.DataType_DATA_TYPE_INT64 {
		return r.use(v), nil
	}
	out := r.tmp(l, what+"_i64")
	r.node(r.sub(l, "Cast_"+what), "Cast", []string{r.use(v)}, []string{out}, sg.IntAttr("to", int64(potv1.DataType_DATA_TYPE_INT64)))
	return out, nil
}

func (r *reader) reshape(l *Layer, _ int) error {
	sz, err := attrBool(l, "special_zero", false)
	if err != nil {
		return err
	}
	if t := r.constIn(l, 1); t != nil && !sz {
		shape, err := ints(t)
		if err != nil {
			return refuse("shape: %v", err)
		}
		for _, d := range shape {
			if d == 0 {
				return refuse("special_zero false with a 0 in the shape %v (an empty dimension; ONNX Reshape-13 copies the input's)", shape)
			}
		}
	}
	if out := r.out(l, 0); !sz && out.dims != nil && static(out.dims) {
		for _, d := range out.dims {
			if d == 0 {
				return refuse("special_zero false with an empty output dimension")
			}
		}
	}
	s, err := r.int64In(l, 1, "shape")
	if err != nil {
		return err
	}
	r.node(l.Name, "Reshape", []string{r.inName(l, 0), s}, []string{r.outName(l, 0)})
	return nil
}

func (r *reader) transpose(l *Layer, _ int) error {
	perm, err := r.constInts(l, 1, "order")
	if err != nil {
		return err
	}
	var attrs []*potv1.Attribute
	if len(perm) > 0 {
		attrs = append(attrs, sg.IntsAttr("perm", perm))
	}
	r.node(l.Name, "Transpose", []string{r.inName(l, 0)}, []string{r.outName(l, 0)}, attrs...)
	return nil
}

func (r *reader) softmax(l *Layer, _ int) error {
	axis, err := attrInt(l, "axis", 1)
	if err != nil {
		return err
	}
	op := l.Type
	if op == "SoftMax" {
		op = "Softmax"
	}
	r.node(l.Name, op, []string{r.inName(l, 0)}, []string{r.outName(l, 0)}, sg.IntAttr("axis", axis))
	return nil
}

// mvn decomposes MVN: d = x − mean(x); with normalize_variance
// d / sqrt(mean(d²) + eps) (eps_mode inside_sqrt) or
// d / (sqrt(mean(d²)) + eps) (outside_sqrt).
func (r *reader) mvn(l *Layer, version int) error {
	x := r.in(l, 0)
	var axes []int64
	mode := "inside_sqrt"
	if version >= 6 {
		a, err := r.constInts(l, 1, "axes")
		if err != nil {
			return err
		}
		axes = a
		if m, ok := l.Attr("eps_mode"); ok {
			mode = strings.ToLower(m)
		}
	} else {
		ra, err := attrInts(l, "reduction_axes", nil)
		if err != nil {
			return err
		}
		if ra != nil {
			axes = ra
		} else {
			if x.dims == nil {
				return refuse("input of unknown rank")
			}
			across, err := attrBool(l, "across_channels", false)
			if err != nil {
				return err
			}
			first := int64(2)
			if across {
				first = 1
			}
			for i := first; i < int64(len(x.dims)); i++ {
				axes = append(axes, i)
			}
		}
	}
	nv, err := attrBool(l, "normalize_variance", false)
	if err != nil {
		return err
	}
	eps, err := attrFloat(l, "eps", 1e-9)
	if err != nil {
		return err
	}
	if mode != "inside_sqrt" && mode != "outside_sqrt" {
		return refuse("eps_mode %q (inside_sqrt or outside_sqrt)", mode)
	}
	xn := r.use(x)
	mean, d := r.tmp(l, "mean"), r.tmp(l, "centered")
	r.node(r.sub(l, "ReduceMean"), "ReduceMean", []string{xn}, []string{mean}, sg.IntsAttr("axes", axes), sg.IntAttr("keepdims", 1))
	if !nv {
		r.node(l.Name, "Sub", []string{xn, mean}, []string{r.outName(l, 0)})
		return nil
	}
	r.node(r.sub(l, "Sub"), "Sub", []string{xn, mean}, []string{d})
	sq, v, den := r.tmp(l, "squared"), r.tmp(l, "variance"), r.tmp(l, "denominator")
	r.node(r.sub(l, "Mul"), "Mul", []string{d, d}, []string{sq})
	r.node(r.sub(l, "ReduceMean_var"), "ReduceMean", []string{sq}, []string{v}, sg.IntsAttr("axes", axes), sg.IntAttr("keepdims", 1))
	e := r.scalar(l.Name+"/eps", x.dtype, eps)
	if mode == "inside_sqrt" {
		ve := r.tmp(l, "variance_eps")
		r.node(r.sub(l, "Add_eps"), "Add", []string{v, e}, []string{ve})
		r.node(r.sub(l, "Sqrt"), "Sqrt", []string{ve}, []string{den})
	} else {
		sd := r.tmp(l, "stddev")
		r.node(r.sub(l, "Sqrt"), "Sqrt", []string{v}, []string{sd})
		r.node(r.sub(l, "Add_eps"), "Add", []string{sd, e}, []string{den})
	}
	r.node(l.Name, "Div", []string{d, den}, []string{r.outName(l, 0)})
	return nil
}

func (r *reader) reduce(l *Layer, _ int) error {
	axes, err := r.constInts(l, 1, "axes")
	if err != nil {
		return err
	}
	keep, err := attrBool(l, "keep_dims", false)
	if err != nil {
		return err
	}
	kd := int64(0)
	if keep {
		kd = 1
	}
	x, out := r.inName(l, 0), r.outName(l, 0)
	if len(axes) == 0 {
		r.node(l.Name, "Identity", []string{x}, []string{out})
		return nil
	}
	op := l.Type
	if op == "ReduceSum" {
		r.node(l.Name, op, []string{x, r.ints64(l.Name+"/axes", axes)}, []string{out}, sg.IntAttr("keepdims", kd))
		return nil
	}
	r.node(l.Name, op, []string{x}, []string{out}, sg.IntsAttr("axes", axes), sg.IntAttr("keepdims", kd))
	return nil
}

func (r *reader) shapeOf(l *Layer, version int) error {
	ot := "i64"
	if version >= 3 {
		if s, ok := l.Attr("output_type"); ok {
			ot = s
		}
	}
	out := r.outName(l, 0)
	switch ot {
	case "i64":
		r.node(l.Name, "Shape", []string{r.inName(l, 0)}, []string{out})
	case "i32":
		s := r.tmp(l, "shape")
		r.node(r.sub(l, "Shape"), "Shape", []string{r.inName(l, 0)}, []string{s})
		r.node(l.Name, "Cast", []string{s}, []string{out}, sg.IntAttr("to", int64(potv1.DataType_DATA_TYPE_INT32)))
	default:
		return refuse("output_type %q (i64 or i32)", ot)
	}
	return nil
}

func (r *reader) gather(l *Layer, version int) error {
	if version >= 7 {
		bd, err := attrInt(l, "batch_dims", 0)
		if err != nil {
			return err
		}
		if bd != 0 {
			return refuse("batch_dims %d: only 0 is read", bd)
		}
	}
	axis, err := r.constInts(l, 2, "axis")
	if err != nil {
		return err
	}
	if len(axis) != 1 {
		return refuse("axis of %d values", len(axis))
	}
	r.node(l.Name, "Gather", []string{r.inName(l, 0), r.inName(l, 1)}, []string{r.outName(l, 0)}, sg.IntAttr("axis", axis[0]))
	return nil
}

func (r *reader) squeeze(l *Layer, _ int) error {
	ins := []string{r.inName(l, 0)}
	if len(l.Input) > 1 {
		a, err := r.int64In(l, 1, "axes")
		if err != nil {
			return err
		}
		ins = append(ins, a)
	} else if l.Type == "Unsqueeze" {
		return fmt.Errorf("Unsqueeze without axes")
	}
	r.node(l.Name, l.Type, ins, []string{r.outName(l, 0)})
	return nil
}

// stridedSlice maps StridedSlice to Slice (and Squeeze for
// shrink_axis_mask); new_axis_mask and ellipsis_mask are refused.
func (r *reader) stridedSlice(l *Layer, _ int) error {
	begin, err := r.constInts(l, 1, "begin")
	if err != nil {
		return err
	}
	end, err := r.constInts(l, 2, "end")
	if err != nil {
		return err
	}
	stride := make([]int64, len(begin))
	for i := range stride {
		stride[i] = 1
	}
	if len(l.Input) > 3 {
		if stride, err = r.constInts(l, 3, "stride"); err != nil {
			return err
		}
	}
	if len(end) != len(begin) || len(stride) != len(begin) {
		return fmt.Errorf("begin %v, end %v, stride %v differ in length", begin, end, stride)
	}
	mask := func(name string) ([]int64, error) {
		m, err := attrInts(l, name, nil)
		if err != nil {
			return nil, err
		}
		out := make([]int64, len(begin))
		copy(out, m)
		for _, v := range m[min(len(m), len(begin)):] {
			if v != 0 {
				return nil, refuse("%s %v is longer than begin", name, m)
			}
		}
		return out, nil
	}
	bm, err := mask("begin_mask")
	if err != nil {
		return err
	}
	em, err := mask("end_mask")
	if err != nil {
		return err
	}
	nm, err := mask("new_axis_mask")
	if err != nil {
		return err
	}
	sm, err := mask("shrink_axis_mask")
	if err != nil {
		return err
	}
	elm, err := mask("ellipsis_mask")
	if err != nil {
		return err
	}
	var starts, ends, axes, steps, squeeze []int64
	for i := range begin {
		if elm[i] != 0 {
			return refuse("ellipsis_mask %v: not expressible as ONNX Slice here", elm)
		}
		if nm[i] != 0 {
			return refuse("new_axis_mask %v: not expressible as ONNX Slice here", nm)
		}
		s, e, st := begin[i], end[i], stride[i]
		if st == 0 {
			return fmt.Errorf("stride 0 on axis %d", i)
		}
		if sm[i] != 0 {
			e = s + 1
			if s == -1 {
				e = math.MaxInt64
			}
			st = 1
			squeeze = append(squeeze, int64(i))
		} else {
			if bm[i] != 0 {
				s = 0
				if st < 0 {
					s = math.MaxInt64
				}
			}
			if em[i] != 0 {
				e = math.MaxInt64
				if st < 0 {
					e = math.MinInt64
				}
			}
		}
		starts, ends, axes, steps = append(starts, s), append(ends, e), append(axes, int64(i)), append(steps, st)
	}
	out := r.outName(l, 0)
	sl := out
	if len(squeeze) > 0 {
		sl = r.tmp(l, "slice")
	}
	r.node(l.Name, "Slice", []string{r.inName(l, 0), r.ints64(l.Name+"/starts", starts), r.ints64(l.Name+"/ends", ends),
		r.ints64(l.Name+"/axes", axes), r.ints64(l.Name+"/steps", steps)}, []string{sl})
	if len(squeeze) > 0 {
		r.node(r.sub(l, "Squeeze"), "Squeeze", []string{sl, r.ints64(l.Name+"/squeeze_axes", squeeze)}, []string{out})
	}
	return nil
}

func (r *reader) convert(l *Layer, _ int) error {
	dt, ok := l.Attr("destination_type")
	if !ok {
		return fmt.Errorf("no destination_type")
	}
	to, err := DataType(dt)
	if err != nil {
		return refuse("%v", err)
	}
	r.node(l.Name, "Cast", []string{r.inName(l, 0)}, []string{r.outName(l, 0)}, sg.IntAttr("to", int64(to)))
	return nil
}

func (r *reader) split(l *Layer, _ int) error {
	axis, err := r.constInts(l, 1, "axis")
	if err != nil {
		return err
	}
	if len(axis) != 1 {
		return refuse("axis of %d values", len(axis))
	}
	var outs []string
	for i := range l.Output {
		outs = append(outs, r.outName(l, i))
	}
	ins := []string{r.inName(l, 0)}
	if l.Type == "VariadicSplit" {
		lengths, err := r.constInts(l, 2, "split_lengths")
		if err != nil {
			return err
		}
		if len(lengths) != len(outs) {
			return fmt.Errorf("%d split_lengths for %d outputs", len(lengths), len(outs))
		}
		neg := -1
		sum := int64(0)
		for i, v := range lengths {
			if v == -1 {
				neg = i
			} else {
				sum += v
			}
		}
		if neg >= 0 {
			x := r.in(l, 0)
			a := axis[0]
			if a < 0 {
				a += int64(len(x.dims))
			}
			if a < 0 || a >= int64(len(x.dims)) || x.dims[a] < 0 {
				return refuse("split_lengths %v with -1 on an axis of unknown size", lengths)
			}
			lengths = append([]int64{}, lengths...)
			lengths[neg] = x.dims[a] - sum
		}
		ins = append(ins, r.ints64(l.Name+"/split", lengths))
	}
	r.node(l.Name, "Split", ins, outs, sg.IntAttr("axis", axis[0]))
	return nil
}

// fakeQuantize maps FakeQuantize-1 to QuantizeLinear + DequantizeLinear
// when they quantize to the same levels (fakeQuantizeQDQ; pot simulates
// FakeQuantize in that form), else decomposes it
// exactly as POT's formula:
// q = round((clamp(x, il, ih) − il) / (ih − il) · (levels − 1));
// y = q / (levels − 1) · (oh − ol) + ol.
func (r *reader) fakeQuantize(l *Layer, _ int) error {
	if len(l.Input) != 5 {
		return fmt.Errorf("%d inputs, want 5", len(l.Input))
	}
	if err := r.broadcastOK(l); err != nil {
		return err
	}
	levels, err := attrInt(l, "levels", 0)
	if err != nil {
		return err
	}
	if levels < 2 {
		return fmt.Errorf("levels %d", levels)
	}
	x := r.in(l, 0)
	if !isFloat(x.dtype) {
		return refuse("FakeQuantize of %v", x.dtype)
	}
	if r.fakeQuantizeQDQ(l, levels) {
		return nil
	}
	il, ih, ol, oh := r.in(l, 1), r.in(l, 2), r.in(l, 3), r.in(l, 4)
	if il.konst != nil && ih.konst != nil && il.konst.Dtype == potv1.DataType_DATA_TYPE_FLOAT && ih.konst.Dtype == il.konst.Dtype {
		if d := foldBinary("Subtract", "", ih.konst, il.konst); d != nil {
			for _, v := range f32s(d) {
				if !(v > 0) {
					return refuse("input_high <= input_low in some channel (the decomposition needs input_low < input_high)")
				}
			}
		}
	}
	diff := func(a, b *value, what string) string {
		if a.konst != nil && b.konst != nil && a.konst.Dtype == potv1.DataType_DATA_TYPE_FLOAT && b.konst.Dtype == a.konst.Dtype {
			if d := foldBinary("Subtract", "", a.konst, b.konst); d != nil {
				return r.addConst(l.Name+"/"+what, d)
			}
		}
		out := r.tmp(l, what)
		r.node(r.sub(l, "Sub_"+what), "Sub", []string{r.use(a), r.use(b)}, []string{out})
		return out
	}
	xn, iln, ihn, oln := r.use(x), r.use(il), r.use(ih), r.use(ol)
	in := diff(ih, il, "input_range")
	on := diff(oh, ol, "output_range")
	lv := r.scalar(l.Name+"/levels_minus_1", x.dtype, float64(levels-1))
	t := func(what string) string { return r.tmp(l, what) }
	lo, hi, sh, sc, ml, q, dq, mo := t("max"), t("clamped"), t("shifted"), t("scaled"), t("levels"), t("rounded"), t("dequantized"), t("ranged")
	r.node(r.sub(l, "Max"), "Max", []string{xn, iln}, []string{lo})
	r.node(r.sub(l, "Min"), "Min", []string{lo, ihn}, []string{hi})
	r.node(r.sub(l, "Sub"), "Sub", []string{hi, iln}, []string{sh})
	r.node(r.sub(l, "Div_range"), "Div", []string{sh, in}, []string{sc})
	r.node(r.sub(l, "Mul_levels"), "Mul", []string{sc, lv}, []string{ml})
	r.node(r.sub(l, "Round"), "Round", []string{ml}, []string{q})
	r.node(r.sub(l, "Div_levels"), "Div", []string{q, lv}, []string{dq})
	r.node(r.sub(l, "Mul_range"), "Mul", []string{dq, on}, []string{mo})
	r.node(l.Name, "Add", []string{mo, oln}, []string{r.outName(l, 0)})
	return nil
}

func (r *reader) batchNorm(l *Layer, version int) error {
	if len(l.Input) != 5 {
		return fmt.Errorf("%d inputs, want 5", len(l.Input))
	}
	eps, err := attrFloat(l, "epsilon", 1e-5)
	if err != nil {
		return err
	}
	order := []int{0, 1, 2, 3, 4}
	// BatchNormInference-1 as nGraph wrote it takes (gamma, beta, data,
	// mean, variance); the data is the input that is not 1-D.
	if version == 1 && len(r.in(l, 0).dims) == 1 && len(r.in(l, 2).dims) != 1 {
		order = []int{2, 0, 1, 3, 4}
	}
	var ins []string
	for _, i := range order {
		ins = append(ins, r.inName(l, i))
	}
	r.node(l.Name, "BatchNormalization", ins, []string{r.outName(l, 0)}, sg.FloatAttr("epsilon", float32(eps)))
	return nil
}

func (r *reader) pad(l *Layer, _ int) error {
	pb, err := r.constInts(l, 1, "pads_begin")
	if err != nil {
		return err
	}
	pe, err := r.constInts(l, 2, "pads_end")
	if err != nil {
		return err
	}
	if len(pb) != len(pe) {
		return fmt.Errorf("pads_begin %v and pads_end %v differ in length", pb, pe)
	}
	for _, p := range append(append([]int64{}, pb...), pe...) {
		if p < 0 {
			return refuse("negative pads %v %v", pb, pe)
		}
	}
	mode, _ := l.Attr("pad_mode")
	switch mode {
	case "", "constant", "edge", "reflect":
	default:
		return refuse("pad_mode %q (constant, edge or reflect)", mode)
	}
	if mode == "" {
		mode = "constant"
	}
	ins := []string{r.inName(l, 0), r.ints64(l.Name+"/pads", append(append([]int64{}, pb...), pe...))}
	if len(l.Input) > 3 && mode == "constant" {
		ins = append(ins, r.inName(l, 3))
	}
	r.node(l.Name, "Pad", ins, []string{r.outName(l, 0)}, sg.StringAttr("mode", mode))
	return nil
}

// slice maps Slice-8 (data, start, stop, step[, axes]) to ONNX's Slice
// (data, starts, ends[, axes][, steps]).
func (r *reader) slice(l *Layer, _ int) error {
	if len(l.Input) < 4 {
		return fmt.Errorf("Slice with %d inputs, want 4 or 5", len(l.Input))
	}
	ins := []string{r.inName(l, 0)}
	for i, what := range []string{"start", "stop"} {
		v, err := r.int64In(l, i+1, what)
		if err != nil {
			return err
		}
		ins = append(ins, v)
	}
	axes := ""
	if len(l.Input) > 4 {
		a, err := r.int64In(l, 4, "axes")
		if err != nil {
			return err
		}
		axes = a
	}
	step, err := r.int64In(l, 3, "step")
	if err != nil {
		return err
	}
	ins = append(ins, axes, step)
	r.node(l.Name, "Slice", ins, []string{r.outName(l, 0)})
	return nil
}

// broadcast maps Broadcast (numpy or bidirectional) to Expand: for a
// target shape the data broadcasts to, numpy's result is Expand's.
func (r *reader) broadcast(l *Layer, _ int) error {
	if m, _ := l.Attr("mode"); m != "" && m != "numpy" && m != "bidirectional" {
		return refuse("mode %q is not read (numpy or bidirectional)", m)
	}
	if len(l.Input) != 2 {
		return refuse("Broadcast with %d inputs (the axes_mapping of explicit mode is not read)", len(l.Input))
	}
	shape, err := r.int64In(l, 1, "target_shape")
	if err != nil {
		return err
	}
	r.node(l.Name, "Expand", []string{r.inName(l, 0), shape}, []string{r.outName(l, 0)})
	return nil
}

// selectLayer maps Select to Where.
func (r *reader) selectLayer(l *Layer, _ int) error {
	if len(l.Input) != 3 {
		return fmt.Errorf("%d inputs, want 3", len(l.Input))
	}
	if ab, _ := l.Attr("auto_broadcast"); ab != "" && ab != "numpy" {
		return refuse("auto_broadcast %q is not read (numpy)", ab)
	}
	r.node(l.Name, "Where", []string{r.inName(l, 0), r.inName(l, 1), r.inName(l, 2)}, []string{r.outName(l, 0)})
	return nil
}
