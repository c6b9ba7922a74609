package overflow

import (
	"context"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/algorithms/quant"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
)

// Int32Max is the largest accumulator value.
const Int32Max = math.MaxInt32

// weighted are the operations with weights on input 1 (POT's
// OPERATIONS_WITH_WEIGHTS in ONNX names).
var weighted = map[string]bool{"Conv": true, "ConvTranspose": true, "Gemm": true, "MatMul": true}

// Layer is what Correct found for one weighted layer.
type Layer struct {
	Node string `json:"node"`
	// Output is the tensor whose absolute maximum was measured (after the
	// bias).
	Output       string  `json:"output"`
	MaxAbsOutput float64 `json:"max_abs_output"`
	InputStep    float64 `json:"input_step"`
	WeightStep   float64 `json:"weight_step"`
	// MaxQuantized is MaxAbsOutput in accumulator units.
	MaxQuantized float64 `json:"max_quantized_output"`
	// Rescale is the factor the weights were divided by (0: unchanged).
	Rescale float64 `json:"rescale,omitempty"`
}

// Report is what OverflowCorrection reports.
type Report struct {
	Layers []Layer `json:"layers"`
	// Skipped names layers left alone and why.
	Skipped map[string]string `json:"skipped,omitempty"`
	Samples int64             `json:"stat_samples"`
}

// Algorithm is the OverflowCorrection plugin.
var Algorithm sdk.Algorithm = quant.Plugin[*Report]{
	Name:    "OverflowCorrection",
	Text:    "Rescales 16-bit weights so that no layer's largest output overflows GNA's int32 accumulator.",
	Compute: Correct,
}

// candidate is a layer to check.
type candidate struct {
	node   *potv1.Node
	weight *potv1.Quantizer
	output string
	inputs []*potv1.Quantizer
}

// Correct returns the incoming plan with the weights of overflowing
// layers rescaled.
func Correct(ctx context.Context, h sdk.Host, req *sdk.RunRequest, p *quant.Params) (*potv1.QuantizationPlan, *Report, error) {
	g, err := h.Graph(ctx, req.ModelID)
	if err != nil {
		return nil, nil, err
	}
	x := graph.NewIndex(g)
	out := proto.Clone(req.Plan).(*potv1.QuantizationPlan)
	rep := &Report{Layers: []Layer{}, Skipped: map[string]string{}}
	cands := candidates(x, out, rep)
	if len(cands) == 0 {
		return out, rep, nil
	}
	info, err := h.DataInfo(ctx)
	if err != nil {
		return nil, nil, err
	}
	sreq := &potv1.StatisticsRequest{
		ModelId: req.ModelID,
		// The float model with the plan's tensor updates: the quantized
		// one would show the very clipping being corrected.
		Plan:    &potv1.QuantizationPlan{TensorUpdates: out.GetTensorUpdates()},
		Samples: &potv1.Samples{Indices: sdk.Subset(int(info.GetCalibrationSamples()), p.StatSubsetSize, p.Seed, p.ShuffleData), BatchSize: int32(p.StatBatchSize)},
	}
	for _, c := range cands {
		sreq.Probes = append(sreq.Probes, &potv1.StatisticProbe{Id: c.node.GetName(), Tensor: c.output,
			Reducer: potv1.Reducer_REDUCER_ABS_MAX, Aggregator: potv1.Aggregator_AGGREGATOR_MAX})
	}
	resp, err := h.CollectStatistics(ctx, sreq)
	if err != nil {
		return nil, nil, fmt.Errorf("collect statistics: %w", err)
	}
	rep.Samples = resp.GetSamples()
	maxAbs := map[string]float64{}
	for _, v := range resp.GetValues() {
		m := 0.0
		for _, f := range v.GetValues() {
			m = max(m, math.Abs(float64(f)))
		}
		maxAbs[v.GetProbeId()] = m
	}
	updates := map[string]int{}
	for i, t := range out.GetTensorUpdates() {
		updates[t.GetName()] = i
	}
	rescaled := map[string]string{} // weight tensor -> node
	for _, c := range cands {
		l := Layer{Node: c.node.GetName(), Output: c.output, MaxAbsOutput: maxAbs[c.node.GetName()],
			WeightStep: step(c.weight)}
		for _, q := range c.inputs {
			l.InputStep = max(l.InputStep, step(q))
		}
		l.MaxQuantized = l.MaxAbsOutput / (l.InputStep * l.WeightStep)
		if l.MaxQuantized > Int32Max {
			w := c.node.GetInputs()[1]
			if by, ok := rescaled[w]; ok {
				rep.Skipped[l.Node] = fmt.Sprintf("weights %q are shared with %s, already rescaled", w, by)
				rep.Layers = append(rep.Layers, l)
				continue
			}
			l.Rescale = l.MaxQuantized / Int32Max
			if err := rescale(x, out, updates, w, c.weight, l.Rescale); err != nil {
				return nil, nil, fmt.Errorf("node %q: %w", l.Node, err)
			}
			rescaled[w] = l.Node
		}
		rep.Layers = append(rep.Layers, l)
	}
	return out, rep, nil
}

