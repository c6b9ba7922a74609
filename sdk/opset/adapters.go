package opset

import (
	"fmt"
	"math"
	"strings"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// An adapter brings a node from the previous version of its operator to
// version v, in place. It may emit new nodes (in the form of the target
// opset) before or after it, add initializers, and change the node's
// operator (the conversion then goes on through the new operator's
// versions after v). It returns what it did ("" for nothing).
type adapter func(s *scope, n *potv1.Node, v int64) (string, error)

type stepKey struct {
	op string
	v  int64
}

// adapters holds the adapter of each operator version whose definition
// changed in more than its types; the other versions need nothing.
var adapters = map[stepKey]adapter{}

func register(v int64, ad adapter, ops ...string) {
	for _, op := range ops {
		adapters[stepKey{op, v}] = ad
	}
}

func init() {
	// 1 to 2.
	register(2, padPaddings, "Pad")
	register(2, splitInputToAttr, "Split")
	register(2, lpPoolIntP, "LpPool", "GlobalLpPool")
	// 3 to 4, 4 to 5.
	register(4, concatAxis, "Concat")
	register(5, reshapeShapeInput, "Reshape")
	// 5 to 6: consumed_inputs went away.
	register(6, dropAttrs("consumed_inputs"), "Abs", "Add", "BatchNormalization", "Ceil", "Clip", "Div", "Dropout",
		"Elu", "Exp", "Floor", "HardSigmoid", "InstanceNormalization", "LeakyRelu", "Log", "Max", "Mean", "Min", "Mul",
		"Neg", "PRelu", "Reciprocal", "Relu", "Selu", "Sigmoid", "Sqrt", "Sub", "Sum", "Tanh")
	register(6, castToInt, "Cast")
	register(6, tileRepeats, "Tile")
	// 6 to 7: numpy broadcasting.
	register(7, legacyBroadcast, "Add", "Sub", "Mul", "Div", "Pow", "And", "Or", "Xor", "Equal", "Greater", "Less")
	register(7, dropAttrs("broadcast"), "Gemm")
	register(7, dropIsTest, "BatchNormalization", "Dropout")
	register(7, upsampleScalesAttr, "Upsample")
	register(7, dropAttrs("output_sequence"), "GRU", "LSTM", "RNN")
	register(7, preluSlope, "PRelu")
	// 8 to 9.
	register(9, batchNormSpatial, "BatchNormalization")
	register(9, upsampleScalesInput, "Upsample")
	// 9 to 10.
	register(10, sliceInputs, "Slice")
	register(10, topKInput, "TopK")
	register(10, upsampleToResize, "Upsample")
	register(10, dropoutBoolMask, "Dropout")
	// 10 to 11.
	register(11, clipInputs, "Clip")
	register(11, padInputs, "Pad")
	register(11, resizeCoordinates, "Resize")
	register(11, scatterElements, "Scatter")
	// 11 to 12.
	register(12, dropoutRatioInput, "Dropout")
	// 12 to 13.
	register(13, softmaxOneAxis, "Softmax", "LogSoftmax", "Hardmax")
	register(13, axesInput, "ReduceSum", "Squeeze", "Unsqueeze")
	register(13, splitAttrToInput, "Split")
}

// arity checks that n has at least ins inputs and outs outputs (omitted
// optional ones count).
func arity(n *potv1.Node, ins, outs int) error {
	if len(n.GetInputs()) < ins || len(n.GetOutputs()) < outs {
		return fmt.Errorf("%d inputs and %d outputs, want at least %d and %d", len(n.GetInputs()), len(n.GetOutputs()), ins, outs)
	}
	return nil
}

func dropAttrs(names ...string) adapter {
	return func(s *scope, n *potv1.Node, v int64) (string, error) {
		var gone []string
		for _, a := range names {
			if takeAttr(n, a) != nil {
				gone = append(gone, a)
			}
		}
		if len(gone) == 0 {
			return "", nil
		}
		return "removed attribute " + strings.Join(gone, ", "), nil
	}
}

// padPaddings: Pad-1's paddings became pads.
func padPaddings(s *scope, n *potv1.Node, v int64) (string, error) {
	a := takeAttr(n, "paddings")
	if a == nil {
		return "", nil
	}
	if graph.Attr(n, "pads") != nil {
		return "", fmt.Errorf("both paddings and pads are set")
	}
	a.Name = "pads"
	setAttr(n, a)
	return "paddings renamed pads", nil
}

// splitInputToAttr: Split-1's optional second input, the lengths, became
// the split attribute.
func splitInputToAttr(s *scope, n *potv1.Node, v int64) (string, error) {
	name := input(n, 1)
	if name == "" {
		n.Inputs = n.Inputs[:min(len(n.Inputs), 1)]
		return "", nil
	}
	t := s.konst(name)
	if t == nil {
		return "", fmt.Errorf("the split lengths (input %q) are computed at run time; Split-2 takes them as an attribute", name)
	}
	lengths, err := integers(t)
	if err != nil {
		return "", fmt.Errorf("split lengths: %w", err)
	}
	setInts(n, "split", lengths)
	n.Inputs = n.Inputs[:1]
	return "split input made an attribute", nil
}

// lpPoolIntP: LpPool's and GlobalLpPool's p became an integer.
func lpPoolIntP(s *scope, n *potv1.Node, v int64) (string, error) {
	a := graph.Attr(n, "p")
	if a == nil || a.GetType() == potv1.Attribute_TYPE_INT {
		return "", nil
	}
	if a.GetType() != potv1.Attribute_TYPE_FLOAT {
		return "", fmt.Errorf("attribute p is %v", a.GetType())
	}
	p := a.GetF()
	if p != float32(math.Trunc(float64(p))) || p < 1 {
		return "", fmt.Errorf("p = %g is not a positive integer, which LpPool-2 needs", p)
	}
	setInt(n, "p", int64(p))
	return fmt.Sprintf("p = %g made an integer", p), nil
}

// concatAxis: Concat-1's axis defaulted to 1; from 4 it is required.
func concatAxis(s *scope, n *potv1.Node, v int64) (string, error) {
	if graph.Attr(n, "axis") != nil {
		return "", nil
	}
	setInt(n, "axis", 1)
	return "axis = 1 (Concat-1's default) made explicit", nil
}

// reshapeShapeInput: Reshape-5 takes the shape as an input.
func reshapeShapeInput(s *scope, n *potv1.Node, v int64) (string, error) {
	takeAttr(n, "consumed_inputs")
	shape, ok, err := attrInts(n, "shape")
	if err != nil {
		return "", err
	}
	if !ok {
		if input(n, 1) != "" {
			return "", nil
		}
		return "", fmt.Errorf("Reshape-%d without a shape attribute", s.u.from)
	}
	takeAttr(n, "shape")
	n.Inputs = []string{input(n, 0), s.int64s(n.GetName()+"_shape", shape)}
	return "shape attribute made an input", nil
}

// castToInt: Cast-1's to named the type; from 6 it is the type's number.
func castToInt(s *scope, n *potv1.Node, v int64) (string, error) {
	a := graph.Attr(n, "to")
	if a == nil {
		return "", fmt.Errorf("no to attribute")
	}
	if a.GetType() != potv1.Attribute_TYPE_STRING {
		return "", nil
	}
	dt, ok := dtByName(string(a.GetS()))
	if !ok {
		return "", fmt.Errorf("to = %q is not an ONNX element type", a.GetS())
	}
	setInt(n, "to", int64(dt))
	return fmt.Sprintf("to = %q made %d", a.GetS(), dt), nil
}

// tileRepeats: Tile-1 repeated along one axis (inputs tiles and axis);
// Tile-6 takes the repeats of every axis.
func tileRepeats(s *scope, n *potv1.Node, v int64) (string, error) {
	x := input(n, 0)
	if len(n.GetInputs()) != 3 {
		return "", fmt.Errorf("Tile-1 has %d inputs, want 3 (input, tiles, axis)", len(n.GetInputs()))
	}
	tt, at := s.konst(input(n, 1)), s.konst(input(n, 2))
	if tt == nil || at == nil {
		return "", fmt.Errorf("tiles and axis are computed at run time; Tile-6 needs them to build its repeats")
	}
	tiles, err := integers(tt)
	if err != nil || len(tiles) != 1 {
		return "", fmt.Errorf("tiles must be one integer (%v)", err)
	}
	axis, err := integers(at)
	if err != nil || len(axis) != 1 {
		return "", fmt.Errorf("axis must be one integer (%v)", err)
	}
	r := s.rank(x)
	if r < 0 {
		return "", fmt.Errorf("the rank of input %q is unknown", x)
	}
	a := axis[0]
	if a < 0 {
		a += int64(r)
	}
	if a < 0 || a >= int64(r) {
		return "", fmt.Errorf("axis %d is out of range for rank %d", axis[0], r)
	}
	rep := make([]int64, r)
	for i := range rep {
		rep[i] = 1
	}
	rep[a] = tiles[0]
	n.Inputs = []string{x, s.int64s(n.GetName()+"_repeats", rep)}
	return fmt.Sprintf("tiles %d along axis %d made repeats %v", tiles[0], axis[0], rep), nil
}

// legacyBroadcast: before opset 7, binary operators broadcast only with
// broadcast=1, placing B's dimensions at axis of A (suffix matching
// without axis); from 7 they broadcast as numpy does, aligning trailing
// dimensions. With an axis whose B does not reach A's last dimension, B
// gets trailing axes of size one.
func legacyBroadcast(s *scope, n *potv1.Node, v int64) (string, error) {
	if err := arity(n, 2, 1); err != nil {
		return "", err
	}
	b, err := attrInt(n, "broadcast", 0)
	if err != nil {
		return "", err
	}
	bAttr, axisAttr := takeAttr(n, "broadcast"), takeAttr(n, "axis")
	if b == 0 || axisAttr == nil {
		if bAttr == nil && axisAttr == nil {
			return "", nil
		}
		return "removed the broadcast and axis attributes (numpy broadcasting gives the same result)", nil
	}
	if axisAttr.GetType() != potv1.Attribute_TYPE_INT {
		return "", fmt.Errorf("attribute axis is %v", axisAttr.GetType())
	}
	axis := axisAttr.GetI()
	a, bName := input(n, 0), input(n, 1)
	ra, rb := s.rank(a), s.rank(bName)
	if ra < 0 || rb < 0 {
		return "", fmt.Errorf("broadcast=1 with axis=%d needs the ranks of both inputs to place B's dimensions, and pot cannot tell the rank of %q", axis, map[bool]string{true: a, false: bName}[ra < 0])
	}
	if axis < 0 {
		axis += int64(ra)
	}
	k := int64(ra) - axis - int64(rb)
	if axis < 0 || k < 0 {
		return "", fmt.Errorf("B (rank %d) does not fit in A (rank %d) at axis %d", rb, ra, axisAttr.GetI())
	}
	if k == 0 {
		return fmt.Sprintf("removed broadcast=1 and axis=%d (B already ends at A's last axis)", axisAttr.GetI()), nil
	}
	axes := make([]int64, k)
	for i := range axes {
		axes[i] = int64(rb) + int64(i)
	}
	if t := s.konst(bName); t != nil {
		dims := append(append([]int64{}, t.GetDims()...), ones(int(k))...)
		n.Inputs[1] = s.reshaped(bName, t, dims, n.GetName())
		return fmt.Sprintf("removed broadcast=1 and axis=%d: B %v reshaped to %v for numpy broadcasting", axisAttr.GetI(), t.GetDims(), dims), nil
	}
	n.Inputs[1] = s.unsqueeze(n.GetName()+"_unsqueeze", bName, axes)
	return fmt.Sprintf("removed broadcast=1 and axis=%d: B unsqueezed at axes %v for numpy broadcasting", axisAttr.GetI(), axes), nil
}

func ones(k int) []int64 {
	o := make([]int64, k)
	for i := range o {
		o[i] = 1
	}
	return o
}

// dropIsTest: BatchNormalization and Dropout lost is_test at 7; they run
// in inference mode (as every runtime runs the old ones).
func dropIsTest(s *scope, n *potv1.Node, v int64) (string, error) {
	a := takeAttr(n, "is_test")
	if a == nil {
		return "", nil
	}
	if a.GetI() == 0 {
		return "removed is_test=0: the node runs in inference mode, as runtimes run the old one", nil
	}
	return "removed is_test", nil
}

// upsampleScalesAttr: experimental Upsample-1 had height_scale and
// width_scale of a 4-D input; Upsample-7 has scales per axis.
func upsampleScalesAttr(s *scope, n *potv1.Node, v int64) (string, error) {
	h, w := graph.Attr(n, "height_scale"), graph.Attr(n, "width_scale")
	if h == nil || w == nil {
		if _, ok, _ := attrFloats(n, "scales"); ok {
			return "", nil
		}
		return "", fmt.Errorf("Upsample-1 needs height_scale and width_scale")
	}
	takeAttr(n, "height_scale")
	takeAttr(n, "width_scale")
	if r := s.rank(input(n, 0)); r >= 0 && r != 4 {
		return "", fmt.Errorf("Upsample-1 scales a 4-D input; %q has rank %d", input(n, 0), r)
	}
	setFloats(n, "scales", []float32{1, 1, h.GetF(), w.GetF()})
	what := fmt.Sprintf("height_scale %g and width_scale %g made scales", h.GetF(), w.GetF())
	if m, _ := attrString(n, "mode", "nearest"); m == "bilinear" {
		setString(n, "mode", "linear")
		what += ", mode bilinear made linear"
	}
	return what, nil
}

// upsampleScalesInput: Upsample-9 takes the scales as an input.
func upsampleScalesInput(s *scope, n *potv1.Node, v int64) (string, error) {
	scales, ok, err := attrFloats(n, "scales")
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("Upsample-7 without scales")
	}
	takeAttr(n, "scales")
	f := make([]float64, len(scales))
	for i, x := range scales {
		f[i] = float64(x)
	}
	name, err := s.floats(n.GetName()+"_scales", dtFloat, []int64{int64(len(f))}, f)
	if err != nil {
		return "", err
	}
	n.Inputs = []string{input(n, 0), name}
	return "scales attribute made an input", nil
}

