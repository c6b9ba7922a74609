package gna

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// tinyMLP is X [N,4] -> Gemm(W1 [3,4], B1) -> h -> Sigmoid -> s -> Gemm(W2 [2,3], B2) -> out.
func tinyMLP() *potv1.Graph {
	gemm := func(name, x, w, b, y string) *potv1.Node {
		return &potv1.Node{Name: name, OpType: "Gemm", Inputs: []string{x, w, b}, Outputs: []string{y},
			Attributes: []*potv1.Attribute{{Name: "transB", Type: potv1.Attribute_TYPE_INT, I: 1}}}
	}
	return &potv1.Graph{
		Opsets:  []*potv1.OpsetImport{{Version: 13}},
		Inputs:  []*potv1.ValueInfo{{Name: "X", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Outputs: []*potv1.ValueInfo{{Name: "out", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Initializers: []*potv1.Tensor{
			graph.FloatTensor("W1", []int64{3, 4}, []float32{0.5, -0.25, 0.125, 1, -1, 0.75, 0.3, -0.2, 0.1, 0.2, -0.6, 0.9}),
			graph.FloatTensor("B1", []int64{3}, []float32{0.1, -0.2, 0.05}),
			graph.FloatTensor("W2", []int64{2, 3}, []float32{1.5, -0.5, 0.25, -1, 2, 0.5}),
			graph.FloatTensor("B2", []int64{2}, []float32{0.01, -0.03}),
		},
		Nodes: []*potv1.Node{gemm("fc1", "X", "W1", "B1", "h"), {Name: "sig", OpType: "Sigmoid", Inputs: []string{"h"}, Outputs: []string{"s"}},
			gemm("fc2", "s", "W2", "B2", "out")},
	}
}

func sym(id, tensor string, node string, input int32, levels, low int64, hi float32, weights bool) *potv1.Quantizer {
	lo := -hi
	if low == 0 {
		lo = 0
	} else if !weights {
		lo = -hi * float32(-low) / float32(levels-1+low)
	}
	return &potv1.Quantizer{Id: id, Location: &potv1.Location{Tensor: tensor, Node: node, Input: input}, Weights: weights,
		Levels: levels, LevelLow: low, LevelHigh: low + levels - 1, Mode: potv1.QuantizationMode_QUANTIZATION_MODE_SYMMETRIC,
		InputLow: []float32{lo}, InputHigh: []float32{hi}, OutputLow: []float32{lo}, OutputHigh: []float32{hi}}
}

// The plan MinMaxQuantization makes for GNA on tinyMLP: 16-bit input,
// 8- or 16-bit weights, a 32-bit quantizer between fc1 and the sigmoid,
// an unsigned 16-bit one on the sigmoid's output.
func tinyPlan(weightLevels int64) *potv1.QuantizationPlan {
	wl := -(weightLevels - 1) / 2
	return &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{
		sym("x", "X", "", 0, 65536, -32768, 3, false),
		sym("w1", "W1", "fc1", 1, weightLevels, wl, 1, true),
		sym("w2", "W2", "fc2", 1, weightLevels, wl, 2, true),
		sym("h", "h", "", 0, 1<<32, math.MinInt32, 4, false),
		sym("s", "s", "", 0, 65536, 0, 1, false),
	}}
}

func nodeTypes(g *potv1.Graph) map[string]string {
	out := map[string]string{}
	for _, n := range g.GetNodes() {
		out[n.GetName()] = n.GetOpType()
	}
	return out
}

func TestLowerTinyMLP(t *testing.T) {
	a, err := Lowering{}.Lower(tinyMLP(), tinyPlan(255))
	if err != nil {
		t.Fatal(err)
	}
	types := nodeTypes(a.Graph)
	for name, want := range map[string]string{"fc1": "GnaAffine", "fc2": "GnaAffine", "sig": "GnaActivation", "fq/h": "GnaQuantize", "fq/s": "FakeQuantize"} {
		if types[name] != want {
			t.Errorf("node %s is %s, want %s", name, types[name], want)
		}
	}
	// The unsigned 16-bit sigmoid output does not fit int16: one bit is
	// dropped (32768 levels, twice the step).
	for _, n := range a.Graph.GetNodes() {
		if n.GetName() == "fq/s" {
			if l := graph.AttrInt(n, "levels", 0); l != 32768 {
				t.Errorf("sigmoid output quantizer has %d levels, want 32768", l)
			}
		}
		if n.GetName() == "sig" {
			if s := graph.Attr(n, "out_scale").GetFloats()[0]; s != float32(2.0/65535) {
				t.Errorf("sigmoid output step %g, want %g", s, float32(2.0/65535))
			}
		}
	}
	// The float model lowers to itself.
	f, err := Lowering{}.Lower(tinyMLP(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if types := nodeTypes(f.Graph); types["fc1"] != "Gemm" || types["sig"] != "Sigmoid" {
		t.Errorf("float model lowered to %v", types)
	}
}

// The integer emulation stays close to the FakeQuantize simulation of the
// same plan (16-bit weights; the 32-bit quantizer is dropped from the
// simulation, which cannot run it).
func TestLowerTinyMLPRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := tensor.New(tensor.Float, 64, 4)
	for i := range x.F32() {
		x.F32()[i] = float32(rng.NormFloat64())
	}
	run := func(g *potv1.Graph) []float32 {
		prog, err := rt.Compile(g, rt.Options{Threads: 1, Kernels: Registry()})
		if err != nil {
			t.Fatal(err)
		}
		res, err := prog.Run(context.Background(), map[string]*tensor.Tensor{"X": x})
		if err != nil {
			t.Fatal(err)
		}
		return res["out"].F32()
	}
	p := tinyPlan(65535)
	a, err := Lowering{}.Lower(tinyMLP(), p)
	if err != nil {
		t.Fatal(err)
	}
	got := run(a.Graph)
	sim := &potv1.QuantizationPlan{}
	for _, q := range p.GetQuantizers() {
		if q.GetLevels() <= 1<<24 {
			sim.Quantizers = append(sim.Quantizers, q)
		}
	}
	s, err := plan.Apply(tinyMLP(), sim)
	if err != nil {
		t.Fatal(err)
	}
	want := run(s.Graph)
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 2e-3 {
			t.Fatalf("output %d: integer %g, simulation %g", i, got[i], want[i])
		}
	}
}

// Nodes the plan leaves unquantized stay in float and are reported.
func TestLowerFallback(t *testing.T) {
	p := tinyPlan(255)
	p.Quantizers = p.Quantizers[:1] // only the input quantizer
	var reported []string
	a, err := Lowering{Warn: func(_ string, nodes []string) { reported = nodes }}.Lower(tinyMLP(), p)
	if err != nil {
		t.Fatal(err)
	}
	types := nodeTypes(a.Graph)
	if types["fc1"] != "Gemm" || types["sig"] != "Sigmoid" {
		t.Errorf("unquantized nodes lowered: %v", types)
	}
	if len(reported) != 3 {
		t.Errorf("reported %v, want fc1, sig and fc2", reported)
	}
}
