package biascorr

import (
	"context"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
)

// activation is the nonlinearity applied to a layer's output z: Relu, or
// hard-swish z·HardSigmoid(z) as PyTorch exports it. out holds f(z).
type activation struct {
	nodes []*potv1.Node
	out   string
}

// activationAfter returns the activation that alone consumes tensor z,
// or nil.
func activationAfter(x *graph.Index, z string) *activation {
	cs := x.Consumers(z)
	if x.IsGraphOutput(z) {
		return nil
	}
	if len(cs) == 1 && cs[0].Node.GetOpType() == "Relu" {
		return &activation{nodes: []*potv1.Node{cs[0].Node}, out: cs[0].Node.GetOutputs()[0]}
	}
	if len(cs) != 2 {
		return nil
	}
	var hs, mul *potv1.Node
	for _, c := range cs {
		switch c.Node.GetOpType() {
		case "HardSigmoid":
			hs = c.Node
		case "Mul":
			mul = c.Node
		}
	}
	if hs == nil || mul == nil || x.IsGraphOutput(hs.GetOutputs()[0]) {
		return nil
	}
	in := mul.GetInputs()
	if !(in[0] == z && in[1] == hs.GetOutputs()[0] || in[1] == z && in[0] == hs.GetOutputs()[0]) {
		return nil
	}
	if len(x.Consumers(hs.GetOutputs()[0])) != 1 {
		return nil
	}
	return &activation{nodes: []*potv1.Node{hs, mul}, out: mul.GetOutputs()[0]}
}

// apply appends to g a copy of the activation reading z and writing
// out; names are made unique with prefix.
func (a *activation) apply(g *potv1.Graph, z, out, prefix string) {
	if len(a.nodes) == 1 {
		n := proto.Clone(a.nodes[0]).(*potv1.Node)
		n.Name, n.Inputs, n.Outputs = prefix+"_relu", []string{z}, []string{out}
		g.Nodes = append(g.Nodes, n)
		return
	}
	hs := proto.Clone(a.nodes[0]).(*potv1.Node)
	hs.Name, hs.Inputs, hs.Outputs = prefix+"_hsig", []string{z}, []string{prefix + "_hsig_out"}
	mul := proto.Clone(a.nodes[1]).(*potv1.Node)
	mul.Name, mul.Inputs, mul.Outputs = prefix+"_mul", []string{z, prefix + "_hsig_out"}, []string{out}
	g.Nodes = append(g.Nodes, hs, mul)
}

// activationDelta is the offset of the finite difference that measures
// the activation's mean slope.
const activationDelta = 1e-2

// minSlope is the smallest mean slope of the activation through which a
// channel's output mean is corrected: where the activation is flat the
// bias cannot move its output.
const minSlope = 0.05

// activationSteps is the number of Newton steps of activationShifts.
// The first linearizes f around the corrected bias; the second starts
// from where the first landed. On vpu with 4-bit weights (mobilenet_fmnist,
// four calibration subsets) one step left top-1 within ±5 images of no
// correction, two gave +18, +7, -4, +5 images.
const activationSteps = 2

// activationShifts corrects, for the layers whose weights have fewer
// than 8 bits and whose output goes through an activation f alone, the
// mean after f instead of before it. Rounding noise e of low-bit weights
// is large, and a convex f (hard-swish) turns it into a mean shift
// E[f(z+e)] - E[f(z)] that a correction of E[z] does not see and that
// the next layers inherit. Each such layer gets a shadow copy in the
// float model (quantized weights, its own bias), so that it runs on the
// float model's own inputs and every sample counts. From the corrected
// biases, Newton steps solve E[f(z_q + d)] = E[f(z)] per channel: the
// bias moves by (E[f(z)] - E[f(z_q)]) / E[f'(z_q)], the slope measured by
// a central difference. It returns d per corrected layer.
func activationShifts(ctx context.Context, h sdk.Host, req *sdk.RunRequest, r *run, corrected map[int][]float32, samples *potv1.Samples) (map[int][]float32, error) {
	s := shadowLayers(r, req, corrected)
	if s == nil {
		return nil, nil
	}
	id, err := h.LoadModel(ctx, s.g)
	if err != nil {
		return nil, fmt.Errorf("load the model with shadow layers: %w", err)
	}
	defer h.UnloadModel(ctx, id)
	shifts := map[int][]float32{}
	for _, i := range s.idx {
		shifts[i] = make([]float32, len(corrected[i]))
	}
	for range activationSteps {
		// The shadow biases of this step, as updates of their initializers.
		p := proto.Clone(s.plan).(*potv1.QuantizationPlan)
		for _, i := range s.idx {
			b := make([]float32, len(corrected[i]))
			for c := range b {
				b[c] = corrected[i][c] + shifts[i][c]
			}
			plan.SetTensorUpdate(p, graph.FloatTensor(s.bias[i], []int64{int64(len(b))}, b))
		}
		resp, err := h.CollectStatistics(ctx, &potv1.StatisticsRequest{ModelId: id, Plan: p, Probes: s.probes, Samples: samples})
		if err != nil {
			return nil, fmt.Errorf("collect statistics after the activations: %w", err)
		}
		vals := resp.GetValues()
		if len(vals) != len(s.probes) {
			return nil, fmt.Errorf("%d statistics for %d probes", len(vals), len(s.probes))
		}
		for k, i := range s.idx {
			f, fq, fu, fd := vals[4*k].GetValues(), vals[4*k+1].GetValues(), vals[4*k+2].GetValues(), vals[4*k+3].GetValues()
			n := len(shifts[i])
			if len(f) != n || len(fq) != n || len(fu) != n || len(fd) != n {
				return nil, fmt.Errorf("layer %s: channel means of %d, %d, %d, %d values for %d channels", r.layers[i].node.GetName(), len(f), len(fq), len(fu), len(fd), n)
			}
			for c := range n {
				slope := float64(fu[c]-fd[c]) / (2 * activationDelta)
				d := float64(f[c]-fq[c]) / slope
				if slope >= minSlope && !math.IsNaN(d) && !math.IsInf(d, 0) {
					shifts[i][c] += float32(d)
				}
			}
		}
	}
	return shifts, nil
}