// upsampleToResize: opset 10 deprecated Upsample for Resize-10, which
// has the same inputs and modes.
func upsampleToResize(s *scope, n *potv1.Node, v int64) (string, error) {
	n.OpType = "Resize"
	return "replaced by Resize", nil
}

// batchNormSpatial: BatchNormalization-9 lost spatial. spatial=1 (the
// default) is what remains; spatial=0 (statistics per element, of shape
// C×D1×…×Dn) becomes the elementwise formula.
func batchNormSpatial(s *scope, n *potv1.Node, v int64) (string, error) {
	a := takeAttr(n, "spatial")
	if a == nil {
		return "", nil
	}
	if a.GetI() != 0 {
		return "removed spatial=1", nil
	}
	if err := arity(n, 5, 1); err != nil {
		return "", err
	}
	for _, o := range n.GetOutputs()[1:] {
		if o != "" {
			return "", fmt.Errorf("spatial=0 with training outputs (%q) has no opset-9 equivalent", o)
		}
	}
	if len(n.GetInputs()) != 5 {
		return "", fmt.Errorf("%d inputs, want 5", len(n.GetInputs()))
	}
	x, scale, bias, mean, variance := n.Inputs[0], n.Inputs[1], n.Inputs[2], n.Inputs[3], n.Inputs[4]
	rx, rm := s.rank(x), s.rank(mean)
	if rx == 2 {
		return "removed spatial=0 (a 2-D input normalizes per channel either way)", nil
	}
	if rx < 0 || rm < 0 || rm != rx-1 {
		return "", fmt.Errorf("spatial=0 needs the input's rank and statistics of shape C×D1×…×Dn (one axis less): ranks %d and %d", rx, rm)
	}
	eps, err := attrFloat(n, "epsilon", 1e-5)
	if err != nil {
		return "", err
	}
	dt, err := s.floatType(x)
	if err != nil {
		return "", err
	}
	epsName, err := s.floats(n.GetName()+"_epsilon", dt, nil, []float64{float64(eps)})
	if err != nil {
		return "", err
	}
	bin := func(op, suffix, a, b string) string {
		m := s.newNode(op, n.GetName()+"_"+suffix, []string{a, b}, 1)
		s.emit(m)
		return m.Outputs[0]
	}
	centred := bin("Sub", "centre", x, mean)
	varEps := bin("Add", "var_eps", variance, epsName)
	sd := s.newNode("Sqrt", n.GetName()+"_std", []string{varEps}, 1)
	s.emit(sd)
	normal := bin("Div", "normalize", centred, sd.Outputs[0])
	scaled := bin("Mul", "scale", normal, scale)
	n.OpType, n.Attributes, n.Inputs, n.Outputs = "Add", nil, []string{scaled, bias}, n.Outputs[:1]
	return "spatial=0 rewritten as (x - mean) / sqrt(var + epsilon) * scale + B", nil
}

