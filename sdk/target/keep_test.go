package target

import (
	"context"
	"slices"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
)

// TestProgramKeepsOnlyWhenLowered: requests reading different
// intermediate tensors share one program when the lowering leaves the
// nodes computing them alone (a float model), and get one lowered with
// keep when it changes them (an integer lowering fusing a convolution).
func TestProgramKeepsOnlyWhenLowered(t *testing.T) {
	const conv = "/c1/Conv_output_0"
	var calls [][]string
	lower := func(g *potv1.Graph, p *potv1.QuantizationPlan, keep []string) (*plan.Applied, error) {
		calls = append(calls, keep)
		a, err := plan.Apply(g, p)
		if err != nil {
			return nil, err
		}
		if len(p.GetQuantizers()) > 0 && !slices.Contains(keep, conv) {
			// An "integer" convolution: the node computing conv changes.
			for _, n := range a.Graph.GetNodes() {
				if slices.Contains(n.GetOutputs(), conv) {
					n.Name += "_lowered"
				}
			}
		}
		return a, nil
	}
	e := newEngine(t, Config{Name: "cpu", Threads: 1, Numerics: Numerics{
		Lower:        func(g *potv1.Graph, p *potv1.QuantizationPlan) (*plan.Applied, error) { return lower(g, p, nil) },
		LowerKeeping: lower,
	}})
	ctx := context.Background()
	resp, err := e.LoadModel(ctx, lenet(t))
	if err != nil {
		t.Fatal(err)
	}
	in := graph.FloatTensor("input", []int64{1, 1, 28, 28}, make([]float32, 28*28))
	infer := func(p *potv1.QuantizationPlan, outputs ...string) {
		t.Helper()
		if _, err := e.Infer(ctx, &potv1.InferRequest{ModelId: resp.GetModelId(), Plan: p, Inputs: []*potv1.Tensor{in}, Outputs: outputs}); err != nil {
			t.Fatal(err)
		}
	}
	infer(nil, conv)
	infer(nil, "/Relu_output_0", "/f1/Gemm_output_0")
	if len(calls) != 1 || calls[0] != nil {
		t.Fatalf("float requests lowered the model %d times, keep %v; want once, without keep", len(calls), calls)
	}
	p := &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{{
		Id: "a", Location: &potv1.Location{Tensor: "/Relu_2_output_0"}, Bits: 8, Levels: 256, LevelLow: 0, LevelHigh: 255,
		InputLow: []float32{0}, InputHigh: []float32{4}, OutputLow: []float32{0}, OutputHigh: []float32{4},
	}}}
	calls = nil
	infer(p, "/Relu_output_0") // its node is left alone: the plain program
	infer(p, conv)             // its node is lowered: a program keeping it
	want := [][]string{nil, {conv}}
	if !slices.EqualFunc(calls, want, slices.Equal) {
		t.Fatalf("quantized requests lowered with keep %v, want %v", calls, want)
	}
}
