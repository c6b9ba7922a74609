package adaround

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"gonum.org/v1/gonum/mat"
	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
)

// Name is the algorithm's name.
const Name = "AdaRound"

// Algorithm is the AdaRound plugin.
type Algorithm struct{}

var _ sdk.Algorithm = Algorithm{}

// Describe implements sdk.Algorithm.
func (Algorithm) Describe(context.Context) (*potv1.AlgorithmDescription, error) {
	return &potv1.AlgorithmDescription{
		Name:    Name,
		Version: sdk.BuildVersion,
		Description: "Learns whether each weight rounds up or down, layer by layer, to reproduce the float layer's output " +
			"(Nagel et al. 2020, Up or Down? Adaptive Rounding for Post-Training Quantization); " +
			"quantizes with DefaultQuantization first unless the plan has weight quantizers.",
		ProtocolVersions: []int32{sdk.ProtocolVersion},
		ParamsSchema:     Schema,
		Defaults:         Defaults,
		Capabilities:     Capabilities(),
	}, nil
}

// LayerReport is the reconstruction error of one layer, E‖W̃x̃ − Wx‖²
// relative to E‖Wx‖², with weights rounded to nearest and as learned.
type LayerReport struct {
	Layer   string  `json:"layer"`
	Nearest float64 `json:"nearest"`
	Learned float64 `json:"adaround"`
	// Flipped is the share of weights rounded the other way than to
	// nearest.
	Flipped float64 `json:"flipped"`
}

// Report is AdaRound's report.
type Report struct {
	// Base is the report of DefaultQuantization when AdaRound ran it.
	Base    json.RawMessage   `json:"default_quantization,omitempty"`
	Layers  []LayerReport     `json:"layers"`
	Skipped map[string]string `json:"skipped,omitempty"`
	Samples int               `json:"samples"`
	Seconds float64           `json:"seconds"`
	// Tables are the above as tables for report.html (sdk.ReportTable).
	Tables []sdk.ReportTable `json:"tables,omitempty"`
}

// tables are the report's layers and skipped layers as tables, followed
// by the tables of DefaultQuantization's report, if any.
func (r *Report) tables() []sdk.ReportTable {
	t := sdk.NewReportTable("AdaRound: per-layer reconstruction error", "layer", "error, nearest rounding", "error, AdaRound", "weights flipped")
	t.Note = "E‖W̃x̃ − Wx‖² / E‖Wx‖² on the calibration columns, with the weights rounded to nearest and as learned; " +
		"flipped: share of the weights rounded the other way than to nearest."
	for _, l := range r.Layers {
		t.Add(l.Layer, l.Nearest, l.Learned, l.Flipped)
	}
	out := []sdk.ReportTable{*t}
	if len(r.Skipped) > 0 {
		sk := sdk.NewReportTable("AdaRound: layers left with nearest rounding", "layer", "reason")
		for _, k := range slices.Sorted(maps.Keys(r.Skipped)) {
			sk.Add(k, r.Skipped[k])
		}
		out = append(out, *sk)
	}
	return append(out, sdk.ReportTables(string(r.Base))...)
}

// Run implements sdk.Algorithm.
func (Algorithm) Run(ctx context.Context, h sdk.Host, req *sdk.RunRequest) (*potv1.RunResponse, error) {
	p, po, rest, err := parse(req.Params)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	rep := &Report{Skipped: map[string]string{}, Layers: []LayerReport{}}
	in := req.Plan
	if !hasWeightQuantizers(in) {
		resp, err := h.RunAlgorithm(ctx, &potv1.RunAlgorithmRequest{Name: "DefaultQuantization", ModelId: req.ModelID, Plan: in, Params: string(rest)})
		if err != nil {
			return nil, err
		}
		in = resp.GetPlan()
		if r := resp.GetReport(); json.Valid([]byte(r)) && r != "" {
			rep.Base = json.RawMessage(r)
		}
	}
	out, err := refine(ctx, h, req.ModelID, in, p, po, rep)
	if err != nil {
		return nil, err
	}
	rep.Seconds = math.Round(time.Since(start).Seconds()*100) / 100
	rep.Tables = rep.tables()
	b, err := json.Marshal(rep)
	if err != nil {
		return nil, err
	}
	return &potv1.RunResponse{Plan: out, Report: string(b)}, nil
}

func hasWeightQuantizers(p *potv1.QuantizationPlan) bool {
	for _, q := range p.GetQuantizers() {
		if q.GetWeights() {
			return true
		}
	}
	return false
}