// preluSlope: before 7, a 1-D slope held one value per channel (axis 1);
// from 7 it broadcasts as numpy does (aligned to the last axis).
func preluSlope(s *scope, n *potv1.Node, v int64) (string, error) {
	if err := arity(n, 2, 1); err != nil {
		return "", err
	}
	x, slope := input(n, 0), input(n, 1)
	t := s.konst(slope)
	if t != nil && graphNumElements(t.GetDims()) == 1 {
		return "", nil
	}
	rs, rx := s.rank(slope), s.rank(x)
	if rs < 0 || rx < 0 {
		return "", fmt.Errorf("PRelu-6's slope broadcasts per channel, and pot cannot tell the ranks of %q and %q to keep that", x, slope)
	}
	if rs != 1 || rx <= 2 {
		return "", nil // already aligned the numpy way
	}
	k := rx - 2
	if t != nil {
		dims := append(append([]int64{}, t.GetDims()...), ones(k)...)
		n.Inputs[1] = s.reshaped(slope, t, dims, n.GetName())
		return fmt.Sprintf("per-channel slope %v reshaped to %v", t.GetDims(), dims), nil
	}
	axes := make([]int64, k)
	for i := range axes {
		axes[i] = int64(1 + i)
	}
	n.Inputs[1] = s.unsqueeze(n.GetName()+"_slope", slope, axes)
	return fmt.Sprintf("per-channel slope unsqueezed at axes %v", axes), nil
}

