package quant

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/hwconfig"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/sdk/plan"
)

// gemmConfig is the part of POT's cpu.json hey_jarvis touches.
const gemmConfig = `{"target_device": "CPU", "config": {"quantization": {
    "q8_a": {"bits": 8, "mode": ["symmetric", "asymmetric"], "granularity": "pertensor"},
    "q8_w_sym": {"bits": 8, "mode": "symmetric", "level_low": -127, "level_high": 127, "granularity": "perchannel"}}},
  "operations": [
    {"type": "Gemm", "quantization": {"activations": "q8_a", "weights": "q8_w_sym"}},
    {"type": "LSTM", "quantization": {"activations": "q8_a", "weights": "q8_w_sym"}},
    {"type": "Equal", "quantization": {"activations": "q8_a", "weights": "q8_w_sym"}},
    {"type": "Flatten"}]}`

func realModel(t *testing.T, name string) *graph.Index {
	t.Helper()
	g, err := onnx.ReadGraph(filepath.Join("..", "..", "host", "cli", "testdata", "openwakeword", name))
	if err != nil {
		t.Fatal(err)
	}
	return graph.NewIndex(g)
}

// TestPlaceInsideSubgraphs: quantizers go on the layers of If branches
// as on the main graph's: the weights and inputs of hey_jarvis's verifier
// Gemms; for silero_vad's LSTMs (two If levels down), X, W, R and the
// initial hidden state, not the bias or the initial cell.
func TestPlaceInsideSubgraphs(t *testing.T) {
	hw, err := hwconfig.Parse([]byte(gemmConfig))
	if err != nil {
		t.Fatal(err)
	}
	x := realModel(t, "hey_jarvis_v0.1.onnx")
	points, err := Place(x, NewConfig(hw), PlaceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range points {
		ids = append(ids, p.ID)
	}
	for _, want := range []string{"w:Gemm_34:1", "w:Gemm_47:1", "w:Gemm_60:1", "a:input.23", "a:result.7", "a:result.11", "w:Gemm_1:1", "a:input"} {
		if !strings.Contains(" "+strings.Join(ids, " ")+" ", " "+want+" ") {
			t.Errorf("no point %s among %v", want, ids)
		}
	}
	x = realModel(t, "silero_vad.onnx")
	points, err = Place(x, NewConfig(hw), PlaceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[int]bool{}
	for _, p := range points {
		for _, port := range p.Ports {
			if port.Node.GetName() == "LSTM_245" {
				inputs[port.Input] = true
			}
		}
	}
	if fmt.Sprint(inputs) != "map[0:true 1:true 2:true 5:true]" {
		t.Errorf("LSTM_245's quantized inputs: %v", inputs)
	}
	// Integers are not quantized: the sample rate and the shapes the
	// branches compare (Equal is quantizable in POT's configs).
	for _, p := range points {
		if dt := x.ValueType(p.Tensor); dt != potv1.DataType_DATA_TYPE_UNDEFINED && dt != potv1.DataType_DATA_TYPE_FLOAT {
			t.Errorf("point %s on a %v tensor", p.ID, dt)
		}
	}
}

// branchHost answers statistics for hey_jarvis: the main graph's tensors
// have values; the verifier branch's have none (no calibration sample
// ran it) unless taken.
type branchHost struct {
	sdk.Host
	x     *graph.Index
	taken bool
	inf   string // a tensor whose maximum is +Inf (float16 overflow)
}

func (h *branchHost) Graph(context.Context, string) (*potv1.Graph, error) { return h.x.G, nil }

func (h *branchHost) DataInfo(context.Context) (*potv1.DataInfoResponse, error) {
	return &potv1.DataInfoResponse{CalibrationSamples: 4}, nil
}

func (h *branchHost) CollectStatistics(_ context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	resp := &potv1.StatisticsResponse{Samples: 4}
	for _, p := range req.GetProbes() {
		v := &potv1.StatisticValue{ProbeId: p.GetId(), Samples: 4, Values: []float32{-1}}
		if strings.HasSuffix(p.GetId(), "/max") {
			v.Values = []float32{2}
			if p.GetTensor() == h.inf {
				v.Values = []float32{float32(math.Inf(1))}
			}
		}
		if prod := h.x.Producer(p.GetTensor()); prod != nil && h.x.InSubgraph(prod.GetName()) && !h.taken {
			v.Values, v.Samples = nil, 0
		}
		resp.Values = append(resp.Values, v)
	}
	return resp, nil
}

// TestMinMaxBranchNotTaken: when no calibration sample runs hey_jarvis's
// verifier branch, its Gemms stay float with the reason in the plan and
// the report (their quantizers are reverted), and the rest is quantized;
// when samples run it, its Gemms are quantized like the others.
func TestMinMaxBranchNotTaken(t *testing.T) {
	hw, err := hwconfig.Parse([]byte(gemmConfig))
	if err != nil {
		t.Fatal(err)
	}
	for _, taken := range []bool{false, true} {
		h := &branchHost{x: realModel(t, "hey_jarvis_v0.1.onnx"), taken: taken}
		p, err := ParseParams([]byte(`{"preset": "performance"}`))
		if err != nil {
			t.Fatal(err)
		}
		out, rep, err := MinMax(context.Background(), h, &sdk.RunRequest{ModelID: "m", Plan: &potv1.QuantizationPlan{},
			Target: &potv1.TargetDescription{Name: "cpu", Device: "CPU", HardwareConfig: hw}}, p)
		if err != nil {
			t.Fatalf("taken %v: %v", taken, err)
		}
		float := plan.FloatNodes(out)
		var floats []string
		for n := range float {
			floats = append(floats, n)
		}
		sort.Strings(floats)
		active := map[string]bool{}
		for _, q := range out.GetQuantizers() {
			if !plan.Reverted(q, float) {
				for _, c := range q.GetConsumers() {
					active[c] = true
				}
			}
		}
		if taken {
			if len(floats) != 0 || len(rep.Float) != 0 || !active["Gemm_34"] || !active["Gemm_60"] {
				t.Errorf("branch taken: float %v, quantized %v", floats, active)
			}
			continue
		}
		if fmt.Sprint(floats) != "[Gemm_34 Gemm_47 Gemm_60]" {
			t.Errorf("float layers %v, want the verifier's Gemms", floats)
		}
		for _, np := range out.GetPrecisions() {
			if !strings.Contains(np.GetReason(), `then_branch of If "If_32"`) || rep.Float[np.GetNode()] != np.GetReason() {
				t.Errorf("%s: reason %q, report %q", np.GetNode(), np.GetReason(), rep.Float[np.GetNode()])
			}
		}
		if active["Gemm_34"] || active["Gemm_47"] || active["Gemm_60"] || !active["Gemm_1"] || !active["Gemm_27"] {
			t.Errorf("quantized layers %v", active)
		}
	}
}

// TestMinMaxInfiniteRange: an input whose statistics reach an infinity on
// the target (a float16 device past ±65504) gets no quantizer; the layer
// it feeds stays float, with the reason in the plan and the report,
// instead of a plan that fails when it is applied.
func TestMinMaxInfiniteRange(t *testing.T) {
	hw, err := hwconfig.Parse([]byte(gemmConfig))
	if err != nil {
		t.Fatal(err)
	}
	h := &branchHost{x: realModel(t, "hey_jarvis_v0.1.onnx"), taken: true, inf: "result"}
	p, err := ParseParams([]byte(`{"preset": "performance"}`))
	if err != nil {
		t.Fatal(err)
	}
	out, rep, err := MinMax(context.Background(), h, &sdk.RunRequest{ModelID: "m", Plan: &potv1.QuantizationPlan{},
		Target: &potv1.TargetDescription{Name: "gpu", Device: "GPU", HardwareConfig: hw}}, p)
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Float["Gemm_14"]; r != `its input "result" reaches +Inf on the target` || len(rep.Float) != 1 {
		t.Errorf("float layers %v", rep.Float)
	}
	for _, q := range out.GetQuantizers() {
		if q.GetLocation().GetTensor() == "result" || slices.Contains(q.GetConsumers(), "Gemm_14") && !q.GetWeights() {
			t.Errorf("quantizer %s on the infinite input", q.GetId())
		}
		if _, err := plan.ParamsOf(q); err != nil {
			t.Errorf("quantizer %s: %v", q.GetId(), err)
		}
	}
}

// TestMinMaxNeedRescale: the layers an earlier algorithm rescaled (the
// plan's need_rescale, or an older plugin's metadata) get the saturation
// fix besides the first layer, and the plan passes the list on.
func TestMinMaxNeedRescale(t *testing.T) {
	hw, err := hwconfig.Parse([]byte(strings.Replace(gemmConfig, `{"type": "Flatten"}`, `{"type": "Conv", "quantization": {"activations": "q8_a", "weights": "q8_w_sym"}}`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseParams([]byte(`{"preset": "performance"}`))
	if err != nil {
		t.Fatal(err)
	}
	g, err := onnx.ReadGraph(filepath.Join("..", "..", "examples", "models", "lenet_mnist.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	run := func(in *potv1.QuantizationPlan) (*potv1.QuantizationPlan, *MinMaxReport) {
		t.Helper()
		h := &branchHost{x: graph.NewIndex(g), taken: true}
		out, rep, err := MinMax(context.Background(), h, &sdk.RunRequest{ModelID: "m", Plan: in,
			Target: &potv1.TargetDescription{Name: "cpu", Device: "CPU", HardwareConfig: hw}}, p)
		if err != nil {
			t.Fatal(err)
		}
		return out, rep
	}
	_, base := run(&potv1.QuantizationPlan{})
	if slices.Contains(base.SaturationFixed, "/c2/Conv") || len(base.SaturationFixed) == 0 {
		t.Fatalf("without need_rescale the fixed layers are %v", base.SaturationFixed)
	}
	tests := []struct {
		name string
		in   *potv1.QuantizationPlan
	}{
		{"typed", &potv1.QuantizationPlan{NeedRescale: []string{"/c2/Conv"}}},
		{"older plugin's metadata", &potv1.QuantizationPlan{Metadata: map[string]string{"need_rescale": "/c2/Conv"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, rep := run(tc.in)
			if want := append(slices.Clone(base.SaturationFixed), "/c2/Conv"); !sameSet(rep.SaturationFixed, want) {
				t.Errorf("fixed layers %v, want %v", rep.SaturationFixed, want)
			}
			if !slices.Equal(out.GetNeedRescale(), []string{"/c2/Conv"}) || out.GetMetadata()["need_rescale"] != "" {
				t.Errorf("plan's need_rescale %q, metadata %v", out.GetNeedRescale(), out.GetMetadata())
			}
		})
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
