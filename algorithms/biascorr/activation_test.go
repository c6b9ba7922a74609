package biascorr

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/potgo/pot/algorithms/quant"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/graph"
)

func TestActivationAfter(t *testing.T) {
	node := func(name, op string, in []string, out string) *potv1.Node {
		return &potv1.Node{Name: name, OpType: op, Inputs: in, Outputs: []string{out}}
	}
	conv := node("conv", "Conv", []string{"x", "w"}, "z")
	for _, tc := range []struct {
		name  string
		nodes []*potv1.Node
		out   []string
		want  string
	}{
		{"relu", []*potv1.Node{conv, node("relu", "Relu", []string{"z"}, "y")}, nil, "y"},
		{"hard-swish", []*potv1.Node{conv, node("hs", "HardSigmoid", []string{"z"}, "h"), node("mul", "Mul", []string{"z", "h"}, "y")}, nil, "y"},
		{"hard-swish, operands swapped", []*potv1.Node{conv, node("hs", "HardSigmoid", []string{"z"}, "h"), node("mul", "Mul", []string{"h", "z"}, "y")}, nil, "y"},
		{"relu and another reader", []*potv1.Node{conv, node("relu", "Relu", []string{"z"}, "y"), node("add", "Add", []string{"z", "y"}, "s")}, nil, ""},
		{"z is a graph output", []*potv1.Node{conv, node("relu", "Relu", []string{"z"}, "y")}, []string{"z"}, ""},
		{"Mul of something else", []*potv1.Node{conv, node("hs", "HardSigmoid", []string{"z"}, "h"), node("mul", "Mul", []string{"x", "h"}, "y"), node("id", "Identity", []string{"z"}, "i")}, nil, ""},
		{"HardSigmoid read twice", []*potv1.Node{conv, node("hs", "HardSigmoid", []string{"z"}, "h"), node("mul", "Mul", []string{"z", "h"}, "y"), node("id", "Identity", []string{"h"}, "i")}, nil, ""},
		{"no activation", []*potv1.Node{conv, node("add", "Add", []string{"z", "x"}, "y")}, nil, ""},
	} {
		g := &potv1.Graph{Nodes: tc.nodes}
		for _, o := range tc.out {
			g.Outputs = append(g.Outputs, &potv1.ValueInfo{Name: o})
		}
		a := activationAfter(graph.NewIndex(g), "z")
		got := ""
		if a != nil {
			got = a.out
		}
		if got != tc.want {
			t.Errorf("%s: activation output %q, want %q", tc.name, got, tc.want)
		}
	}
}

// shadowHost answers the statistics of activationShifts for one layer
// whose activation is linear around its operating point: E[f(z)] = f in
// the float model, and E[f(z_q)] = fq + slope·(b - b0) for the shadow
// layer's bias b (the plan's update of it, else its initializer). It
// keeps the model and the last plan it was given and counts loads and
// statistics passes.
type shadowHost struct {
	sdk.Host
	g                *potv1.Graph
	plan             *potv1.QuantizationPlan
	loads, steps     int
	f, fq, slope, b0 float32
}

func (h *shadowHost) LoadModel(_ context.Context, g *potv1.Graph) (string, error) {
	h.g = g
	h.loads++
	return "shadow", nil
}

func (h *shadowHost) UnloadModel(context.Context, string) error { return nil }

// bias is the shadow bias the last plan runs with.
func (h *shadowHost) bias() []float32 {
	t := graph.NewIndex(h.g).Initializer("fbc_act0_b")
	for _, u := range h.plan.GetTensorUpdates() {
		if u.GetName() == "fbc_act0_b" {
			t = u
		}
	}
	b, _ := graph.Float32s(t)
	return b
}

func (h *shadowHost) CollectStatistics(_ context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	h.plan = req.GetPlan()
	h.steps++
	fq := h.fq + h.slope*(h.bias()[0]-h.b0)
	resp := &potv1.StatisticsResponse{}
	for i, p := range req.GetProbes() {
		v := []float32{h.f, fq, fq + h.slope*activationDelta, fq - h.slope*activationDelta}[i%4]
		resp.Values = append(resp.Values, &potv1.StatisticValue{ProbeId: p.GetId(), Values: []float32{v}})
	}
	return resp, nil
}

// reluModel is model() with a Relu on its output and 4-bit weights.
func reluModel(bits int32) (*run, *potv1.QuantizationPlan) {
	g := model()
	g.Nodes[0].Outputs = []string{"z"}
	g.Nodes = append(g.Nodes, &potv1.Node{Name: "relu", OpType: "Relu", Inputs: []string{"z"}, Outputs: []string{"y"}})
	p := quantized()
	p.Quantizers[1].Bits = bits
	x := graph.NewIndex(g)
	return &run{g: g, x: x, layers: layers(x, p, false)}, p
}

