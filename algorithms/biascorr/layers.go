package biascorr

import (
	"fmt"

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

	// Set by geometry. subIn is the shape of the constant input of
	// FastBiasCorrection's sub-model (batch 1, channels on axis 1);
	// inAxis and outAxis are the channel axes of in and out for
	// statistics probes (see probeAxis).
	subIn           []int64
	inAxis, outAxis int
	// subOut is the number of values of one sample's output (at most
	// the sub-model's).
	subOut int64
}

// subValues is the float32 values the layer's branch of the sub-model
// takes and gives.
func (l *layer) subValues() int64 { return graph.NumElements(l.subIn) + l.subOut }

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
			if len(in) < 3 || in[2] == "" || x.Constant(in[2]) == nil {
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
			if x.Constant(b) == nil {
				continue
			}
			l.in, l.out, l.bias = n.GetInputs()[0], add.GetOutputs()[0], b
		default:
			continue
		}
		if x.Constant(l.bias).GetDtype() != potv1.DataType_DATA_TYPE_FLOAT || len(x.Constant(l.bias).GetDims()) != 1 {
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

// geometry finds where a layer's channels are, from the shapes of its
// input and output for one sample (as the target computed them), or
// returns why its bias cannot be corrected.
//
// Convolutions have their channels on axis 1 ([N, C, H, W]); the
// sub-model feeds them one sample of the input's shape. Gemm reads a
// matrix [N, C]. MatMul multiplies the last axis of its input (of any
// rank: [N, C], [N, tokens, C], or [tokens, N, C] as PyTorch's attention
// exports its projections) by a constant matrix [C, K], every row on its
// own, so its channels are the last axis of input and output, whatever
// the other axes hold, and the sub-model feeds it one row [1, C].
func (l *layer) geometry(x *graph.Index, inDims, outDims []int64) string {
	op := l.node.GetOpType()
	if len(inDims) == 0 || len(outDims) == 0 {
		return fmt.Sprintf("no shape for input %q or output %q", l.in, l.out)
	}
	if outDims[0] > 0 {
		l.subOut = graph.NumElements(outDims) / outDims[0]
	}
	w := x.Constant(l.node.GetInputs()[1])
	if w == nil {
		return fmt.Sprintf("input 1 (%s) is not constant: an operation of two activations has no weights to correct for", l.node.GetInputs()[1])
	}
	nb := x.Constant(l.bias).GetDims()[0]
	outCh := 1
	switch op {
	case "Conv", "ConvTranspose":
		if len(inDims) < 3 {
			return fmt.Sprintf("input of rank %d", len(inDims))
		}
		l.subIn = append([]int64{1}, inDims[1:]...)
		l.inAxis, l.outAxis = 1, 1
	case "Gemm":
		if graph.AttrInt(l.node, "transA", 0) != 0 {
			return "Gemm with transA reads its input channels on axis 0"
		}
		if len(inDims) != 2 || len(outDims) != 2 {
			return fmt.Sprintf("Gemm of input dims %v", inDims)
		}
		l.subIn = []int64{1, inDims[1]}
		l.inAxis, l.outAxis = probeAxis(inDims, 1), probeAxis(outDims, 1)
	case "MatMul":
		if len(w.GetDims()) != 2 {
			return fmt.Sprintf("weights of rank %d, not a matrix", len(w.GetDims()))
		}
		c := w.GetDims()[0]
		if len(inDims) < 2 || inDims[len(inDims)-1] != c {
			return fmt.Sprintf("input dims %v do not end with the weights' %d input channels", inDims, c)
		}
		l.subIn = []int64{1, c}
		l.inAxis, l.outAxis = probeAxis(inDims, len(inDims)-1), probeAxis(outDims, len(outDims)-1)
		outCh = len(outDims) - 1
	default:
		return "not a Conv, ConvTranspose, Gemm or MatMul"
	}
	if outCh >= len(outDims) || outDims[outCh] != nb {
		return fmt.Sprintf("%d bias values for output dims %v", nb, outDims)
	}
	return ""
}

// probeAxis is the channel axis of a statistics probe for axis a of a
// tensor whose shape for one sample is dims. Targets count a probe's
// axes with the batch axis first; when a tensor's first axis is not the
// batch (its size is not 1 for one sample, as the token axis of
// [tokens, N, C]), they put a batch axis of 1 in front.
func probeAxis(dims []int64, a int) int {
	if len(dims) > 0 && dims[0] == 1 {
		return a
	}
	return a + 1
}
