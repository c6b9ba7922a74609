package adaround

import (
	"fmt"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
)

// layer is a Conv, Gemm or MatMul whose constant weights a plan quantizes.
type layer struct {
	node *potv1.Node
	// in is the activation input; weight the weight initializer; bias
	// the bias initializer ("" when the layer has none).
	in, weight, bias string
	// wq quantizes the weights; inQ is a quantizer on the layer's input
	// port 0, which the layer reads (an edge quantizer on in is applied
	// by the target, which returns in quantized).
	wq, inQ *potv1.Quantizer
	// dims are the weight's dims; rows, cols and groups the shape of the
	// linear map: rows outputs, each reading cols inputs of its group.
	dims               []int64
	rows, cols, groups int
	// transposed: the weight is stored [K, O] (MatMul, Gemm with
	// transB 0) instead of [O, K].
	transposed bool
}

// findLayers lists the layers of g whose weights p quantizes, in graph
// order (topological), and why others with weight quantizers are left.
func findLayers(x *graph.Index, p *potv1.QuantizationPlan) ([]*layer, map[string]string) {
	float := plan.FloatNodes(p)
	skipped := map[string]string{}
	byWeight := map[string]*potv1.Quantizer{}
	portQ := map[string]*potv1.Quantizer{}
	for _, q := range p.GetQuantizers() {
		if plan.Reverted(q, float) {
			continue
		}
		loc := q.GetLocation()
		if q.GetWeights() {
			for _, c := range q.GetConsumers() {
				byWeight[c] = q
			}
			if loc.GetNode() != "" {
				byWeight[loc.GetNode()] = q
			}
		} else if loc.GetNode() != "" && loc.GetInput() == 0 {
			portQ[loc.GetNode()] = q
		}
	}
	var out []*layer
	for _, n := range x.Nodes() {
		q := byWeight[n.GetName()]
		if q == nil {
			continue
		}
		l, reason := newLayer(x, n, q)
		if reason != "" {
			skipped[n.GetName()] = reason
			continue
		}
		l.inQ = portQ[n.GetName()]
		out = append(out, l)
	}
	return out, skipped
}

// newLayer describes node n with weight quantizer q, or says why AdaRound
// leaves it.
func newLayer(x *graph.Index, n *potv1.Node, q *potv1.Quantizer) (*layer, string) {
	if x.InSubgraph(n.GetName()) {
		return nil, "inside a subgraph"
	}
	in := n.GetInputs()
	if len(in) < 2 {
		return nil, "no weights input"
	}
	w := x.Initializer(in[1])
	if w == nil || w.GetDtype() != potv1.DataType_DATA_TYPE_FLOAT {
		return nil, "input 1 is not a float initializer"
	}
	if loc := q.GetLocation(); loc.GetTensor() != in[1] || (loc.GetNode() != "" && (loc.GetNode() != n.GetName() || loc.GetInput() != 1)) {
		return nil, "the weight quantizer is not on input 1"
	}
	if len(x.Consumers(in[1])) != 1 {
		return nil, "weights shared with other nodes"
	}
	l := &layer{node: n, in: in[0], weight: in[1], wq: q, dims: w.GetDims(), groups: 1}
	d := l.dims
	perChannel := len(q.GetInputLow()) > 1
	axis := int(q.GetAxis())
	switch n.GetOpType() {
	case "Conv":
		if len(d) != 4 {
			return nil, fmt.Sprintf("a %d-D convolution (2-D only)", len(d)-2)
		}
		l.groups = int(graph.AttrInt(n, "group", 1))
		l.rows, l.cols = int(d[0]), int(d[1]*d[2]*d[3])
		if perChannel && axis != 0 {
			return nil, fmt.Sprintf("per-channel weights on axis %d, not the output channels", axis)
		}
		if l.groups < 1 || l.rows%l.groups != 0 {
			return nil, fmt.Sprintf("%d groups for %d output channels", l.groups, l.rows)
		}
	case "Gemm":
		if graph.AttrInt(n, "transA", 0) != 0 {
			return nil, "Gemm with transA"
		}
		if len(d) != 2 {
			return nil, "weights are not a matrix"
		}
		if graph.AttrInt(n, "transB", 0) != 0 {
			l.rows, l.cols = int(d[0]), int(d[1])
			if perChannel && axis != 0 {
				return nil, fmt.Sprintf("per-channel weights on axis %d, not the outputs", axis)
			}
		} else {
			l.rows, l.cols, l.transposed = int(d[1]), int(d[0]), true
			if perChannel && axis != 1 {
				return nil, fmt.Sprintf("per-channel weights on axis %d, not the outputs", axis)
			}
		}
	case "MatMul":
		if len(d) != 2 {
			return nil, "weights are not a matrix"
		}
		l.rows, l.cols, l.transposed = int(d[1]), int(d[0]), true
		if perChannel && axis != 1 {
			return nil, fmt.Sprintf("per-channel weights on axis %d, not the outputs", axis)
		}
	default:
		return nil, fmt.Sprintf("%s is not a Conv, Gemm or MatMul", n.GetOpType())
	}
	if perChannel && len(q.GetInputLow()) != l.rows {
		return nil, fmt.Sprintf("%d ranges for %d outputs", len(q.GetInputLow()), l.rows)
	}
	l.bias = biasOf(x, n)
	return l, ""
}

// biasOf is the float 1-D bias initializer of a Conv or Gemm (input 2),
// or of the Add that alone reads a MatMul, or "".
func biasOf(x *graph.Index, n *potv1.Node) string {
	name := ""
	switch n.GetOpType() {
	case "Conv", "Gemm":
		if in := n.GetInputs(); len(in) > 2 {
			name = in[2]
		}
	case "MatMul":
		outs := x.Consumers(n.GetOutputs()[0])
		if len(outs) != 1 || outs[0].Node.GetOpType() != "Add" {
			return ""
		}
		name = outs[0].Node.GetInputs()[1-outs[0].Input]
	}
	b := x.Initializer(name)
	if name == "" || b == nil || b.GetDtype() != potv1.DataType_DATA_TYPE_FLOAT || len(b.GetDims()) != 1 {
		return ""
	}
	return name
}

// index is the position in the weight tensor of output o, input j.
func (l *layer) index(o, j int) int {
	if l.transposed {
		return j*l.rows + o
	}
	return o*l.cols + j
}

// grid is the quantizer's grid for rows lo..hi-1.
func (l *layer) grid(pr *plan.Params, lo, hi int) Grid {
	g := Grid{Levels: pr.Levels}
	for o := lo; o < hi; o++ {
		c := 0
		if pr.Channels() > 1 {
			c = o
		}
		g.Scale = append(g.Scale, float64(pr.Scale[c]))
		g.Zero = append(g.Zero, float64(pr.Zero[c]))
	}
	return g
}