// referencePlan is the float model of plan p: its tensor updates, but
// the biases of layers whose weights p leaves as they are in their
// initial values (what a bias correction changed for nearest rounding
// is not the float model).
func referencePlan(x *graph.Index, p *potv1.QuantizationPlan) *potv1.QuantizationPlan {
	updated := map[string]bool{}
	for _, t := range p.GetTensorUpdates() {
		updated[t.GetName()] = true
	}
	original := map[string]bool{}
	for _, n := range x.Nodes() {
		switch n.GetOpType() {
		case "Conv", "Gemm", "MatMul":
			if in := n.GetInputs(); len(in) > 1 && !updated[in[1]] {
				if b := biasOf(x, n); b != "" {
					original[b] = true
				}
			}
		}
	}
	ref := &potv1.QuantizationPlan{}
	for _, t := range p.GetTensorUpdates() {
		if !original[t.GetName()] {
			ref.TensorUpdates = append(ref.TensorUpdates, t)
		}
	}
	return ref
}

// tensorOf is an initializer as plan p updates it.
func tensorOf(x *graph.Index, p *potv1.QuantizationPlan, name string) *potv1.Tensor {
	for _, t := range p.GetTensorUpdates() {
		if t.GetName() == name {
			return t
		}
	}
	return x.Initializer(name)
}

// refine learns the rounding of the weights that plan in quantizes and
// returns the plan with the weights (and biases) updated.
func refine(ctx context.Context, h sdk.Host, model string, in *potv1.QuantizationPlan, p *Params, po *passedOn, rep *Report) (*potv1.QuantizationPlan, error) {
	g, err := h.Graph(ctx, model)
	if err != nil {
		return nil, err
	}
	x := graph.NewIndex(g)
	out := proto.Clone(in).(*potv1.QuantizationPlan)
	layers, skipped := findLayers(x, in)
	for k, v := range skipped {
		rep.Skipped[k] = v
	}
	if len(layers) == 0 {
		return out, nil
	}
	info, err := h.DataInfo(ctx)
	if err != nil {
		return nil, err
	}
	n := int(info.GetCalibrationSamples())
	size := p.Samples
	if size == 0 || size > n {
		size = n
	}
	shuffle := size < n
	if po.ShuffleData != nil {
		shuffle = *po.ShuffleData
	}
	idx := sdk.Subset(n, size, po.Seed, shuffle)
	rep.Samples = len(idx)
	ref := referencePlan(x, in)
	rng := rand.New(rand.NewPCG(uint64(po.Seed), 0xada))
	log := sdk.Logger()
	for i, l := range layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		_ = h.Progress(ctx, &potv1.ProgressRequest{Stage: "AdaRound", Done: int64(i), Total: int64(len(layers))})
		lr, reason, err := refineLayer(ctx, h, model, x, l, ref, out, idx, p, rng)
		if err != nil {
			return nil, err
		}
		if reason != "" {
			rep.Skipped[l.node.GetName()] = reason
			continue
		}
		log.Debug("layer", "node", lr.Layer, "nearest", lr.Nearest, "adaround", lr.Learned, "flipped", lr.Flipped)
		rep.Layers = append(rep.Layers, *lr)
	}
	_ = h.Progress(ctx, &potv1.ProgressRequest{Stage: "AdaRound", Done: int64(len(layers)), Total: int64(len(layers))})
	return out, nil
}

// input fetches a layer's input on the samples, under plan pl.
func input(ctx context.Context, h sdk.Host, model string, pl *potv1.QuantizationPlan, name string, idx []int64) ([]float32, []int64, error) {
	resp, err := h.Infer(ctx, &potv1.InferRequest{ModelId: model, Plan: pl, Samples: &potv1.Samples{Indices: idx}, Outputs: []string{name}})
	if err != nil {
		return nil, nil, err
	}
	if len(resp.GetOutputs()) != 1 {
		return nil, nil, fmt.Errorf("infer %q: %d outputs", name, len(resp.GetOutputs()))
	}
	return tensorValues(resp.GetOutputs()[0])
}