// shadow is the float model with a shadow copy of each layer to correct
// after its activation.
type shadow struct {
	g *potv1.Graph
	// plan quantizes the shadow weights (on the incoming plan's tensor
	// updates); probes read, per layer, the channel means of f(z) in the
	// float model and of f(z_q), f(z_q + delta), f(z_q - delta).
	plan   *potv1.QuantizationPlan
	probes []*potv1.StatisticProbe
	// idx lists the layers (indices into run.layers) with a shadow, bias
	// the name of each one's shadow bias.
	idx  []int
	bias map[int]string
}

// cloneSharingInitializers deep-copies g except for its initializers,
// which the copy shares: a shadow model adds tensors and nodes but
// changes none of the model's, and copying a large model's weights would
// double the plugin's memory.
func cloneSharingInitializers(g *potv1.Graph) *potv1.Graph {
	head := graph.WithoutInitializers(g)
	c := proto.Clone(head).(*potv1.Graph)
	c.Initializers = append([]*potv1.Tensor(nil), g.GetInitializers()...)
	return c
}

// shadowLayers builds the shadow model for the corrected layers with
// weights below 8 bits whose output an activation alone reads, or
// returns nil when there are none.
func shadowLayers(r *run, req *sdk.RunRequest, corrected map[int][]float32) *shadow {
	s := &shadow{g: cloneSharingInitializers(r.g), bias: map[int]string{},
		plan: &potv1.QuantizationPlan{TensorUpdates: req.Plan.GetTensorUpdates()}}
	for i, l := range r.layers {
		if corrected[i] == nil || l.weightsQ == nil || l.weightsQ.GetBits() >= 8 {
			continue
		}
		if op := l.node.GetOpType(); op != "Conv" && op != "Gemm" {
			continue
		}
		act := activationAfter(r.x, l.out)
		if act == nil {
			continue
		}
		p := fmt.Sprintf("fbc_act%d", i)
		wt := proto.Clone(updatedTensor(r.x, req.Plan, l.node.GetInputs()[1])).(*potv1.Tensor)
		wt.Name = p + "_w"
		s.bias[i] = p + "_b"
		s.g.Initializers = append(s.g.Initializers, wt, graph.FloatTensor(s.bias[i], []int64{int64(len(corrected[i]))}, corrected[i]),
			graph.FloatTensor(p+"_step", nil, []float32{activationDelta}))
		conv := proto.Clone(l.node).(*potv1.Node)
		conv.Name, conv.Outputs = p+"_layer", []string{p + "_z"}
		conv.Inputs = append([]string{l.in, wt.GetName(), s.bias[i]}, conv.GetInputs()[3:]...)
		up := &potv1.Node{Name: p + "_up", OpType: "Add", Inputs: []string{p + "_z", p + "_step"}, Outputs: []string{p + "_zu"}}
		down := &potv1.Node{Name: p + "_down", OpType: "Sub", Inputs: []string{p + "_z", p + "_step"}, Outputs: []string{p + "_zd"}}
		s.g.Nodes = append(s.g.Nodes, conv, up, down)
		act.apply(s.g, p+"_z", p+"_f", p)
		act.apply(s.g, p+"_zu", p+"_fu", p+"u")
		act.apply(s.g, p+"_zd", p+"_fd", p+"d")
		q := proto.Clone(l.weightsQ).(*potv1.Quantizer)
		q.Id = p + "_wq"
		q.Location = &potv1.Location{Tensor: wt.GetName(), Node: conv.GetName(), Input: 1}
		q.Consumers = []string{conv.GetName()}
		s.plan.Quantizers = append(s.plan.Quantizers, q)
		for _, t := range []string{act.out, p + "_f", p + "_fu", p + "_fd"} {
			s.probes = append(s.probes, meanProbe(fmt.Sprintf("%s|%s", p, t), t, 1))
		}
		s.idx = append(s.idx, i)
	}
	if len(s.idx) == 0 {
		return nil
	}
	return s
}