func TestActivationShifts(t *testing.T) {
	ctx := context.Background()
	corrected := map[int][]float32{0: {0.7}}
	// Mean slope 0.5: the bias moves by (1.0 - 0.8) / 0.5, in the first
	// Newton step; the second finds nothing left.
	r, p := reluModel(4)
	h := &shadowHost{f: 1, fq: 0.8, slope: 0.5, b0: 0.7}
	shifts, err := activationShifts(ctx, h, &sdk.RunRequest{ModelID: "m", Plan: p}, r, corrected, &potv1.Samples{})
	if err != nil {
		t.Fatal(err)
	}
	if len(shifts) != 1 || math.Abs(float64(shifts[0][0])-0.4) > 1e-4 || h.steps != activationSteps || h.loads != 1 {
		t.Fatalf("shifts %v in %d steps on %d loaded models, want [0.4] in %d on one", shifts, h.steps, h.loads, activationSteps)
	}
	// The shadow layer reads the layer's float input, with a copy of the
	// weights that alone is quantized, and the corrected bias.
	x := graph.NewIndex(h.g)
	layer := x.Node("fbc_act0_layer")
	if layer == nil || layer.GetInputs()[0] != "x" || layer.GetInputs()[2] != "fbc_act0_b" {
		t.Fatalf("shadow layer %v", layer)
	}
	if b := h.bias(); len(b) != 1 || math.Abs(float64(b[0])-1.1) > 1e-6 {
		t.Errorf("shadow bias of the last step %v, want the corrected 0.7 plus the first step's 0.4", b)
	}
	for _, n := range []string{"fbc_act0_relu", "fbc_act0u_relu", "fbc_act0d_relu"} {
		if x.Node(n) == nil {
			t.Errorf("no shadow activation %s", n)
		}
	}
	if qs := h.plan.GetQuantizers(); len(qs) != 1 || qs[0].GetLocation().GetTensor() != "fbc_act0_w" || qs[0].GetConsumers()[0] != "fbc_act0_layer" {
		t.Errorf("shadow plan quantizes %v", qs)
	}

	// Where the activation is flat the bias is left alone.
	h = &shadowHost{f: 1, fq: 0.8, slope: 0.02, b0: 0.7}
	shifts, err = activationShifts(ctx, h, &sdk.RunRequest{ModelID: "m", Plan: p}, r, corrected, &potv1.Samples{})
	if err != nil {
		t.Fatal(err)
	}
	if shifts[0][0] != 0 {
		t.Errorf("slope 0.02 below the minimum: shift %v", shifts[0])
	}

	// 8-bit weights, or a layer whose correction was refused: nothing to do.
	r8, p8 := reluModel(8)
	for _, tc := range []struct {
		r   *run
		p   *potv1.QuantizationPlan
		cor map[int][]float32
	}{{r8, p8, corrected}, {r, p, map[int][]float32{}}} {
		h = &shadowHost{}
		shifts, err = activationShifts(ctx, h, &sdk.RunRequest{ModelID: "m", Plan: tc.p}, tc.r, tc.cor, &potv1.Samples{})
		if err != nil || shifts != nil || h.g != nil {
			t.Errorf("shifts %v, model loaded %v, error %v", shifts, h.g != nil, err)
		}
	}
}

// refusingHost cannot run the shadow layers of the correction after the
// activation.
type refusingHost struct{ host }

func (h *refusingHost) LoadModel(ctx context.Context, g *potv1.Graph) (string, error) {
	for _, n := range g.GetNodes() {
		if strings.HasPrefix(n.GetName(), "fbc_act") {
			return "", errors.New("op Sub is not supported")
		}
	}
	return h.host.LoadModel(ctx, g)
}

// TestFastBiasCorrectionKeepsFirstStep: when the target refuses the
// shadow layers, the correction before the activation still stands and
// the report says why the rest was not made.
func TestFastBiasCorrectionKeepsFirstStep(t *testing.T) {
	g := model()
	g.Nodes = append(g.Nodes, &potv1.Node{Name: "relu", OpType: "Relu", Inputs: []string{"y"}, Outputs: []string{"r"}})
	g.Outputs = []*potv1.ValueInfo{{Name: "r", Dtype: potv1.DataType_DATA_TYPE_FLOAT}}
	p := quantized()
	p.Quantizers[1].Bits = 4
	h := &refusingHost{host{g: g}}
	out, rep, err := Fast(context.Background(), h, &sdk.RunRequest{ModelID: "m", Plan: p}, &quant.Params{})
	if err != nil {
		t.Fatal(err)
	}
	want := 0.5 + (2-121*4.2/254)*2.5 // as in TestFastBiasCorrection
	if got := bias(t, out); math.Abs(got-want) > 1e-5 {
		t.Errorf("corrected bias %.6f, want %.6f", got, want)
	}
	if !strings.Contains(rep.AfterActivationError, "Sub is not supported") || len(rep.AfterActivation) != 0 {
		t.Errorf("report %+v", rep)
	}
}