func graphNumElements(dims []int64) int64 {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	return n
}

// sliceInputs: Slice-10 takes starts, ends and axes as inputs.
func sliceInputs(s *scope, n *potv1.Node, v int64) (string, error) {
	starts, ok1, err1 := attrInts(n, "starts")
	ends, ok2, err2 := attrInts(n, "ends")
	axes, ok3, err3 := attrInts(n, "axes")
	for _, err := range []error{err1, err2, err3} {
		if err != nil {
			return "", err
		}
	}
	if !ok1 || !ok2 {
		return "", fmt.Errorf("Slice-1 needs starts and ends")
	}
	for _, a := range []string{"starts", "ends", "axes"} {
		takeAttr(n, a)
	}
	n.Inputs = []string{input(n, 0), s.int64s(n.GetName()+"_starts", starts), s.int64s(n.GetName()+"_ends", ends)}
	if ok3 {
		n.Inputs = append(n.Inputs, s.int64s(n.GetName()+"_axes", axes))
	}
	return "starts, ends and axes made inputs", nil
}

// topKInput: TopK-10 takes k as an input.
func topKInput(s *scope, n *potv1.Node, v int64) (string, error) {
	k, err := attrInt(n, "k", -1)
	if err != nil {
		return "", err
	}
	if k < 0 {
		return "", fmt.Errorf("TopK-1 needs k")
	}
	takeAttr(n, "k")
	n.Inputs = []string{input(n, 0), s.int64s(n.GetName()+"_k", []int64{k})}
	return fmt.Sprintf("k = %d made an input", k), nil
}

