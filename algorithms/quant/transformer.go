package quant

import (
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// The operations of transformers in the forms PyTorch exports below opset
// 17 (and 20 for Gelu), which POT saw fused: OpenVINO's Model Optimizer
// turns these chains into MVN, Gelu and SoftMax before POT places its
// quantizers. pot recognizes them on the ONNX graph so that quantizers go
// where POT's would: on the input of the MVN (as the hardware config's
// MeanVarianceNormalization entry says), never inside a chain, and not at
// all around Gelu and SoftMax, which no hardware config quantizes.

// MVNType is the hardware-config type of mean-variance normalizations:
// ONNX's MeanVarianceNormalization and LayerNormalization, and the head
// (the first ReduceMean) of a decomposed layer normalization.
const MVNType = "MeanVarianceNormalization"

// layerNorm is a decomposed layer normalization:
//
//	mean = ReduceMean(x); d = x - mean
//	y = d / Sqrt(ReduceMean(d^2) + eps)     (or d · Reciprocal(Sqrt(...)))
//	y = y · gamma + beta                    (the optional affine part)
type layerNorm struct {
	input string
	head  *potv1.Node // ReduceMean(x)
	sub   *potv1.Node // x - mean
	// inner are the nodes after sub up to the normalized output; affine
	// the scale and shift after it (POT's mvn_scale_shift).
	inner, affine []*potv1.Node
}

// consumerNodes returns the distinct nodes reading a tensor.
func consumerNodes(x *graph.Index, t string) []*potv1.Node {
	var out []*potv1.Node
	seen := map[*potv1.Node]bool{}
	for _, p := range x.Consumers(t) {
		if !seen[p.Node] {
			seen[p.Node] = true
			out = append(out, p.Node)
		}
	}
	return out
}

// soleConsumer returns the one node reading t (through any number of its
// inputs) when it has op type op and t is no graph output, else nil.
func soleConsumer(x *graph.Index, t, op string) *potv1.Node {
	cs := consumerNodes(x, t)
	if len(cs) != 1 || cs[0].GetOpType() != op || x.IsGraphOutput(t) {
		return nil
	}
	return cs[0]
}

// out0 is a node's first output.
func out0(n *potv1.Node) string {
	if len(n.GetOutputs()) == 0 {
		return ""
	}
	return n.GetOutputs()[0]
}

// binary reports whether n has the two inputs a and b, in either order;
// b == "" accepts any constant.
func binary(x *graph.Index, n *potv1.Node, a, b string) bool {
	in := n.GetInputs()
	if len(in) != 2 {
		return false
	}
	match := func(t, want string) bool {
		if want == "" {
			return x.Constant(t) != nil
		}
		return t == want
	}
	return in[0] == a && match(in[1], b) || in[1] == a && match(in[0], b)
}

// decomposedLayerNorm returns the layer normalization that ReduceMean n
// starts, or nil.
func decomposedLayerNorm(x *graph.Index, n *potv1.Node) *layerNorm {
	if n.GetOpType() != "ReduceMean" || n.GetDomain() != "" || len(n.GetInputs()) == 0 {
		return nil
	}
	in := n.GetInputs()[0]
	if x.Constant(in) != nil {
		return nil
	}
	sub := soleConsumer(x, out0(n), "Sub")
	if sub == nil || len(sub.GetInputs()) != 2 || sub.GetInputs()[0] != in || sub.GetInputs()[1] != out0(n) {
		return nil
	}
	d := out0(sub)
	cs := consumerNodes(x, d)
	if len(cs) != 2 || x.IsGraphOutput(d) {
		return nil
	}
	var sq, norm *potv1.Node
	for _, c := range cs {
		switch {
		case c.GetOpType() == "Pow" && binary(x, c, d, ""), c.GetOpType() == "Mul" && len(c.GetInputs()) == 2 && c.GetInputs()[0] == d && c.GetInputs()[1] == d:
			sq = c
		case c.GetOpType() == "Div" || c.GetOpType() == "Mul":
			norm = c
		}
	}
	if sq == nil || norm == nil {
		return nil
	}
	variance := soleConsumer(x, out0(sq), "ReduceMean")
	if variance == nil {
		return nil
	}
	eps := soleConsumer(x, out0(variance), "Add")
	if eps == nil || !binary(x, eps, out0(variance), "") {
		return nil
	}
	sqrt := soleConsumer(x, out0(eps), "Sqrt")
	if sqrt == nil {
		return nil
	}
	ln := &layerNorm{input: in, head: n, sub: sub, inner: []*potv1.Node{sq, variance, eps, sqrt}}
	switch norm.GetOpType() {
	case "Div":
		if len(norm.GetInputs()) != 2 || norm.GetInputs()[0] != d || norm.GetInputs()[1] != out0(sqrt) {
			return nil
		}
	case "Mul":
		recip := soleConsumer(x, out0(sqrt), "Reciprocal")
		if recip == nil || !binary(x, norm, d, out0(recip)) {
			return nil
		}
		ln.inner = append(ln.inner, recip)
	}
	ln.inner = append(ln.inner, norm)
	if scale := soleConsumer(x, out0(norm), "Mul"); scale != nil && binary(x, scale, out0(norm), "") {
		ln.affine = append(ln.affine, scale)
		if shift := soleConsumer(x, out0(scale), "Add"); shift != nil && binary(x, shift, out0(scale), "") {
			ln.affine = append(ln.affine, shift)
		}
	}
	return ln
}

// erfGelu returns the nodes of x·0.5·(1 + Erf(x/√2)), in PyTorch's
// export (Div, Erf, Add, Mul, Mul; the 0.5 before or after), given its
// Erf node, or nil.
func erfGelu(x *graph.Index, erf *potv1.Node) []*potv1.Node {
	if erf.GetOpType() != "Erf" || len(erf.GetInputs()) != 1 {
		return nil
	}
	scale := x.Producer(erf.GetInputs()[0])
	if scale == nil || (scale.GetOpType() != "Div" && scale.GetOpType() != "Mul") || len(scale.GetInputs()) != 2 ||
		x.Constant(scale.GetInputs()[1]) == nil || len(consumerNodes(x, out0(scale))) != 1 {
		return nil
	}
	in := scale.GetInputs()[0]
	one := soleConsumer(x, out0(erf), "Add")
	if one == nil || !binary(x, one, out0(erf), "") {
		return nil
	}
	mul := soleConsumer(x, out0(one), "Mul")
	if mul == nil || len(mul.GetInputs()) != 2 {
		return nil
	}
	other := mul.GetInputs()[0]
	if other == out0(one) {
		other = mul.GetInputs()[1]
	}
	nodes := []*potv1.Node{scale, erf, one, mul}
	if other == in {
		half := soleConsumer(x, out0(mul), "Mul")
		if half == nil || !binary(x, half, out0(mul), "") {
			return nil
		}
		return append(nodes, half)
	}
	half := x.Producer(other)
	if half == nil || half.GetOpType() != "Mul" || !binary(x, half, in, "") || len(consumerNodes(x, other)) != 1 {
		return nil
	}
	return append(nodes, half)
}

// decomposedSoftmax returns the nodes of Exp(x) / ReduceSum(Exp(x)) (or
// Exp(x) · Pow(ReduceSum(Exp(x)), -1), or with Reciprocal), with the
// ReduceMax and Sub that stabilize it when present, given its Exp node,
// or nil. These are POT's "softmax" and "softmax_div" patterns.
func decomposedSoftmax(x *graph.Index, exp *potv1.Node) []*potv1.Node {
	if exp.GetOpType() != "Exp" || len(exp.GetInputs()) != 1 {
		return nil
	}
	e := out0(exp)
	cs := consumerNodes(x, e)
	if len(cs) != 2 || x.IsGraphOutput(e) {
		return nil
	}
	var sum, final *potv1.Node
	for _, c := range cs {
		switch c.GetOpType() {
		case "ReduceSum":
			sum = c
		case "Div", "Mul":
			final = c
		}
	}
	if sum == nil || final == nil || sum.GetInputs()[0] != e {
		return nil
	}
	nodes := []*potv1.Node{exp, sum}
	switch final.GetOpType() {
	case "Div":
		if len(final.GetInputs()) != 2 || final.GetInputs()[0] != e || final.GetInputs()[1] != out0(sum) {
			return nil
		}
	case "Mul":
		inv := x.Producer(otherInput(final, e))
		if inv == nil || len(inv.GetInputs()) == 0 || inv.GetInputs()[0] != out0(sum) ||
			!(inv.GetOpType() == "Reciprocal" || inv.GetOpType() == "Pow" && binary(x, inv, out0(sum), "")) {
			return nil
		}
		nodes = append(nodes, inv)
	}
	nodes = append(nodes, final)
	if sub := x.Producer(exp.GetInputs()[0]); sub != nil && sub.GetOpType() == "Sub" && len(sub.GetInputs()) == 2 {
		if mx := x.Producer(sub.GetInputs()[1]); mx != nil && mx.GetOpType() == "ReduceMax" && mx.GetInputs()[0] == sub.GetInputs()[0] {
			nodes = append(nodes, sub, mx)
		}
	}
	return nodes
}

// otherInput returns the input of a two-input node that is not t.
func otherInput(n *potv1.Node, t string) string {
	in := n.GetInputs()
	if len(in) != 2 {
		return ""
	}
	if in[0] == t {
		return in[1]
	}
	return in[0]
}

// mvnPorts are the node inputs that read the input of the normalization
// n heads (hardware type MeanVarianceNormalization) besides n's input 0:
// the Sub of a decomposed layer normalization.
func mvnPorts(x *graph.Index, n *potv1.Node) []graph.Port {
	if ln := decomposedLayerNorm(x, n); ln != nil {
		return []graph.Port{{Node: ln.sub, Input: 0}}
	}
	return nil
}

// transformerPatterns marks the nodes of decomposed layer normalizations
// (all but the head, which stands for the MVN), Erf GELUs and
// decomposed softmaxes.
func transformerPatterns(x *graph.Index, mark func(pattern string, nodes ...*potv1.Node)) {
	for _, n := range x.Nodes() {
		switch n.GetOpType() {
		case "ReduceMean":
			if ln := decomposedLayerNorm(x, n); ln != nil {
				mark("mvn", append([]*potv1.Node{ln.sub}, ln.inner...)...)
				mark("mvn_scale_shift", ln.affine...)
			}
		case "Erf":
			mark("gelu", erfGelu(x, n)...)
		case "Exp":
			mark("softmax", decomposedSoftmax(x, n)...)
		}
	}
}

// transformerDivisor reports whether n divides by a constant, which
// OpenVINO's Model Optimizer turns into a Multiply that POT's transformer
// mode ignores.
func transformerDivisor(x *graph.Index, n *potv1.Node) bool {
	return n.GetOpType() == "Div" && len(n.GetInputs()) == 2 && x.Constant(n.GetInputs()[1]) != nil
}
