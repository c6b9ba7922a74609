package cpu

import (
	"math"
	"testing"

	"github.com/potgo/pot/internal/realmodels"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// jarvisWindows reads hey_jarvis's eight reference windows.
func jarvisWindows(t *testing.T) []*tensor.Tensor {
	t.Helper()
	var out []*tensor.Tensor
	for i := range 8 {
		s, err := realmodels.Sample("../..", "hey_jarvis/x.pb", i, "x.1")
		if err != nil {
			t.Fatal(err)
		}
		v, err := rt.FromProto(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// runWindows runs g on the windows and returns the output of each, and
// watches tensors (min/max over the runs that computed them).
func runWindows(t *testing.T, g *potv1.Graph, windows []*tensor.Tensor, watch ...string) (out []float32, lo, hi map[string]float32) {
	t.Helper()
	samples := make([][]*tensor.Tensor, len(windows))
	for i, w := range windows {
		samples[i] = []*tensor.Tensor{w}
	}
	outs, lo, hi := realmodels.Run(t, g, samples, watch...)
	for _, o := range outs {
		out = append(out, o[0])
	}
	return out, lo, hi
}

// TestLowerInsideBranch quantizes hey_jarvis's six Gemms — three in the
// main graph, three in the If's verifier branch, whose weights are
// initializers of the main graph — and lowers the plan: the branch's
// Gemms run as integer QMatMul too, and the integer program computes what
// the FakeQuantize simulation does.
func TestLowerInsideBranch(t *testing.T) {
	g, err := realmodels.Graph("../..", "hey_jarvis_v0.1.onnx")
	if err != nil {
		t.Fatal(err)
	}
	windows := jarvisWindows(t)
	x := graph.NewIndex(g)
	var gemms []*potv1.Node
	for _, n := range x.Nodes() {
		if n.GetOpType() == "Gemm" {
			gemms = append(gemms, n)
		}
	}
	var acts []string
	for _, n := range gemms {
		acts = append(acts, n.GetInputs()[0])
	}
	floatOut, lo, hi := runWindows(t, g, windows, acts...)
	p := &potv1.QuantizationPlan{}
	for _, n := range gemms {
		w, err := graph.Float32s(x.Constant(n.GetInputs()[1]))
		if err != nil {
			t.Fatal(err)
		}
		rows := int(x.Constant(n.GetInputs()[1]).GetDims()[0])
		q := &potv1.Quantizer{Id: n.GetName() + "/w", Weights: true, Location: &potv1.Location{Node: n.GetName(), Input: 1},
			Levels: 255, LevelLow: -127, LevelHigh: 127, Axis: 0, Consumers: []string{n.GetName()}}
		per := len(w) / rows
		for r := range rows {
			a := float32(1e-6)
			for _, v := range w[r*per : (r+1)*per] {
				a = max(a, float32(math.Abs(float64(v))))
			}
			q.InputLow, q.InputHigh = append(q.InputLow, -a), append(q.InputHigh, a)
		}
		q.OutputLow, q.OutputHigh = q.InputLow, q.InputHigh
		in := n.GetInputs()[0]
		l, h := min(lo[in], 0), max(hi[in], 0)
		scale := (h - l) / 255
		zp := float32(math.Round(float64(-l / scale)))
		l, h = -zp*scale, (255-zp)*scale
		a := &potv1.Quantizer{Id: n.GetName() + "/x", Location: &potv1.Location{Node: n.GetName(), Input: 0}, Levels: 256, LevelHigh: 255,
			InputLow: []float32{l}, InputHigh: []float32{h}, OutputLow: []float32{l}, OutputHigh: []float32{h}, Consumers: []string{n.GetName()}}
		p.Quantizers = append(p.Quantizers, q, a)
	}
	sim, err := plan.Apply(g, p)
	if err != nil {
		t.Fatal(err)
	}
	lowered, err := Lowering{ISA: ISAVNNI}.Lower(g, p)
	if err != nil {
		t.Fatal(err)
	}
	ints := map[string]int{}
	lx := graph.NewIndex(lowered.Graph)
	for _, n := range lx.Nodes() {
		if n.GetOpType() == "QMatMul" {
			ints[lx.Scope(n.GetName()).Graph.GetName()]++
		}
		if n.GetOpType() == "Gemm" {
			t.Errorf("Gemm %s still runs in float", n.GetName())
		}
	}
	if ints["torch_jit"] != 3 || ints["torch_jit1"] != 3 {
		t.Errorf("QMatMul per graph: %v, want 3 in the main graph and 3 in the branch", ints)
	}
	// The main graph's float weights the branch no longer reads are gone.
	if lx.Initializer("verifier_model.1.weight") != nil {
		t.Error("the branch's float weights are still in the lowered graph")
	}
	simOut, _, _ := runWindows(t, sim.Graph, windows)
	intOut, _, _ := runWindows(t, lowered.Graph, windows)
	worstSim, worstFloat := 0.0, 0.0
	for i := range windows {
		worstSim = max(worstSim, math.Abs(float64(intOut[i]-simOut[i])))
		worstFloat = max(worstFloat, math.Abs(float64(intOut[i]-floatOut[i])))
	}
	t.Logf("integer vs simulation: %.3g; vs float: %.3g", worstSim, worstFloat)
	if worstSim > 1e-3 {
		t.Errorf("integer outputs differ from the simulation's by %g", worstSim)
	}
}