// dropoutBoolMask: Dropout-10's mask is bool (it had the data's type).
// A mask nobody reads is dropped; one that is read is cast back.
func dropoutBoolMask(s *scope, n *potv1.Node, v int64) (string, error) {
	if len(n.GetOutputs()) < 2 || n.Outputs[1] == "" {
		return "", nil
	}
	mask := n.Outputs[1]
	if s.u.used[mask] == 0 {
		n.Outputs = n.Outputs[:1]
		return "dropped the unused mask output (its type became bool)", nil
	}
	dt, err := s.floatType(input(n, 0))
	if err != nil {
		return "", fmt.Errorf("mask: %w", err)
	}
	b := s.u.fresh(mask + "_bool")
	n.Outputs[1] = b
	c := &potv1.Node{Name: s.u.fresh(n.GetName() + "_mask"), OpType: "Cast", Inputs: []string{b}, Outputs: []string{mask}}
	setInt(c, "to", int64(dt))
	s.emitAfter(c)
	return fmt.Sprintf("bool mask cast back to %s", dtName(dt)), nil
}

// dropoutRatioInput: Dropout-12 takes the ratio as an input.
func dropoutRatioInput(s *scope, n *potv1.Node, v int64) (string, error) {
	a := takeAttr(n, "ratio")
	if a == nil {
		return "", nil
	}
	name, err := s.floats(n.GetName()+"_ratio", dtFloat, nil, []float64{float64(a.GetF())})
	if err != nil {
		return "", err
	}
	n.Inputs = []string{input(n, 0), name}
	return "ratio attribute made an input", nil
}

