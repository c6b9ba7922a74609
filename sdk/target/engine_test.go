package target

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/onnx"
)

func lenet(t *testing.T) *potv1.Graph {
	t.Helper()
	g, err := onnx.ReadGraph(filepath.Join("..", "..", "examples", "models", "lenet_mnist.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestInferIntermediate asks for intermediate tensors next to the graph
// output, under a plan that quantizes one of them, and compares with the
// same graph run alone.
func TestInferIntermediate(t *testing.T) {
	g := lenet(t)
	e := newEngine(t, Config{Name: "cpu", Threads: 1})
	ctx := context.Background()
	resp, err := e.LoadModel(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	p := &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{{
		Id: "a", Location: &potv1.Location{Tensor: "/Relu_2_output_0"}, Bits: 8, Levels: 256, LevelLow: 0, LevelHigh: 255,
		InputLow: []float32{0}, InputHigh: []float32{4}, OutputLow: []float32{0}, OutputHigh: []float32{4},
	}}}
	x := make([]float32, 2*28*28)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
	}
	in := graph.FloatTensor("input", []int64{2, 1, 28, 28}, x)
	get := func(outputs ...string) map[string][]float32 {
		r, err := e.Infer(ctx, &potv1.InferRequest{ModelId: resp.GetModelId(), Plan: p, Inputs: []*potv1.Tensor{in}, Outputs: outputs})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string][]float32{}
		for _, o := range r.GetOutputs() {
			m[o.GetName()], _ = graph.Float32s(o)
		}
		return m
	}
	alone := get("logits")["logits"]
	both := get("/Relu_2_output_0", "logits")
	many := get("/c1/Conv_output_0", "/Relu_output_0", "/f1/Gemm_output_0", "/Relu_2_output_0", "logits")
	for i := range alone {
		if both["logits"][i] != alone[i] {
			t.Fatalf("logits[%d] = %g with an intermediate output, %g alone", i, both["logits"][i], alone[i])
		}
		if many["logits"][i] != alone[i] {
			t.Fatalf("logits[%d] = %g with many outputs, %g alone", i, many["logits"][i], alone[i])
		}
	}
	// The quantized Relu_2 output is on the grid of the quantizer.
	for i, v := range both["/Relu_2_output_0"] {
		lvl := float64(v) / (4.0 / 255)
		if math.Abs(lvl-math.Round(lvl)) > 1e-3 {
			t.Fatalf("Relu_2[%d] = %g is not quantized", i, v)
		}
	}
}

// TestInferSamplesIntermediate is TestInferIntermediate over uploaded
// samples, in batches.
func TestInferSamplesIntermediate(t *testing.T) {
	g := lenet(t)
	e := newEngine(t, Config{Name: "cpu", Threads: 1, BatchSize: 3})
	ctx := context.Background()
	resp, err := e.LoadModel(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	x := make([]float32, n*28*28)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
	}
	id, err := e.UploadData(ctx, &plugins.Dataset{Name: "d", Inputs: []string{"input"},
		Tensors: []*potv1.Tensor{graph.FloatTensor("input", []int64{n, 1, 28, 28}, x)}})
	if err != nil {
		t.Fatal(err)
	}
	p := &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{{
		Id: "a", Location: &potv1.Location{Tensor: "/Relu_2_output_0"}, Bits: 8, Levels: 256, LevelLow: 0, LevelHigh: 255,
		InputLow: []float32{0}, InputHigh: []float32{4}, OutputLow: []float32{0}, OutputHigh: []float32{4},
	}}}
	get := func(outputs ...string) map[string][]float32 {
		r, err := e.Infer(ctx, &potv1.InferRequest{ModelId: resp.GetModelId(), Plan: p, Samples: &potv1.Samples{DataId: id}, Outputs: outputs})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string][]float32{}
		for _, o := range r.GetOutputs() {
			m[o.GetName()], _ = graph.Float32s(o)
		}
		return m
	}
	alone := get("logits")["logits"]
	many := get("/c1/Conv_output_0", "/Relu_output_0", "/f1/Gemm_output_0", "/Relu_2_output_0", "logits")
	if len(many["logits"]) != len(alone) || len(alone) != n*10 {
		t.Fatalf("%d and %d logits", len(many["logits"]), len(alone))
	}
	for i := range alone {
		if many["logits"][i] != alone[i] {
			t.Fatalf("logits[%d] = %g with intermediate outputs, %g alone", i, many["logits"][i], alone[i])
		}
	}
	relu := get("/Relu_2_output_0")["/Relu_2_output_0"]
	for i := range relu {
		if many["/Relu_2_output_0"][i] != relu[i] {
			t.Fatalf("Relu_2[%d] = %g with other outputs, %g alone", i, many["/Relu_2_output_0"][i], relu[i])
		}
	}
}
