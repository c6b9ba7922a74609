package fp16

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/potgo/pot/internal/exampledata"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/onnx"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// wholeBatch hides Policy's Elementwise: programs under it run every
// batch whole, as all policies did before ElementwisePolicy.
type wholeBatch struct{ rt.Policy }

// Under Policy the example CNNs, with FakeQuantize on their activations
// (per tensor) and weights (per channel), run sample-parallel, and give
// the same bits as a run of the whole batch under the same rounding.
func TestPolicySampleParallel(t *testing.T) {
	for _, name := range []string{"resnet_fmnist", "mobilenet_fmnist"} {
		t.Run(name, func(t *testing.T) {
			g, err := onnx.ReadGraph(filepath.Join("..", "..", "examples", "models", name+".onnx"))
			if err != nil {
				t.Fatal(err)
			}
			x, err := exampledata.FMNIST.Images(exampledata.Root, "t10k", 64)
			if err != nil {
				t.Fatal(err)
			}
			a, err := Lower(g, convPlan(t, g))
			if err != nil {
				t.Fatal(err)
			}
			run := func(pol rt.Policy) ([]float32, bool) {
				prog, err := rt.Compile(a.Graph, rt.Options{Threads: 2, Policy: pol})
				if err != nil {
					t.Fatal(err)
				}
				defer prog.Close()
				res, err := prog.Run(context.Background(), map[string]*tensor.Tensor{g.GetInputs()[0].GetName(): x})
				if err != nil {
					t.Fatal(err)
				}
				return res[g.GetOutputs()[0].GetName()].F32(), prog.SampleParallel()
			}
			got, split := run(Policy{})
			want, whole := run(wholeBatch{Policy{}})
			if !split || whole {
				t.Fatalf("sample-parallel under Policy %v, under a policy that is not elementwise %v; want true, false", split, whole)
			}
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("logit %d: %g sample-parallel, %g whole batch", i, got[i], want[i])
				}
			}
		})
	}
}

// convPlan quantizes every Conv's input (levels 256 over [-3, 3]) and
// weights (per output channel, over each channel's largest magnitude).
func convPlan(t *testing.T, g *potv1.Graph) *potv1.QuantizationPlan {
	t.Helper()
	x := graph.NewIndex(g)
	p := &potv1.QuantizationPlan{}
	for _, n := range g.GetNodes() {
		if n.GetOpType() != "Conv" {
			continue
		}
		w, err := rt.FromProto(x.Initializer(n.GetInputs()[1]))
		if err != nil {
			t.Fatal(err)
		}
		inner := tensor.NumElements(w.Shape[1:])
		wq := &potv1.Quantizer{Id: n.GetName() + "/w", Weights: true, Location: &potv1.Location{Node: n.GetName(), Input: 1},
			Levels: 255, LevelLow: -127, LevelHigh: 127, Axis: 0}
		for c := range w.Shape[0] {
			m := float32(1e-6)
			for _, v := range w.F32()[c*inner : (c+1)*inner] {
				m = max(m, float32(math.Abs(float64(v))))
			}
			wq.InputLow, wq.InputHigh = append(wq.InputLow, -m), append(wq.InputHigh, m)
		}
		wq.OutputLow, wq.OutputHigh = wq.InputLow, wq.InputHigh
		aq := &potv1.Quantizer{Id: n.GetName() + "/x", Location: &potv1.Location{Node: n.GetName(), Input: 0},
			Levels: 256, LevelLow: 0, LevelHigh: 255,
			InputLow: []float32{-3}, InputHigh: []float32{3}, OutputLow: []float32{-3}, OutputHigh: []float32{3}}
		p.Quantizers = append(p.Quantizers, wq, aq)
	}
	return p
}