// clipInputs: Clip-11 takes min and max as inputs of the data's type.
func clipInputs(s *scope, n *potv1.Node, v int64) (string, error) {
	mn, mx := takeAttr(n, "min"), takeAttr(n, "max")
	if mn == nil && mx == nil {
		return "", nil
	}
	x := input(n, 0)
	dt, err := s.floatType(x)
	if err != nil {
		return "", err
	}
	n.Inputs = []string{x}
	var what []string
	if mn != nil {
		name, err := s.floats(n.GetName()+"_min", dt, nil, []float64{float64(mn.GetF())})
		if err != nil {
			return "", err
		}
		setInput(n, 1, name)
		what = append(what, fmt.Sprintf("min %g", mn.GetF()))
	}
	if mx != nil {
		name, err := s.floats(n.GetName()+"_max", dt, nil, []float64{float64(mx.GetF())})
		if err != nil {
			return "", err
		}
		setInput(n, 2, name)
		what = append(what, fmt.Sprintf("max %g", mx.GetF()))
	}
	return strings.Join(what, " and ") + " made inputs", nil
}

// padInputs: Pad-11 takes pads and the constant value as inputs.
func padInputs(s *scope, n *potv1.Node, v int64) (string, error) {
	pads, ok, err := attrInts(n, "pads")
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("Pad-2 needs pads")
	}
	mode, err := attrString(n, "mode", "constant")
	if err != nil {
		return "", err
	}
	takeAttr(n, "pads")
	val := takeAttr(n, "value")
	x := input(n, 0)
	n.Inputs = []string{x, s.int64s(n.GetName()+"_pads", pads)}
	what := "pads made an input"
	if mode == "constant" && val != nil && val.GetF() != 0 {
		dt, err := s.floatType(x)
		if err != nil {
			return "", err
		}
		name, err := s.floats(n.GetName()+"_value", dt, nil, []float64{float64(val.GetF())})
		if err != nil {
			return "", err
		}
		n.Inputs = append(n.Inputs, name)
		what = fmt.Sprintf("pads and value %g made inputs", val.GetF())
	}
	return what, nil
}

