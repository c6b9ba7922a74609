package quant

import (
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// IgnoredPatterns finds the nodes of POT's never-quantized patterns
// (configs/hardware/IgnoredPatterns.md), in their ONNX forms, and returns
// the pattern each belongs to. These subgraphs are fused by the device
// or lose accuracy when quantized inside:
//
//   - hswish_activation: x·HardSigmoid(x), x·Clip(x+3, 0, 6)/6 and its
//     variants; swish_activation: x·Sigmoid(x)
//   - se_block: x·σ(Conv(act(Conv(pool(x))))), σ = Sigmoid or HardSigmoid
//   - operation_with_bias: Conv/ConvTranspose/MatMul/Gemm → Add(constant)
//   - input_add, input_multiply, input_scale_shift: a graph input →
//     Add/Mul with a constant (→ Add with a constant)
//   - scale_shift_add, add_scale_shift: Mul(constant) → Add(constant)
//   - softmax_reshape_matmul, softmax_reshape_transpose_matmul: Softmax
//     (→ Reshape) → MatMul whose other operand is Add → Reshape →
//     Transpose (BERT's attention values)
//   - equal_logicalnot: Equal → Not
//   - the inside of a decomposed layer normalization (all but its first
//     ReduceMean, which stands for the MVN: see HWType) and its scale and
//     shift (mvn_scale_shift); Erf GELU (gelu); Exp/ReduceSum/Div softmax
//     (softmax)
func IgnoredPatterns(x *graph.Index) map[string]string {
	out := map[string]string{}
	mark := func(pattern string, nodes ...*potv1.Node) {
		for _, n := range nodes {
			if n != nil {
				out[n.GetName()] = pattern
			}
		}
	}
	isConst := func(t string) bool { return t != "" && x.Constant(t) != nil }
	// other returns the input of a two-input node that is not t.
	other := func(n *potv1.Node, t string) (string, bool) {
		in := n.GetInputs()
		if len(in) != 2 {
			return "", false
		}
		switch {
		case in[0] == t:
			return in[1], true
		case in[1] == t:
			return in[0], true
		}
		return "", false
	}
	producerOf := func(t string, op string) *potv1.Node {
		p := x.Producer(t)
		if p != nil && p.GetOpType() == op {
			return p
		}
		return nil
	}
	for _, n := range x.Nodes() {
		switch n.GetOpType() {
		case "Mul":
			in := n.GetInputs()
			if len(in) != 2 {
				continue
			}
			for _, a := range in {
				b, _ := other(n, a)
				// x·HardSigmoid(x) and x·Sigmoid(x)
				if p := producerOf(b, "HardSigmoid"); p != nil && p.GetInputs()[0] == a {
					mark("hswish_activation", n, p)
				}
				if p := producerOf(b, "Sigmoid"); p != nil && p.GetInputs()[0] == a {
					mark("swish_activation", n, p)
				}
				// x·Clip(x+3, 0, 6) (then /6 or ·1/6)
				if clip := producerOf(b, "Clip"); clip != nil {
					if add := producerOf(clip.GetInputs()[0], "Add"); add != nil {
						if c, ok := other(add, a); ok && isConst(c) {
							mark("hswish_activation", n, clip, add)
							for _, next := range x.Consumers(n.GetOutputs()[0]) {
								op := next.Node.GetOpType()
								if (op == "Div" || op == "Mul") && isConst(next.Node.GetInputs()[1]) {
									mark("hswish_activation", next.Node)
								}
							}
						}
					}
				}
				// x·Clip(x+3, 0, 6)/6 as a Div feeding the Mul
				if div := producerOf(b, "Div"); div != nil && isConst(div.GetInputs()[1]) {
					if clip := producerOf(div.GetInputs()[0], "Clip"); clip != nil {
						if add := producerOf(clip.GetInputs()[0], "Add"); add != nil {
							if _, ok := other(add, a); ok {
								mark("hswish_activation", n, div, clip, add)
							}
						}
					}
				}
				// SE block: x · σ(Conv(act(Conv(pool(x)))))
				for _, sig := range []string{"Sigmoid", "HardSigmoid"} {
					s := producerOf(b, sig)
					if s == nil {
						continue
					}
					c2 := producerOf(s.GetInputs()[0], "Conv")
					if c2 == nil {
						continue
					}
					act := x.Producer(c2.GetInputs()[0])
					if act == nil || (act.GetOpType() != "Relu" && act.GetOpType() != "HardSwish" && act.GetOpType() != "Mul") {
						continue
					}
					c1 := producerOf(act.GetInputs()[0], "Conv")
					if c1 == nil {
						continue
					}
					pool := x.Producer(c1.GetInputs()[0])
					if pool == nil || (pool.GetOpType() != "GlobalAveragePool" && pool.GetOpType() != "ReduceMean") || pool.GetInputs()[0] != a {
						continue
					}
					mark("se_block", n, s, c2, act, c1, pool)
				}
			}
		case "Add":
			in := n.GetInputs()
			if len(in) != 2 {
				continue
			}
			for i, a := range in {
				c := in[1-i]
				if !isConst(c) {
					continue
				}
				if p := x.Producer(a); p != nil && weighted[p.GetOpType()] {
					mark("operation_with_bias", n)
				}
				if x.IsGraphInput(a) {
					mark("input_add", n)
				}
				if p := producerOf(a, "Mul"); p != nil && len(p.GetInputs()) == 2 &&
					(isConst(p.GetInputs()[0]) || isConst(p.GetInputs()[1])) && len(x.Consumers(a)) == 1 {
					mark("scale_shift_add", n, p)
					if x.IsGraphInput(p.GetInputs()[0]) || x.IsGraphInput(p.GetInputs()[1]) {
						mark("input_scale_shift", n, p)
					}
				}
			}
		case "Not":
			if p := producerOf(n.GetInputs()[0], "Equal"); p != nil {
				mark("equal_logicalnot", n, p)
			}
		case "MatMul":
			if len(n.GetInputs()) != 2 {
				continue
			}
			for i, t := range n.GetInputs() {
				// The other operand is Add → Reshape → Transpose (the
				// values of a BERT-style attention).
				tr := producerOf(n.GetInputs()[1-i], "Transpose")
				if tr == nil {
					continue
				}
				re := producerOf(tr.GetInputs()[0], "Reshape")
				if re == nil || producerOf(re.GetInputs()[0], "Add") == nil {
					continue
				}
				if producerOf(t, "Softmax") != nil {
					mark("softmax_reshape_transpose_matmul", n)
				}
				if r := producerOf(t, "Reshape"); r != nil && producerOf(r.GetInputs()[0], "Softmax") != nil {
					mark("softmax_reshape_matmul", n)
				}
			}
		}
		// input_multiply: graph input · constant
		if n.GetOpType() == "Mul" && len(n.GetInputs()) == 2 {
			a, b := n.GetInputs()[0], n.GetInputs()[1]
			if (x.IsGraphInput(a) && isConst(b)) || (x.IsGraphInput(b) && isConst(a)) {
				mark("input_multiply", n)
			}
		}
	}
	transformerPatterns(x, mark)
	return out
}
