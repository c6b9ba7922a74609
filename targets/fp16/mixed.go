package fp16

import (
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// KeepAttr is the attribute Lower sets (integer 1) on the nodes a float16
// device keeps in float32, OpenVINO's disable_fp16_compression runtime
// attribute: Policy leaves their outputs unrounded.
const KeepAttr = "pot.disable_fp16_compression"

// KeepsFloat32 reports whether n carries KeepAttr.
func KeepsFloat32(n *potv1.Node) bool {
	return graph.AttrInt(n, KeepAttr, 0) != 0
}

// float16MinNormal is the smallest normal half, 2^-14: OpenVINO's
// float16_min_normalized, the largest eps of a protected division.
const float16MinNormal = 1.0 / 16384

// The ONNX operators in the roles OpenVINO's rules give to the operators
// its ONNX frontend makes of them (see doc.go).
var (
	// propagateOps carry the mark to their neighbours (OpenVINO's
	// propagate_through_ops): data movement, every binary and unary
	// elementwise arithmetic operation, the reductions ReduceSum and
	// ReduceMean, MVN, Sqrt, Cast (only up to a constant) and constants.
	propagateOps = opSet("Squeeze", "Unsqueeze", "Reshape", "Flatten", "Expand", "Slice", "Split", "Concat", "Tile",
		"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Mod", "Sum", "Mean",
		"Abs", "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Ceil", "Clip", "Cos", "Cosh", "Elu", "Erf",
		"Exp", "Floor", "Gelu", "HardSwish", "Log", "Mish", "Neg", "Relu", "Round", "Sigmoid", "Sign", "Sin",
		"Sinh", "Softplus", "Softsign", "Sqrt", "Tan", "Tanh", "Reciprocal",
		"ReduceSum", "ReduceMean", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp",
		"MeanVarianceNormalization", "LayerNormalization", "LpNormalization",
		"Cast", "Constant", "Identity", "Dropout")
	// reduceOps end the paths along which Exp is precision sensitive:
	// OpenVINO's ReduceSum and ReduceMean, and the ONNX reductions its
	// frontend builds on ReduceSum.
	reduceOps = opSet("ReduceSum", "ReduceMean", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp")
	// quantPropagateOps pass the quantized (fq_path) state down from a
	// FakeQuantize (PropagateDownDisableSensitivityForQuantized).
	quantPropagateOps = opSet("Squeeze", "Unsqueeze", "Reshape", "Flatten", "Expand", "DepthToSpace", "Resize",
		"Upsample", "MaxPool", "Pad", "ReduceMax", "ReduceMin", "Relu", "Transpose", "Slice", "Split", "Concat",
		"Tile", "Identity", "Dropout")
	// rangeOps carry the mark down from a floating-point Range
	// (MarkFloatingPointRange).
	rangeOps = opSet("Cast", "Greater", "GreaterOrEqual", "Less", "LessOrEqual", "Reshape", "Range", "Squeeze", "Unsqueeze")
	// shapeInputs are the precision-sensitive inputs (shapes, sizes,
	// scales, repeats, bounds) whose whole producing subgraph, up to the
	// Shape nodes, stays in float32.
	shapeInputs = map[string][]int{
		"Reshape": {1}, "Expand": {1}, "Tile": {1}, "Resize": {1, 2, 3}, "Upsample": {1}, "TopK": {1},
		"OneHot": {1}, "ConstantOfShape": {0}, "Slice": {1, 2, 3, 4},
	}
)

func opSet(ops ...string) map[string]bool {
	m := make(map[string]bool, len(ops))
	for _, op := range ops {
		m[op] = true
	}
	return m
}

func is(set map[string]bool, n *potv1.Node) bool { return graph.IsONNX(n) && set[n.GetOpType()] }

// marking is the result of the rules on one scope: the nodes and the
// initializers kept in float32.
type marking struct {
	nodes map[*potv1.Node]bool
	inits map[string]bool
}

// markKeepFP32 applies the rules of OpenVINO's
// MarkSugraphsToKeepInMixedPrecision to one graph, in OpenVINO's order:
// floating-point Range paths, divisions protected by a small eps, Exp
// feeding a ReduceSum or ReduceMean, quantized paths, propagation down,
// propagation up, shape subgraphs. Subgraphs are marked on their own by
// the caller, as OpenVINO marks the bodies of If and Loop.
func markKeepFP32(s *scope) marking {
	m := marking{nodes: map[*potv1.Node]bool{}, inits: map[string]bool{}}
	s.markRange(m)
	s.markDivWithEps(m)
	s.markExpInReducePath(m)
	fq := s.quantizedPaths(m)
	s.propagateDown(m, fq)
	s.propagateUp(m)
	s.markShapeSubgraphs(m)
	return m
}

// markRange marks a Range with a floating-point output and, downwards,
// the Cast, comparison and reshaping nodes fed by it.
func (s *scope) markRange(m marking) {
	path := map[*potv1.Node]bool{}
	for _, n := range s.nodes {
		if !is(rangeOps, n) {
			continue
		}
		if n.GetOpType() == "Range" && len(n.GetOutputs()) > 0 && s.real[n.GetOutputs()[0]] {
			path[n], m.nodes[n] = true, true
			continue
		}
		for _, in := range n.GetInputs() {
			if p := s.x.Producer(in); p != nil && path[p] {
				path[n], m.nodes[n] = true, true
			}
		}
	}
}

// markDivWithEps marks the root of a division guarded by a small eps:
// a / (b + eps), a / max(b, eps), a / sqrt(b + eps), a / sqrt(max(b, eps))
// and a * pow(b + eps, z) or a * pow(max(b, eps), z) with z < 0, every
// eps at most the smallest normal half. Reciprocal(x) is 1 / x, and
// LpNormalization is x / (‖x‖ + 0) in OpenVINO's ONNX frontend.
func (s *scope) markDivWithEps(m marking) {
	for _, n := range s.nodes {
		if !graph.IsONNX(n) {
			continue
		}
		in := n.GetInputs()
		switch n.GetOpType() {
		case "Div":
			if len(in) == 2 && s.epsDivisor(in[1]) {
				m.nodes[n] = true
			}
		case "Reciprocal":
			if len(in) == 1 && s.epsDivisor(in[0]) {
				m.nodes[n] = true
			}
		case "LpNormalization":
			if p := graph.AttrInt(n, "p", 2); p == 1 || p == 2 {
				m.nodes[n] = true
			}
		case "Mul":
			for _, x := range in {
				p := s.x.Producer(x)
				if p == nil || !graph.IsONNX(p) || p.GetOpType() != "Pow" || len(p.GetInputs()) != 2 {
					continue
				}
				if s.addOrMaxEps(p.GetInputs()[0]) && s.allConst(p.GetInputs()[1], func(z float64) bool { return z < 0 }) {
					m.nodes[n] = true
				}
			}
		}
	}
}

// epsDivisor reports whether name is Add(b, eps) or Max(b, eps), possibly
// under a Sqrt.
func (s *scope) epsDivisor(name string) bool {
	if p := s.x.Producer(name); p != nil && graph.IsONNX(p) && p.GetOpType() == "Sqrt" && len(p.GetInputs()) == 1 {
		name = p.GetInputs()[0]
	}
	return s.addOrMaxEps(name)
}

// addOrMaxEps reports whether name is Add or Max of something and a
// constant eps ≤ 2^-14 (either operand: both are commutative).
func (s *scope) addOrMaxEps(name string) bool {
	p := s.x.Producer(name)
	if p == nil || !graph.IsONNX(p) || (p.GetOpType() != "Add" && p.GetOpType() != "Max") || len(p.GetInputs()) != 2 {
		return false
	}
	small := func(v float64) bool { return v <= float16MinNormal }
	return s.allConst(p.GetInputs()[0], small) || s.allConst(p.GetInputs()[1], small)
}

// allConst reports whether name is a constant all values of which
// satisfy ok.
func (s *scope) allConst(name string, ok func(float64) bool) bool {
	v, isConst := s.constValues(name)
	if !isConst {
		return false
	}
	for _, x := range v {
		if !ok(x) {
			return false
		}
	}
	return true
}

// markExpInReducePath marks each Exp from which a path of propagating
// nodes leads, over floating-point edges, into a ReduceSum or ReduceMean
// (softmax written out: exp(x) / sum(exp(x))).
func (s *scope) markExpInReducePath(m marking) {
	path := map[*potv1.Node]bool{}
	for i := len(s.nodes) - 1; i >= 0; i-- {
		n := s.nodes[i]
		if is(reduceOps, n) {
			path[n] = true
		} else if is(propagateOps, n) && s.anyRealReader(n, path) {
			path[n] = true
		}
		if path[n] && graph.IsONNX(n) && n.GetOpType() == "Exp" {
			m.nodes[n] = true
		}
	}
	// ReduceLogSumExp is log(sum(exp(x))): its Exp feeds its ReduceSum.
	for _, n := range s.nodes {
		if graph.IsONNX(n) && n.GetOpType() == "ReduceLogSumExp" {
			m.nodes[n] = true
		}
	}
}

// anyRealReader reports whether a node in set reads a floating-point
// output of n.
func (s *scope) anyRealReader(n *potv1.Node, set map[*potv1.Node]bool) bool {
	for _, o := range n.GetOutputs() {
		if o == "" || !s.real[o] {
			continue
		}
		for _, r := range s.x.Consumers(o) {
			if set[r.Node] {
				return true
			}
		}
	}
	return false
}

// quantizedPaths returns the FakeQuantize nodes and the data-movement
// nodes below them (fq_path), unmarking the latter: quantized subgraphs
// stay in half, where the int8 kernels are.
func (s *scope) quantizedPaths(m marking) map[*potv1.Node]bool {
	fq := map[*potv1.Node]bool{}
	for _, n := range s.nodes {
		if isFakeQuantize(n) {
			fq[n] = true
			continue
		}
		if !is(quantPropagateOps, n) {
			continue
		}
		for _, in := range n.GetInputs() {
			if p := s.x.Producer(in); p != nil && fq[p] {
				fq[n] = true
				delete(m.nodes, n)
			}
		}
	}
	return fq
}

// propagateDown marks, in topological order, each propagating node (Cast
// excepted) whose first floating-point input that is marked or quantized
// is marked; a node whose such input is quantized is unmarked, even a
// root marked by the patterns.
func (s *scope) propagateDown(m marking, fq map[*potv1.Node]bool) {
	for _, n := range s.nodes {
		if !is(propagateOps, n) || n.GetOpType() == "Cast" {
			continue
		}
		for _, in := range n.GetInputs() {
			if in == "" || !s.real[in] {
				continue
			}
			p := s.x.Producer(in)
			if p == nil {
				continue
			}
			if fq[p] {
				delete(m.nodes, n)
				break
			}
			if m.nodes[p] {
				m.nodes[n] = true
				break
			}
		}
	}
}

// propagateUp marks, in reverse topological order, each propagating node
// a marked node reads over a floating-point edge — a Cast only when it
// casts a constant — and the floating-point initializers marked nodes
// read.
func (s *scope) propagateUp(m marking) {
	for i := len(s.nodes) - 1; i >= 0; i-- {
		n := s.nodes[i]
		if !is(propagateOps, n) || m.nodes[n] || !s.anyRealReader(n, m.nodes) {
			continue
		}
		if n.GetOpType() == "Cast" {
			if len(n.GetInputs()) != 1 {
				continue
			}
			if _, isConst := s.constValues(n.GetInputs()[0]); !isConst {
				continue
			}
		}
		m.nodes[n] = true
	}
	for _, t := range s.g.GetInitializers() {
		name := t.GetName()
		if !s.real[name] {
			continue
		}
		for _, r := range s.x.Consumers(name) {
			if m.nodes[r.Node] {
				m.inits[name] = true
				break
			}
		}
	}
}

// markShapeSubgraphs marks everything that computes a precision-sensitive
// input — a shape, sizes, scales, repeats, slice bounds — up to, not
// including, the Shape (or Size) nodes it starts from.
func (s *scope) markShapeSubgraphs(m marking) {
	visited := map[string]bool{}
	var stack []string
	for _, n := range s.nodes {
		if !graph.IsONNX(n) {
			continue
		}
		for _, i := range shapeInputs[n.GetOpType()] {
			if i < len(n.GetInputs()) && n.GetInputs()[i] != "" {
				stack = append(stack, n.GetInputs()[i])
			}
		}
	}
	for len(stack) > 0 {
		name := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if visited[name] {
			continue
		}
		visited[name] = true
		if s.x.Initializer(name) != nil {
			m.inits[name] = true
			continue
		}
		p := s.x.Producer(name)
		if p == nil || (graph.IsONNX(p) && (p.GetOpType() == "Shape" || p.GetOpType() == "Size")) {
			continue
		}
		m.nodes[p] = true
		for _, in := range p.GetInputs() {
			if in != "" {
				stack = append(stack, in)
			}
		}
	}
}