// resizeCoordinates: Resize-11 added roi (input 1, scales moves to 2)
// and the coordinate_transformation_mode and nearest_mode attributes,
// whose defaults (half_pixel, round_prefer_floor) differ from what
// Resize-10 and Upsample did: input coordinate = output coordinate /
// scale (asymmetric), rounded down when upsampling and up when
// downsampling (as ONNX Runtime runs them).
func resizeCoordinates(s *scope, n *potv1.Node, v int64) (string, error) {
	x, scales := input(n, 0), input(n, 1)
	roi := ""
	if s.u.to < 13 {
		// Resize-11 and 12 need a roi input; only tf_crop_and_resize reads it.
		t, err := floatTensor(dtFloat, []int64{0}, nil)
		if err != nil {
			return "", err
		}
		roi = s.constant(n.GetName()+"_roi", t)
	}
	n.Inputs = []string{x, roi, scales}
	setString(n, "coordinate_transformation_mode", "asymmetric")
	mode, err := attrString(n, "mode", "nearest")
	if err != nil {
		return "", err
	}
	what := "scales moved to input 2, coordinate_transformation_mode asymmetric"
	if mode != "nearest" {
		return what, nil
	}
	rounding := "floor"
	if t := s.konst(scales); t != nil {
		f, err := numbers(t)
		if err != nil {
			return "", fmt.Errorf("scales: %w", err)
		}
		var up, down bool
		for _, sc := range f {
			switch {
			case sc > 1:
				up = true
			case sc < 1 && sc > 0 && 1/sc != math.Trunc(1/sc):
				down = true // output / scale falls between inputs: rounded up
			}
		}
		if up && down {
			return "", fmt.Errorf("nearest mode with scales %v upsamples some axes (rounding down) and downsamples others (rounding up), which no single nearest_mode of Resize-11 does", f)
		}
		if down {
			rounding = "ceil"
		}
	} else if s.origOp != "Upsample" {
		what += " (scales computed at run time: nearest_mode floor assumes upsampling, as Upsample)"
	}
	setString(n, "nearest_mode", rounding)
	return what + ", nearest_mode " + rounding, nil
}

// scatterElements: opset 11 deprecated Scatter for ScatterElements, the
// same operator.
func scatterElements(s *scope, n *potv1.Node, v int64) (string, error) {
	n.OpType = "ScatterElements"
	return "replaced by ScatterElements", nil
}