// step is a quantizer's largest output step.
func step(q *potv1.Quantizer) float64 {
	s := 0.0
	for c := range q.GetOutputLow() {
		s = max(s, float64(q.GetOutputHigh()[c]-q.GetOutputLow()[c])/float64(q.GetLevels()-1))
	}
	return s
}

// candidates are the weighted layers with weight quantizers of more than
// 255 levels, with their input quantizers and measured output.
func candidates(x *graph.Index, p *potv1.QuantizationPlan, rep *Report) []*candidate {
	float := plan.FloatNodes(p)
	var weights, acts []*potv1.Quantizer
	for _, q := range p.GetQuantizers() {
		if q.GetWeights() {
			weights = append(weights, q)
		} else {
			acts = append(acts, q)
		}
	}
	var out []*candidate
	for _, n := range x.G.GetNodes() {
		if !weighted[n.GetOpType()] || n.GetDomain() != "" || len(n.GetInputs()) < 2 || float[n.GetName()] {
			continue
		}
		var wq *potv1.Quantizer
		for _, q := range weights {
			if loc := q.GetLocation(); loc.GetNode() == n.GetName() && loc.GetInput() == 1 || loc.GetNode() == "" && loc.GetTensor() == n.GetInputs()[1] {
				wq = q
			}
		}
		if wq == nil {
			continue
		}
		if wq.GetLevels() <= math.MaxUint8 {
			rep.Skipped[n.GetName()] = fmt.Sprintf("%d-level weights cannot overflow the accumulator", wq.GetLevels())
			continue
		}
		c := &candidate{node: n, weight: wq, output: outputAfterBias(x, n), inputs: inputQuantizers(x, n, acts)}
		if len(c.inputs) == 0 {
			rep.Skipped[n.GetName()] = "no quantizer on its input"
			continue
		}
		out = append(out, c)
	}
	return out
}

// outputAfterBias is a layer's output, or the output of the Add of a
// constant that follows it alone (a MatMul's or a Conv's separate bias).
func outputAfterBias(x *graph.Index, n *potv1.Node) string {
	o := n.GetOutputs()[0]
	cs := x.Consumers(o)
	if len(cs) != 1 || x.IsGraphOutput(o) {
		return o
	}
	add := cs[0].Node
	if add.GetOpType() != "Add" || len(add.GetInputs()) != 2 {
		return o
	}
	other := add.GetInputs()[1-cs[0].Input]
	if x.Constant(other) == nil {
		return o
	}
	return add.GetOutputs()[0]
}

// inputQuantizers are the activation quantizers a layer reads: those
// naming it as a consumer, else the first found up the graph from its
// input through operations without constant weights.
func inputQuantizers(x *graph.Index, n *potv1.Node, acts []*potv1.Quantizer) []*potv1.Quantizer {
	var out []*potv1.Quantizer
	for _, q := range acts {
		for _, c := range q.GetConsumers() {
			if c == n.GetName() {
				out = append(out, q)
				break
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	byTensor := map[string]*potv1.Quantizer{}
	for _, q := range acts {
		loc := q.GetLocation()
		if loc.GetNode() == n.GetName() && loc.GetInput() == 0 {
			return []*potv1.Quantizer{q}
		}
		if loc.GetNode() == "" {
			byTensor[loc.GetTensor()] = q
		}
	}
	seen := map[string]bool{}
	var walk func(t string)
	walk = func(t string) {
		if seen[t] || x.Constant(t) != nil {
			return
		}
		seen[t] = true
		if q, ok := byTensor[t]; ok {
			out = append(out, q)
			return
		}
		prod := x.Producer(t)
		if prod == nil || weighted[prod.GetOpType()] {
			return
		}
		for _, in := range prod.GetInputs() {
			if in != "" {
				walk(in)
			}
		}
	}
	walk(n.GetInputs()[0])
	return out
}

// rescale divides the weights by r (as a tensor update of the plan) and
// multiplies the weight quantizer's output range by r.
func rescale(x *graph.Index, p *potv1.QuantizationPlan, updates map[string]int, name string, q *potv1.Quantizer, r float64) error {
	src := x.Constant(name)
	i, updated := updates[name]
	if updated {
		src = p.TensorUpdates[i]
	}
	if src == nil {
		return fmt.Errorf("weights %q are not a constant", name)
	}
	v, err := graph.Float32s(src)
	if err != nil {
		return err
	}
	for j, f := range v {
		v[j] = float32(float64(f) / r)
	}
	t := graph.FloatTensor(name, src.GetDims(), v)
	if updated {
		p.TensorUpdates[i] = t
	} else {
		updates[name] = len(p.TensorUpdates)
		p.TensorUpdates = append(p.TensorUpdates, t)
	}
	for c := range q.OutputLow {
		q.OutputLow[c] = float32(float64(q.OutputLow[c]) * r)
		q.OutputHigh[c] = float32(float64(q.OutputHigh[c]) * r)
	}
	return nil
}