// refineLayer learns the rounding of one layer's weights and writes them
// (and its bias) into out; it returns why it left the layer, if it did.
func refineLayer(ctx context.Context, h sdk.Host, model string, x *graph.Index, l *layer, ref, out *potv1.QuantizationPlan,
	idx []int64, p *Params, rng *rand.Rand) (*LayerReport, string, error) {
	pr, err := plan.ParamsOf(l.wq)
	if err != nil {
		return nil, err.Error(), nil
	}
	for c := range pr.Scale {
		if math.Abs(float64(pr.Scale[c]-pr.OutScale[c])) > 1e-6*math.Abs(float64(pr.Scale[c])) {
			return nil, "the weight quantizer's output range differs from its input range", nil
		}
	}
	xf, dims, err := input(ctx, h, model, ref, l.in, idx)
	if err != nil {
		return nil, "", fmt.Errorf("layer %s: float input: %w", l.node.GetName(), err)
	}
	xq := xf
	if p.Input == "quantized" {
		var qd []int64
		if xq, qd, err = input(ctx, h, model, out, l.in, idx); err != nil {
			return nil, "", fmt.Errorf("layer %s: quantized input: %w", l.node.GetName(), err)
		}
		if !slices.Equal(dims, qd) {
			return nil, fmt.Sprintf("float input dims %v, quantized %v", dims, qd), nil
		}
		if q := l.inQ; q != nil {
			ip, err := plan.ParamsOf(q)
			if err != nil {
				return nil, err.Error(), nil
			}
			fakeQuantize(xq, dims, ip.Scale, ip.Zero, ip.OutScale, ip.Levels)
		}
	}
	mom, err := l.collect(xf, xq, dims, p.MaxColumns, rng)
	if err != nil {
		return nil, err.Error(), nil
	}
	wt := tensorOf(x, out, l.weight)
	w, err := graph.Float32s(wt)
	if err != nil {
		return nil, "", fmt.Errorf("layer %s: weights: %w", l.node.GetName(), err)
	}
	lw, err := l.learn(ctx, pr, w, mom, p.options())
	if err != nil {
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		return nil, "", fmt.Errorf("layer %s: %w", l.node.GetName(), err)
	}
	newW, shift := lw.values, lw.shift
	lr := &LayerReport{Layer: l.node.GetName(), Nearest: lw.nearest, Learned: lw.learned, Flipped: lw.flipped}
	plan.SetTensorUpdate(out, graph.FloatTensor(l.weight, wt.GetDims(), newW))
	if p.Bias == "layer" && l.bias != "" {
		bt := tensorOf(x, ref, l.bias)
		b, err := graph.Float32s(bt)
		if err != nil || len(b) != l.rows {
			return lr, "", nil
		}
		nb := make([]float32, len(b))
		for o := range b {
			nb[o] = b[o] + float32(shift[o])
		}
		plan.SetTensorUpdate(out, graph.FloatTensor(l.bias, bt.GetDims(), nb))
	}
	return lr, "", nil
}

// learned is a layer's learned rounding.
type learned struct {
	// values are the new weights in the weight's layout, levels their
	// level indices q (values = (q − zero)·scale).
	values []float32
	levels []int64
	// shift is W·E[x] − W̃·E[x̃] per output.
	shift []float64
	// nearest and learned are the reconstruction errors relative to the
	// output's energy; flipped the share of weights not rounded to
	// nearest.
	nearest, learned, flipped float64
}

// learn runs the optimiser on each group of the layer with weights w (in
// the weight's layout), quantizer parameters pr and input moments mom.
func (l *layer) learn(ctx context.Context, pr *plan.Params, w []float32, mom []*moments, o Options) (*learned, error) {
	per := l.rows / l.groups
	out := &learned{values: make([]float32, len(w)), levels: make([]int64, len(w)), shift: make([]float64, l.rows)}
	var nearest, learnedErr, energy float64
	flipped := 0
	for gi, m := range mom {
		lo, hi := gi*per, (gi+1)*per
		wm := mat.NewDense(per, l.cols, nil)
		for o := lo; o < hi; o++ {
			for j := 0; j < l.cols; j++ {
				wm.Set(o-lo, j, float64(w[l.index(o, j)]))
			}
		}
		grid := l.grid(pr, lo, hi)
		res, err := Optimize(ctx, &Problem{W: wm, Grid: grid, H: m.H, C: m.C, R: m.R, Xq: m.Xq, Xf: m.Xf}, o)
		if err != nil {
			return nil, err
		}
		nearest += res.Nearest
		learnedErr += res.Learned
		energy += res.Reference
		for o := lo; o < hi; o++ {
			s := 0.0
			for j := 0; j < l.cols; j++ {
				r := (o-lo)*l.cols + j
				v := res.Values[r]
				i := l.index(o, j)
				if math.Abs(v-float64(w[i])) > 0.5*grid.Scale[o-lo]*(1+1e-9) {
					flipped++
				}
				out.values[i] = float32(v)
				out.levels[i] = res.Levels[r]
				s += float64(w[i])*m.MeanF[j] - v*m.MeanQ[j]
			}
			out.shift[o] = s
		}
	}
	if energy > 0 {
		out.nearest, out.learned = round4(nearest/energy), round4(learnedErr/energy)
	}
	out.flipped = round4(float64(flipped) / float64(len(w)))
	return out, nil
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
