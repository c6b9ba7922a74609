package overflow

import (
	"context"
	"encoding/json"
	"math"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/algorithms/quant"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/graph"
)

// fakeHost answers Graph, DataInfo and CollectStatistics (abs-max per
// probed tensor from a table) and records the statistics requests.
type fakeHost struct {
	sdk.Host
	g        *potv1.Graph
	absMax   map[string]float32
	requests []*potv1.StatisticsRequest
}

func (h *fakeHost) Graph(context.Context, string) (*potv1.Graph, error) { return h.g, nil }

func (h *fakeHost) DataInfo(context.Context) (*potv1.DataInfoResponse, error) {
	return &potv1.DataInfoResponse{CalibrationSamples: 1000}, nil
}

func (h *fakeHost) CollectStatistics(_ context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	h.requests = append(h.requests, req)
	resp := &potv1.StatisticsResponse{Samples: int64(len(req.GetSamples().GetIndices()))}
	for _, p := range req.GetProbes() {
		resp.Values = append(resp.Values, &potv1.StatisticValue{ProbeId: p.GetId(), Values: []float32{h.absMax[p.GetTensor()]}})
	}
	return resp, nil
}

// model: X -> MatMul(W) -> mm -> Add(B) -> y, and X -> Gemm(V, 8-bit) -> z.
func model() *potv1.Graph {
	return &potv1.Graph{
		Inputs:  []*potv1.ValueInfo{{Name: "X"}},
		Outputs: []*potv1.ValueInfo{{Name: "y"}, {Name: "z"}},
		Initializers: []*potv1.Tensor{
			graph.FloatTensor("W", []int64{2, 2}, []float32{0.5, -0.25, 0.125, -0.5}),
			graph.FloatTensor("B", []int64{2}, []float32{1, 2}),
			graph.FloatTensor("V", []int64{2, 2}, []float32{1, 2, 3, 4}),
		},
		Nodes: []*potv1.Node{
			{Name: "mm", OpType: "MatMul", Inputs: []string{"X", "W"}, Outputs: []string{"mm"}},
			{Name: "bias", OpType: "Add", Inputs: []string{"mm", "B"}, Outputs: []string{"y"}},
			{Name: "fc", OpType: "Gemm", Inputs: []string{"X", "V"}, Outputs: []string{"z"}},
		},
	}
}

func quantizer(id string, loc *potv1.Location, weights bool, levels int64, r float32, consumers ...string) *potv1.Quantizer {
	return &potv1.Quantizer{Id: id, Location: loc, Weights: weights, Levels: levels, Consumers: consumers,
		InputLow: []float32{-r}, InputHigh: []float32{r}, OutputLow: []float32{-r}, OutputHigh: []float32{r}}
}

// plan: 16-bit input on [-1, 1] (step 2/65535), W 16-bit on [-0.5, 0.5]
// (step 1/65534), V 8-bit.
func incoming() *potv1.QuantizationPlan {
	return &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{
		quantizer("a:X", &potv1.Location{Tensor: "X"}, false, 65536, 1, "mm", "fc"),
		quantizer("w:mm:1", &potv1.Location{Tensor: "W", Node: "mm", Input: 1}, true, 65535, 0.5, "mm"),
		quantizer("w:fc:1", &potv1.Location{Tensor: "V", Node: "fc", Input: 1}, true, 255, 4, "fc"),
	}}
}

func run(t *testing.T, h *fakeHost, p *potv1.QuantizationPlan) (*potv1.QuantizationPlan, *Report) {
	t.Helper()
	params, _ := json.Marshal(map[string]any{"stat_subset_size": 300, "seed": 0})
	qp, err := quant.ParseParams(params)
	if err != nil {
		t.Fatal(err)
	}
	out, rep, err := Correct(context.Background(), h, &sdk.RunRequest{ModelID: "m", Plan: p, Params: params}, qp)
	if err != nil {
		t.Fatal(err)
	}
	return out, rep
}

