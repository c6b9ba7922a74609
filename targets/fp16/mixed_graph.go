package fp16

import (
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// scope is one graph of a model — the main graph or the body of an If,
// Loop or Scan — as the mixed-precision rules see it: its nodes in
// topological order, who produces and who reads each value, its
// initializers, and which values are floating point. Values of an
// enclosing graph have no producer in the scope, as the parameters of an
// OpenVINO body have none.
type scope struct {
	g     *potv1.Graph
	x     *graph.Index  // of g alone: producers, explicit readers, initializers
	nodes []*potv1.Node // topological order
	real  map[string]bool
}

func newScope(g *potv1.Graph) *scope {
	s := &scope{g: g, x: graph.NewScopeIndex(g)}
	// Topological order (explicit and implicit inputs: the outer values
	// its subgraphs read); values without a producer here are defined
	// elsewhere. A graph with a cycle keeps its file order.
	s.nodes = g.GetNodes()
	if order, err := graph.Order(g, func(name string) bool { return s.x.Producer(name) == nil }); err == nil {
		s.nodes = order
	}
	s.real = s.realValues()
	return s
}

// isRealType reports whether values of type dt are floating point.
func isRealType(dt potv1.DataType) bool {
	switch dt {
	case potv1.DataType_DATA_TYPE_FLOAT, potv1.DataType_DATA_TYPE_FLOAT16, potv1.DataType_DATA_TYPE_DOUBLE,
		potv1.DataType_DATA_TYPE_BFLOAT16, potv1.DataType_DATA_TYPE_FLOAT8E4M3FN, potv1.DataType_DATA_TYPE_FLOAT8E4M3FNUZ,
		potv1.DataType_DATA_TYPE_FLOAT8E5M2, potv1.DataType_DATA_TYPE_FLOAT8E5M2FNUZ:
		return true
	}
	return false
}

// realValues infers which values of the scope are floating point, as
// OpenVINO's rules test edges with is_real(): from the declared types
// (inputs, outputs, value_info, initializers) and, for computed values,
// from the operator. A value whose type cannot be told counts as real;
// a wrong guess only lets a mark cross an integer edge, where the policy
// has nothing to round.
func (s *scope) realValues() map[string]bool {
	real := map[string]bool{}
	declared := map[string]bool{}
	for _, vi := range append(append(append([]*potv1.ValueInfo{}, s.g.GetInputs()...), s.g.GetValueInfo()...), s.g.GetOutputs()...) {
		if vi.GetDtype() != potv1.DataType_DATA_TYPE_UNDEFINED {
			real[vi.GetName()] = isRealType(vi.GetDtype())
			declared[vi.GetName()] = true
		}
	}
	for _, t := range s.g.GetInitializers() {
		real[t.GetName()] = isRealType(t.GetDtype())
		declared[t.GetName()] = true
	}
	isReal := func(name string) bool {
		if r, ok := real[name]; ok {
			return r
		}
		return true
	}
	for _, n := range s.nodes {
		for i, o := range n.GetOutputs() {
			if o != "" && !declared[o] {
				real[o] = outputIsReal(n, i, isReal)
			}
		}
	}
	return real
}

// outputIsReal tells whether output i of n is floating point, given the
// realness of its inputs.
func outputIsReal(n *potv1.Node, i int, isReal func(string) bool) bool {
	in := func(k int) bool {
		if k < len(n.GetInputs()) && n.GetInputs()[k] != "" {
			return isReal(n.GetInputs()[k])
		}
		return true
	}
	if IsQuantizer(n) {
		return n.GetOpType() != "QuantizeLinear"
	}
	switch n.GetOpType() {
	case "Shape", "Size", "NonZero", "ArgMax", "ArgMin", "NonMaxSuppression", "Equal", "Less", "Greater",
		"LessOrEqual", "GreaterOrEqual", "Not", "And", "Or", "Xor", "IsNaN", "IsInf", "MatMulInteger",
		"ConvInteger", "QLinearConv", "QLinearMatMul", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor",
		"BitwiseNot", "StringNormalizer", "RegexFullMatch", "StringSplit", "StringConcat":
		return false
	case "TopK", "Unique", "MaxPool", "Dropout":
		return i == 0 && in(0)
	case "DynamicQuantizeLinear":
		return i == 1
	case "Cast":
		return isRealType(potv1.DataType(graph.AttrInt(n, "to", 1)))
	case "CastLike":
		return in(1)
	case "Where":
		return in(1)
	case "Constant", "ConstantOfShape":
		for _, a := range n.GetAttributes() {
			switch a.GetName() {
			case "value":
				return isRealType(a.GetT().GetDtype())
			case "value_int", "value_ints", "value_string", "value_strings":
				return false
			}
		}
		return true
	case "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "EyeLike", "Multinomial", "Bernoulli":
		if a := graph.AttrInt(n, "dtype", -1); a >= 0 {
			return isRealType(potv1.DataType(a))
		}
		return n.GetOpType() != "Multinomial" && in(0)
	case "If", "Loop", "Scan":
		return true
	}
	return in(0)
}

// constValues returns the values of a constant of the scope — an
// initializer, a Constant node's output, or either through a Cast (the
// optional Convert of OpenVINO's patterns) — as float64s.
func (s *scope) constValues(name string) ([]float64, bool) {
	var t *potv1.Tensor
	if init := s.x.Initializer(name); init != nil {
		t = init
	} else if p := s.x.Producer(name); p != nil && graph.IsONNX(p) {
		switch p.GetOpType() {
		case "Cast":
			if len(p.GetInputs()) == 1 {
				return s.constValues(p.GetInputs()[0])
			}
			return nil, false
		case "Constant":
			for _, a := range p.GetAttributes() {
				switch a.GetName() {
				case "value":
					t = a.GetT()
				case "value_float":
					return []float64{float64(a.GetF())}, true
				case "value_floats":
					v := make([]float64, len(a.GetFloats()))
					for i, f := range a.GetFloats() {
						v[i] = float64(f)
					}
					return v, true
				case "value_int":
					return []float64{float64(a.GetI())}, true
				case "value_ints":
					v := make([]float64, len(a.GetInts()))
					for i, f := range a.GetInts() {
						v[i] = float64(f)
					}
					return v, true
				}
			}
		}
	}
	if t == nil {
		return nil, false
	}
	v, err := rt.FromProto(t)
	if err != nil {
		return nil, false
	}
	return numbers(v)
}

func numbers(t *tensor.Tensor) ([]float64, bool) {
	v, err := t.Float64s()
	if err != nil {
		return nil, false
	}
	return v, true
}

// isFakeQuantize reports whether n acts as OpenVINO's FakeQuantize: pot's
// FakeQuantize simulation node, or a DequantizeLinear (OpenVINO turns a
// QuantizeLinear/DequantizeLinear pair into one FakeQuantize).
func isFakeQuantize(n *potv1.Node) bool {
	if n.GetDomain() == plan.FakeQuantizeDomain {
		return n.GetOpType() == plan.FakeQuantizeOp
	}
	return IsQuantizer(n) && n.GetOpType() == "DequantizeLinear"
}
