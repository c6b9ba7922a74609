package biascorr

import (
	"context"
	"math"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/algorithms/quant"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
)

// The model: y = Gemm(x, w = [[2]], b = [0.5], transB), x of shape [N, 1],
// calibration samples x = 1, 2, 3, 4.
var samples = []float64{1, 2, 3, 4}

func model() *potv1.Graph {
	return &potv1.Graph{
		Opsets:  []*potv1.OpsetImport{{Version: 13}},
		Inputs:  []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Outputs: []*potv1.ValueInfo{{Name: "y", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Initializers: []*potv1.Tensor{
			graph.FloatTensor("w", []int64{1, 1}, []float32{2}),
			graph.FloatTensor("b", []int64{1}, []float32{0.5}),
		},
		Nodes: []*potv1.Node{{Name: "fc", OpType: "Gemm", Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"},
			Attributes: []*potv1.Attribute{{Name: "transB", Type: potv1.Attribute_TYPE_INT, I: 1}}}},
	}
}

// quantized is the plan MinMax would give: x unsigned in [0, 4] (scale
// 4/255), w symmetric narrow in [-2.1, 2.1] (scale 4.2/254).
func quantized() *potv1.QuantizationPlan {
	return &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{
		{Id: "a:x", Location: &potv1.Location{Tensor: "x"}, Consumers: []string{"fc"}, Bits: 8, Levels: 256, LevelLow: 0, LevelHigh: 255,
			InputLow: []float32{0}, InputHigh: []float32{4}, OutputLow: []float32{0}, OutputHigh: []float32{4}},
		{Id: "w:fc:1", Location: &potv1.Location{Tensor: "w", Node: "fc", Input: 1}, Weights: true, Consumers: []string{"fc"}, Bits: 8,
			Levels: 255, LevelLow: -127, LevelHigh: 127,
			InputLow: []float32{-2.1}, InputHigh: []float32{2.1}, OutputLow: []float32{-2.1}, OutputHigh: []float32{2.1}},
	}}
}

// fq applies a quantizer to a value, as FakeQuantize does.
func fq(q *potv1.Quantizer, x float64) float64 {
	p, _ := plan.ParamsOf(q)
	s, z := float64(p.Scale[0]), float64(p.Zero[0])
	lvl := math.Max(0, math.Min(float64(p.Levels-1), math.RoundToEven(x/s)+z))
	return (lvl - z) * float64(p.OutScale[0])
}

// host evaluates the model analytically.
type host struct {
	sdk.Host
	g   *potv1.Graph
	sub map[string]*potv1.Graph
	// dims are the shapes of tensors other than x and y for one sample.
	dims map[string][]int64
}

func (h *host) Graph(context.Context, string) (*potv1.Graph, error) { return h.g, nil }

func (h *host) DataInfo(context.Context) (*potv1.DataInfoResponse, error) {
	return &potv1.DataInfoResponse{CalibrationSamples: int64(len(samples))}, nil
}

func (h *host) Progress(context.Context, *potv1.ProgressRequest) error { return nil }

func (h *host) LoadModel(_ context.Context, g *potv1.Graph) (string, error) {
	h.sub = map[string]*potv1.Graph{"sub": g}
	return "sub", nil
}

func (h *host) UnloadModel(context.Context, string) error { return nil }

// forward computes y for an input under a plan: the quantizers of x and
// w, and the plan's bias.
func forward(p *potv1.QuantizationPlan, g *potv1.Graph, xName, wName string, x float64) (y float64, bias float64) {
	w := 2.0
	for _, t := range p.GetTensorUpdates() {
		if t.GetName() == "b" {
			v, _ := graph.Float32s(t)
			bias = float64(v[0])
		}
	}
	if bias == 0 {
		bias = 0.5
	}
	for _, q := range p.GetQuantizers() {
		switch q.GetLocation().GetTensor() {
		case xName:
			x = fq(q, x)
		case wName:
			w = fq(q, w)
		}
	}
	return w * x, bias
}

func (h *host) Infer(_ context.Context, req *potv1.InferRequest) (*potv1.InferResponse, error) {
	if req.GetModelId() != "sub" { // shapes of the layers' inputs and outputs
		resp := &potv1.InferResponse{}
		for _, name := range req.GetOutputs() {
			d := h.dims[name]
			if d == nil {
				d = []int64{1, 1}
			}
			resp.Outputs = append(resp.Outputs, graph.FloatTensor(name, d, make([]float32, graph.NumElements(d))))
		}
		return resp, nil
	}
	in, _ := graph.Float32s(req.GetInputs()[0])
	y, _ := forward(req.GetPlan(), nil, "fbc_in0", "w", float64(in[0]))
	return &potv1.InferResponse{Outputs: []*potv1.Tensor{graph.FloatTensor("fbc_out0", []int64{1, 1}, []float32{float32(y)})}}, nil
}

func (h *host) CollectStatistics(_ context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	idx := req.GetSamples().GetIndices()
	resp := &potv1.StatisticsResponse{Samples: int64(len(idx))}
	for _, pr := range req.GetProbes() {
		var sum float64
		for _, i := range idx {
			x := samples[i]
			switch pr.GetTensor() {
			case "x":
				sum += x
			case "y":
				y, b := forward(req.GetPlan(), h.g, "x", "w", x)
				sum += y + b
			}
		}
		resp.Values = append(resp.Values, &potv1.StatisticValue{ProbeId: pr.GetId(), Values: []float32{float32(sum / float64(len(idx)))}})
	}
	return resp, nil
}

func bias(t *testing.T, p *potv1.QuantizationPlan) float64 {
	t.Helper()
	for _, u := range p.GetTensorUpdates() {
		if u.GetName() == "b" {
			v, _ := graph.Float32s(u)
			return float64(v[0])
		}
	}
	t.Fatal("no bias update")
	return 0
}

func TestFastBiasCorrection(t *testing.T) {
	h := &host{g: model()}
	p, rep, err := Fast(context.Background(), h, &sdk.RunRequest{ModelID: "m", Plan: quantized()}, &quant.Params{})
	if err != nil {
		t.Fatal(err)
	}
	// w = 2 quantizes to 121·4.2/254; the constant input E[x] = 2.5 is
	// not quantized. new b = b + (w - w_q)·E[x].
	want := 0.5 + (2-121*4.2/254)*2.5
	if got := bias(t, p); math.Abs(got-want) > 1e-5 {
		t.Errorf("corrected bias %.6f, want %.6f", got, want)
	}
	if len(rep.Corrected) != 1 || rep.Corrected[0] != "fc" {
		t.Errorf("report %+v", rep)
	}
}

func TestBiasCorrection(t *testing.T) {
	h := &host{g: model()}
	p, rep, err := Full(context.Background(), h, &sdk.RunRequest{ModelID: "m", Plan: quantized()}, &quant.Params{})
	if err != nil {
		t.Fatal(err)
	}
	// 20% of 4 samples is one: x = 1, which quantizes to 64·4/255.
	// shift = E[y_float] - E[y_quant] = 2·1 - (121·4.2/254)·(64·4/255).
	want := 0.5 + 2 - (121*4.2/254)*(64*4.0/255)
	if got := bias(t, p); math.Abs(got-want) > 1e-5 {
		t.Errorf("corrected bias %.6f, want %.6f", got, want)
	}
	if rep.Samples != 1 || len(rep.Corrected) != 1 {
		t.Errorf("report %+v", rep)
	}
}

func TestThresholdSkips(t *testing.T) {
	h := &host{g: model()}
	tiny := 1e-6
	p, rep, err := Fast(context.Background(), h, &sdk.RunRequest{ModelID: "m", Plan: quantized()}, &quant.Params{Threshold: &tiny})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.GetTensorUpdates()) != 0 || rep.Skipped["fc"] == "" {
		t.Errorf("a shift above the threshold was applied: %+v", rep)
	}
}