func TestCorrectRescalesOverflowingLayer(t *testing.T) {
	h := &fakeHost{g: model(), absMax: map[string]float32{"y": 100, "mm": 99, "z": 1e9}}
	in := incoming()
	out, rep := run(t, h, in)
	inStep, wStep := 2.0/65535, 1.0/65534
	wantQ := 100 / (inStep * wStep)
	r := wantQ / math.MaxInt32
	if len(rep.Layers) != 1 || rep.Layers[0].Node != "mm" || rep.Layers[0].Output != "y" {
		t.Fatalf("layers %+v, want mm measured after its bias (y)", rep.Layers)
	}
	l := rep.Layers[0]
	if math.Abs(l.MaxQuantized/wantQ-1) > 1e-6 || math.Abs(l.Rescale/r-1) > 1e-6 {
		t.Errorf("max quantized %g, rescale %g; want %g, %g", l.MaxQuantized, l.Rescale, wantQ, r)
	}
	if _, ok := rep.Skipped["fc"]; !ok {
		t.Errorf("8-bit fc not skipped: %v", rep.Skipped)
	}
	// Weights divided by r, the weight quantizer's output range times r,
	// its input range and the other quantizers unchanged.
	if len(out.GetTensorUpdates()) != 1 || out.GetTensorUpdates()[0].GetName() != "W" {
		t.Fatalf("tensor updates %v, want W", out.GetTensorUpdates())
	}
	w, _ := graph.Float32s(out.GetTensorUpdates()[0])
	for i, orig := range []float32{0.5, -0.25, 0.125, -0.5} {
		if want := float32(float64(orig) / r); w[i] != want {
			t.Errorf("W[%d] = %g, want %g", i, w[i], want)
		}
	}
	wq := out.GetQuantizers()[1]
	if wq.GetInputHigh()[0] != 0.5 || math.Abs(float64(wq.GetOutputHigh()[0])/(0.5*r)-1) > 1e-6 || math.Abs(float64(wq.GetOutputLow()[0])/(-0.5*r)-1) > 1e-6 {
		t.Errorf("weight quantizer %v, want input ±0.5 and output ±%g", wq, 0.5*r)
	}
	if !proto.Equal(out.GetQuantizers()[0], in.GetQuantizers()[0]) || !proto.Equal(out.GetQuantizers()[2], in.GetQuantizers()[2]) {
		t.Error("other quantizers changed")
	}
	if in.GetQuantizers()[1].GetOutputHigh()[0] != 0.5 || len(in.GetTensorUpdates()) != 0 {
		t.Error("the incoming plan was modified")
	}
	// One statistics request: abs-max of y, on the float model.
	if len(h.requests) != 1 {
		t.Fatalf("%d statistics requests", len(h.requests))
	}
	req := h.requests[0]
	if len(req.GetPlan().GetQuantizers()) != 0 || len(req.GetProbes()) != 1 || req.GetProbes()[0].GetTensor() != "y" ||
		req.GetProbes()[0].GetReducer() != potv1.Reducer_REDUCER_ABS_MAX || req.GetProbes()[0].GetAggregator() != potv1.Aggregator_AGGREGATOR_MAX {
		t.Errorf("statistics request %v", req)
	}
	if n := len(req.GetSamples().GetIndices()); n != 300 {
		t.Errorf("%d calibration samples, want 300", n)
	}
	// After the correction the largest output fits the accumulator.
	newW := float64(wq.GetOutputHigh()[0]-wq.GetOutputLow()[0]) / 65534
	if q := 100 / (inStep * newW); q > math.MaxInt32*(1+1e-6) {
		t.Errorf("corrected max quantized output %g > INT32_MAX", q)
	}
}

func TestCorrectLeavesFittingLayers(t *testing.T) {
	h := &fakeHost{g: model(), absMax: map[string]float32{"y": 0.001}}
	in := incoming()
	out, rep := run(t, h, in)
	if !proto.Equal(out, in) {
		t.Error("plan changed")
	}
	if len(rep.Layers) != 1 || rep.Layers[0].Rescale != 0 {
		t.Errorf("layers %+v", rep.Layers)
	}
}

// A weight update of an earlier algorithm is what gets rescaled.
func TestCorrectRescalesUpdatedWeights(t *testing.T) {
	h := &fakeHost{g: model(), absMax: map[string]float32{"y": 100}}
	in := incoming()
	in.TensorUpdates = []*potv1.Tensor{graph.FloatTensor("W", []int64{2, 2}, []float32{1, 1, 1, 1})}
	out, rep := run(t, h, in)
	if len(out.GetTensorUpdates()) != 1 {
		t.Fatalf("%d tensor updates, want the one replaced", len(out.GetTensorUpdates()))
	}
	w, _ := graph.Float32s(out.GetTensorUpdates()[0])
	if want := float32(1 / rep.Layers[0].Rescale); w[0] != want {
		t.Errorf("W[0] = %g, want %g", w[0], want)
	}
	// Statistics were taken with the earlier update.
	if len(h.requests[0].GetPlan().GetTensorUpdates()) != 1 {
		t.Error("statistics without the incoming tensor updates")
	}
}

// Without consumers on the quantizers, the input quantizer is found up
// the graph.
func TestInputQuantizerUpTheGraph(t *testing.T) {
	g := model()
	g.Nodes = append([]*potv1.Node{{Name: "flat", OpType: "Flatten", Inputs: []string{"X0"}, Outputs: []string{"X"}}}, g.Nodes...)
	in := incoming()
	in.Quantizers[0] = quantizer("a:X0", &potv1.Location{Tensor: "X0"}, false, 65536, 1)
	h := &fakeHost{g: g, absMax: map[string]float32{"y": 100}}
	_, rep := run(t, h, in)
	if len(rep.Layers) != 1 || rep.Layers[0].InputStep != 2.0/65535 {
		t.Errorf("layers %+v, want the input step of a:X0", rep.Layers)
	}
}