// softmaxOneAxis: before 13, Softmax, LogSoftmax and Hardmax coerced the
// input to 2-D at axis (dimensions before it batch, from it on one
// vector); from 13 they work along the one axis. When axis is the last
// one, nothing changes but the default (1 became -1); otherwise the node
// runs on Flatten(axis) and its result is reshaped back.
func softmaxOneAxis(s *scope, n *potv1.Node, v int64) (string, error) {
	if err := arity(n, 1, 1); err != nil {
		return "", err
	}
	axisAttr := graph.Attr(n, "axis")
	axis, err := attrInt(n, "axis", 1)
	if err != nil {
		return "", err
	}
	x := input(n, 0)
	if r := s.rank(x); r > 0 {
		a := axis
		if a < 0 {
			a += int64(r)
		}
		if a == int64(r-1) {
			if axisAttr != nil {
				return "", nil
			}
			setInt(n, "axis", axis)
			return "axis = 1 (the old default) made explicit", nil
		}
	}
	flat := s.newNode("Flatten", n.GetName()+"_flatten", []string{x}, 1)
	setInt(flat, "axis", axis)
	s.emit(flat)
	shape := s.newNode("Shape", n.GetName()+"_shape", []string{x}, 1)
	s.emit(shape)
	n.Inputs[0] = flat.Outputs[0]
	setInt(n, "axis", 1)
	out := n.Outputs[0]
	n.Outputs[0] = s.u.fresh(out + "_2d")
	back := &potv1.Node{Name: s.u.fresh(n.GetName() + "_reshape"), OpType: "Reshape", Inputs: []string{n.Outputs[0], shape.Outputs[0]}, Outputs: []string{out}}
	s.emitAfter(back)
	return fmt.Sprintf("axis %d: runs on Flatten(axis=%d), reshaped back to the input's shape", axis, axis), nil
}

// axesInput: ReduceSum-13, Squeeze-13 and Unsqueeze-13 take axes as an
// input.
func axesInput(s *scope, n *potv1.Node, v int64) (string, error) {
	axes, ok, err := attrInts(n, "axes")
	if err != nil {
		return "", err
	}
	if !ok {
		if n.GetOpType() == "Unsqueeze" {
			return "", fmt.Errorf("Unsqueeze needs axes")
		}
		return "", nil
	}
	takeAttr(n, "axes")
	n.Inputs = []string{input(n, 0), s.int64s(n.GetName()+"_axes", axes)}
	return "axes made an input", nil
}

// splitAttrToInput: Split-13 takes the lengths as an input.
func splitAttrToInput(s *scope, n *potv1.Node, v int64) (string, error) {
	split, ok, err := attrInts(n, "split")
	if err != nil {
		return "", err
	}
	if !ok {
		return "", nil
	}
	takeAttr(n, "split")
	n.Inputs = []string{input(n, 0), s.int64s(n.GetName()+"_split", split)}
	return "split made an input", nil
}

// rewriteExperimental replaces an experimental operator of opsets 1 to 9
// (which opset 10 removed) by standard ones.
func rewriteExperimental(s *scope, n *potv1.Node) (string, error) {
	switch n.GetOpType() {
	case "ThresholdedRelu":
		// ThresholdedRelu-10 is the experimental one made standard.
		return "experimental ThresholdedRelu made ThresholdedRelu-10 (same definition)", nil
	case "ImageScaler":
		// y = scale * x + bias[c] on an NCHW input.
		if err := arity(n, 1, 1); err != nil {
			return "", err
		}
		scale, err := attrFloat(n, "scale", 1)
		if err != nil {
			return "", err
		}
		bias, _, err := attrFloats(n, "bias")
		if err != nil {
			return "", err
		}
		x := input(n, 0)
		dt, err := s.floatType(x)
		if err != nil {
			return "", err
		}
		sc, err := s.floats(n.GetName()+"_scale", dt, nil, []float64{float64(scale)})
		if err != nil {
			return "", err
		}
		mul := s.newNode("Mul", n.GetName()+"_mul", []string{x, sc}, 1)
		s.emit(mul)
		b := make([]float64, len(bias))
		for i, f := range bias {
			b[i] = float64(f)
		}
		bn, err := s.floats(n.GetName()+"_bias", dt, []int64{int64(len(b)), 1, 1}, b)
		if err != nil {
			return "", err
		}
		n.OpType, n.Attributes, n.Inputs = "Add", nil, []string{mul.Outputs[0], bn}
		return fmt.Sprintf("experimental ImageScaler rewritten as x * %g + bias (per channel)", scale), nil
	}
	return "", fmt.Errorf("experimental operator %s has no rewrite", n.GetOpType())
}
