package biascorr

import (
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
)

// layer is an operation whose bias can be corrected.
type layer struct {
	node *potv1.Node
	// in is the float input tensor, out the tensor after the bias.
	in, out string
	// bias is the name of the bias initializer.
	bias string
	// weightsQ and inputQ are the quantizers of its weights and input.
	weightsQ, inputQ *potv1.Quantizer
}

// layers finds the biased Conv/ConvTranspose/Gemm/MatMul nodes of g with
// quantized weights (all biased ones with allNodes).
func layers(x *graph.Index, p *potv1.QuantizationPlan, allNodes bool) []*layer {
	float := plan.FloatNodes(p)
	weightsQ := map[string]*potv1.Quantizer{}
	inputQ := map[string]*potv1.Quantizer{}
	for _, q := range p.GetQuantizers() {
		if plan.Reverted(q, float) {
			continue
		}
		for _, c := range q.GetConsumers() {
			if q.GetWeights() {
				weightsQ[c] = q
			} else if n := x.Node(c); n != nil && isInputOf(x, q, n) {
				inputQ[c] = q
			}
		}
	}
	var out []*layer
	for _, n := range x.Nodes() {
		l := &layer{node: n}
		switch n.GetOpType() {
		case "Conv", "ConvTranspose", "Gemm":
			in := n.GetInputs()
			if len(in) < 3 || in[2] == "" || x.Initializer(in[2]) == nil {
				continue
			}
			l.in, l.out, l.bias = in[0], n.GetOutputs()[0], in[2]
		case "MatMul":
			outs := x.Consumers(n.GetOutputs()[0])
			if len(outs) != 1 || outs[0].Node.GetOpType() != "Add" {
				continue
			}
			add := outs[0].Node
			b := add.GetInputs()[1-outs[0].Input]
			if x.Initializer(b) == nil {
				continue
			}
			l.in, l.out, l.bias = n.GetInputs()[0], add.GetOutputs()[0], b
		default:
			continue
		}
		if x.Initializer(l.bias).GetDtype() != potv1.DataType_DATA_TYPE_FLOAT || len(x.Initializer(l.bias).GetDims()) != 1 {
			continue
		}
		l.weightsQ, l.inputQ = weightsQ[n.GetName()], inputQ[n.GetName()]
		if l.weightsQ == nil && !allNodes {
			continue
		}
		out = append(out, l)
	}
	return out
}

// isInputOf reports whether an activation quantizer quantizes (perhaps
// through shape-only operations) input 0 of n, not another input.
func isInputOf(x *graph.Index, q *potv1.Quantizer, n *potv1.Node) bool {
	if q.GetLocation().GetNode() != "" {
		return q.GetLocation().GetNode() == n.GetName() && q.GetLocation().GetInput() == 0
	}
	t := n.GetInputs()[0]
	for depth := 0; depth < 16; depth++ {
		if t == q.GetLocation().GetTensor() {
			return true
		}
		p := x.Producer(t)
		if p == nil || len(p.GetInputs()) == 0 {
			return false
		}
		t = p.GetInputs()[0]
	}
	return false
}

// channelAxis is the axis holding a layer's channels: 1 for NCHW
// convolutions and 2-D matrices, the last for higher-rank MatMuls.
func channelAxis(rank int, op string) int {
	if op == "MatMul" && rank > 2 {
		return rank - 1
	}
	return 1
}