// POT's formula: the data's float output mean minus the quantized
// sub-model's output, the constant input quantized too (2.5 to 159·4/255).
func TestFastBiasCorrectionStatisticsReference(t *testing.T) {
	h := &host{g: model()}
	p, _, err := Fast(context.Background(), h, &sdk.RunRequest{ModelID: "m", Plan: quantized()},
		&quant.Params{FastBiasReference: quant.FastBiasStatistics})
	if err != nil {
		t.Fatal(err)
	}
	want := 5.5 - (121*4.2/254)*(159*4.0/255)
	if got := bias(t, p); math.Abs(got-want) > 1e-5 {
		t.Errorf("corrected bias %.6f, want %.6f", got, want)
	}
}

// recording is a host that records the statistics requests made.
type recording struct {
	*host
	reqs []*potv1.StatisticsRequest
}

func (r *recording) CollectStatistics(ctx context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	r.reqs = append(r.reqs, proto.CloneOf(req))
	return r.host.CollectStatistics(ctx, req)
}

// TestFastStatisticsForesees checks what FastBiasCorrection tells ahead
// of its run, from the plan before MinMax (no quantizers), against the
// request Fast then makes on MinMax's plan: the same model, float plan
// and samples, and every probe Fast asks for among those told, so that
// the host answers Fast from the pass the prefetch joined.
func TestFastStatisticsForesees(t *testing.T) {
	p := &quant.Params{StatSubsetSize: 3, StatBatchSize: 2}
	before := &potv1.QuantizationPlan{TensorUpdates: []*potv1.Tensor{graph.FloatTensor("b", []int64{1}, []float32{0.25})}}
	told, err := FastStatistics(context.Background(), &host{g: model()}, &sdk.RunRequest{ModelID: "m", Plan: before}, p)
	if err != nil || len(told) != 1 {
		t.Fatalf("FastStatistics = %v, %v; want one request", told, err)
	}
	after := quantized()
	after.TensorUpdates = before.TensorUpdates // MinMax passes them on
	h := &recording{host: &host{g: model()}}
	if _, _, err := Fast(context.Background(), h, &sdk.RunRequest{ModelID: "m", Plan: after}, p); err != nil {
		t.Fatal(err)
	}
	if len(h.reqs) != 1 {
		t.Fatalf("Fast made %d statistics requests, want 1", len(h.reqs))
	}
	run, ahead := h.reqs[0], told[0]
	if run.GetModelId() != ahead.GetModelId() || !proto.Equal(run.GetPlan(), ahead.GetPlan()) || !proto.Equal(run.GetSamples(), ahead.GetSamples()) {
		t.Errorf("Fast's pass (%s, %v, %v) is not the one told (%s, %v, %v)", run.GetModelId(), run.GetPlan(), run.GetSamples(),
			ahead.GetModelId(), ahead.GetPlan(), ahead.GetSamples())
	}
	for _, want := range run.GetProbes() {
		found := false
		for _, p := range ahead.GetProbes() {
			q := proto.CloneOf(p)
			q.Id = want.GetId()
			found = found || proto.Equal(q, want)
		}
		if !found {
			t.Errorf("Fast's probe %v was not told ahead (%v)", want, ahead.GetProbes())
		}
	}
	if len(run.GetProbes()) == 0 {
		t.Error("Fast asked for no statistics")
	}
}

// counting is a host that counts Graph and Infer calls.
type counting struct {
	*host
	graphs, infers int
}

func (c *counting) Graph(ctx context.Context, id string) (*potv1.Graph, error) {
	c.graphs++
	return c.host.Graph(ctx, id)
}

func (c *counting) Infer(ctx context.Context, req *potv1.InferRequest) (*potv1.InferResponse, error) {
	c.infers++
	return c.host.Infer(ctx, req)
}

// TestFastAlgorithmReusesPrefetch checks that the FastBiasCorrection
// plugin's run after its prefetch fetches no graph and infers no shapes
// again (the sub-model's inference remains), and corrects the bias as a
// run of its own does.
func TestFastAlgorithmReusesPrefetch(t *testing.T) {
	ctx := context.Background()
	alone := &counting{host: &host{g: model()}}
	want, err := FastAlgorithm.Run(ctx, alone, &sdk.RunRequest{ModelID: "m", Plan: quantized(), Params: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	h := &counting{host: &host{g: model()}}
	if _, err := FastAlgorithm.(sdk.Prefetcher).Prefetch(ctx, h, &sdk.RunRequest{ModelID: "m2", Plan: &potv1.QuantizationPlan{}, Params: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	told := *h
	got, err := FastAlgorithm.Run(ctx, h, &sdk.RunRequest{ModelID: "m2", Plan: quantized(), Params: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if h.graphs != told.graphs || h.infers-told.infers != alone.infers-1 {
		t.Errorf("the run after the prefetch made %d graph and %d inference calls, want 0 and %d", h.graphs-told.graphs, h.infers-told.infers, alone.infers-1)
	}
	if !proto.Equal(got.GetPlan(), want.GetPlan()) {
		t.Errorf("the plan after a prefetch differs: %v, want %v", got.GetPlan(), want.GetPlan())
	}
}
