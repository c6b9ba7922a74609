package fp16

import (
	"context"
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// convGraph is X [1,1,1,3] -> Conv(W [2,1,1,1], B [2]) -> Y, with values
// that are not halves.
func convGraph() *potv1.Graph {
	return &potv1.Graph{
		Opsets:  []*potv1.OpsetImport{{Version: 13}},
		Inputs:  []*potv1.ValueInfo{{Name: "X", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Outputs: []*potv1.ValueInfo{{Name: "Y", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Initializers: []*potv1.Tensor{
			graph.FloatTensor("W", []int64{2, 1, 1, 1}, []float32{0.1, -0.3}),
			graph.FloatTensor("B", []int64{2}, []float32{0.01, 0.7}),
		},
		Nodes: []*potv1.Node{{Name: "conv", OpType: "Conv", Inputs: []string{"X", "W", "B"}, Outputs: []string{"Y"}}},
	}
}

func weightPlan() *potv1.QuantizationPlan {
	return &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{{
		Id: "w", Location: &potv1.Location{Tensor: "W", Node: "conv", Input: 1}, Weights: true, Bits: 8,
		Levels: 255, LevelLow: -127, LevelHigh: 127, Axis: 0,
		InputLow: []float32{-0.1, -0.3}, InputHigh: []float32{0.1, 0.3}, OutputLow: []float32{-0.1, -0.3}, OutputHigh: []float32{0.1, 0.3},
	}}}
}

func TestLowerRoundsWhatQuantizersDoNotOwn(t *testing.T) {
	g := convGraph()
	for _, tc := range []struct {
		name      string
		plan      *potv1.QuantizationPlan
		wRounded  bool
		fqParamsN int
	}{
		{name: "float model", plan: nil, wRounded: true},
		{name: "quantized weights", plan: weightPlan(), wRounded: false, fqParamsN: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Lower(g, tc.plan)
			if err != nil {
				t.Fatal(err)
			}
			inits := map[string]*potv1.Tensor{}
			for _, in := range a.Graph.GetInitializers() {
				inits[in.GetName()] = in
			}
			w, _ := graph.Float32s(inits["W"])
			if got := w[0] != 0.1; got != tc.wRounded {
				t.Errorf("W[0] = %.9g: rounded %v, want %v", w[0], got, tc.wRounded)
			}
			if b, _ := graph.Float32s(inits["B"]); b[0] != Round(0.01) || b[1] != Round(0.7) {
				t.Errorf("bias %v not rounded to half", b)
			}
			params := 0
			for name := range inits {
				if strings.HasPrefix(name, "fq/") {
					params++
				}
			}
			if params != tc.fqParamsN {
				t.Errorf("%d FakeQuantize parameters, want %d", params, tc.fqParamsN)
			}
			if got := a.Source("X"); got != "X"+InputSuffix {
				t.Errorf("statistics of X read %q", got)
			}
			// The original graph is untouched.
			if w0, _ := graph.Float32s(g.GetInitializers()[0]); w0[0] != 0.1 || g.GetNodes()[0].GetInputs()[0] != "X" {
				t.Error("Lower modified its input graph")
			}
		})
	}
}

// The FakeQuantize parameters stay exact: the scale 0.3/127 is no half.
func TestLowerKeepsQuantizerParameters(t *testing.T) {
	a, err := Lower(convGraph(), weightPlan())
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range a.Graph.GetInitializers() {
		if in.GetName() == "fq/w/scale" {
			v, _ := graph.Float32s(in)
			if v[1] != float32(0.6/254) {
				t.Errorf("scale %.9g, want %.9g", v[1], float32(0.6/254))
			}
			return
		}
	}
	t.Fatal("no scale initializer fq/w/scale")
}

// End to end: the weights are int8 grid values (exact), the input, the
// bias and the output are halves.
func TestPolicyRun(t *testing.T) {
	a, err := Lower(convGraph(), weightPlan())
	if err != nil {
		t.Fatal(err)
	}
	prog, err := rt.Compile(a.Graph, rt.Options{Policy: Policy{}})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.From([]int{1, 1, 1, 3}, []float32{1.0001, -2.3, 1000.7})
	res, err := prog.Run(context.Background(), map[string]*tensor.Tensor{"X": x})
	if err != nil {
		t.Fatal(err)
	}
	y := res["Y"].F32()
	// Weight grid: 0.1 -> 127 * (0.2/254) = 0.1 (as float32), -0.3 -> -0.3.
	w := []float32{127 * float32(0.2/254), -127 * float32(0.6/254)}
	b := []float32{Round(0.01), Round(0.7)}
	for c := 0; c < 2; c++ {
		for i, xv := range []float32{1.0001, -2.3, 1000.7} {
			want := Round(Round(xv)*w[c] + b[c])
			if got := y[c*3+i]; got != want {
				t.Errorf("Y[%d,%d] = %.9g, want %.9g", c, i, got, want)
			}
		}
	}
}

func TestPolicyOutput(t *testing.T) {
	fq := &potv1.Node{OpType: "FakeQuantize", Domain: "ai.pot"}
	relu := &potv1.Node{OpType: "Relu"}
	for _, tc := range []struct {
		node *potv1.Node
		want float32
	}{{fq, 0.1}, {relu, Round(0.1)}} {
		out := []*tensor.Tensor{tensor.From([]int{1}, []float32{0.1}), nil, tensor.From([]int{1}, []int64{7})}
		Policy{}.Output(tc.node, out)
		if got := out[0].F32()[0]; got != tc.want {
			t.Errorf("%s output %.9g, want %.9g", tc.node.GetOpType(), got, tc.want)
		}
		if out[2].I64()[0] != 7 {
			t.Error("integer output changed")
		}
	}
	c := tensor.From([]int{1}, []float32{0.1})
	Policy{}.Constant("W", c)
	if c.F32()[0] != 0.1 {
		t.Error("Constant rounded; Lower owns constants")
	}
}

// In a QDQ model the scales and zero points stay exact and the
// dequantized values are not rounded.
func TestQDQModel(t *testing.T) {
	g := &potv1.Graph{
		Opsets:  []*potv1.OpsetImport{{Version: 13}},
		Inputs:  []*potv1.ValueInfo{{Name: "X", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Outputs: []*potv1.ValueInfo{{Name: "Y", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Initializers: []*potv1.Tensor{
			graph.FloatTensor("s", nil, []float32{0.1}),
			{Name: "zp", Dtype: potv1.DataType_DATA_TYPE_INT8, Data: []byte{0}},
		},
		Nodes: []*potv1.Node{
			{Name: "q", OpType: "QuantizeLinear", Inputs: []string{"X", "s", "zp"}, Outputs: []string{"xq"}},
			{Name: "dq", OpType: "DequantizeLinear", Inputs: []string{"xq", "s", "zp"}, Outputs: []string{"Y"}},
		},
	}
	a, err := Lower(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range a.Graph.GetInitializers() {
		if in.GetName() == "s" {
			if v, _ := graph.Float32s(in); v[0] != 0.1 {
				t.Errorf("scale rounded to %.9g", v[0])
			}
		}
	}
	prog, err := rt.Compile(a.Graph, rt.Options{Policy: Policy{}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := prog.Run(context.Background(), map[string]*tensor.Tensor{"X": tensor.From([]int{1}, []float32{0.3})})
	if err != nil {
		t.Fatal(err)
	}
	if got := res["Y"].F32()[0]; got != 3*float32(0.1) {
		t.Errorf("dequantized %.9g, want %.9g", got, 3*float32(0.1))
	}
}

// TestLowerInsideBranches: a branch's own initializers are rounded, its
// nodes read the rounded graph input, and the original graph (whose
// subgraphs plan.Apply copies) is left as it was.
func TestLowerInsideBranches(t *testing.T) {
	then := &potv1.Graph{Name: "then",
		Initializers: []*potv1.Tensor{graph.FloatTensor("k", []int64{3}, []float32{0.1, 0.2, 0.3})},
		Nodes:        []*potv1.Node{{Name: "mul", OpType: "Mul", Inputs: []string{"X", "k"}, Outputs: []string{"m"}}},
		Outputs:      []*potv1.ValueInfo{{Name: "m"}}}
	els := &potv1.Graph{Name: "else", Outputs: []*potv1.ValueInfo{{Name: "X"}}}
	g := &potv1.Graph{Opsets: []*potv1.OpsetImport{{Version: 13}},
		Inputs:  []*potv1.ValueInfo{{Name: "X", Dtype: potv1.DataType_DATA_TYPE_FLOAT}, {Name: "c", Dtype: potv1.DataType_DATA_TYPE_BOOL}},
		Outputs: []*potv1.ValueInfo{{Name: "Y"}},
		Nodes: []*potv1.Node{{Name: "if", OpType: "If", Inputs: []string{"c"}, Outputs: []string{"Y"}, Attributes: []*potv1.Attribute{
			{Name: "then_branch", Type: potv1.Attribute_TYPE_GRAPH, G: then}, {Name: "else_branch", Type: potv1.Attribute_TYPE_GRAPH, G: els}}}}}
	a, err := Lower(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	lt, le := graph.Subgraphs(a.Graph.GetNodes()[1])[0], graph.Subgraphs(a.Graph.GetNodes()[1])[1]
	if k, _ := graph.Float32s(lt.GetInitializers()[0]); k[0] != Round(0.1) || k[0] == 0.1 {
		t.Errorf("branch initializer k[0] = %.9g, want %.9g", k[0], Round(0.1))
	}
	if in := lt.GetNodes()[0].GetInputs()[0]; in != "X"+InputSuffix {
		t.Errorf("the branch's Mul reads %q", in)
	}
	if o := le.GetOutputs()[0].GetName(); o != "X"+InputSuffix {
		t.Errorf("the else branch outputs %q", o)
	}
	if k, _ := graph.Float32s(then.GetInitializers()[0]); k[0] != 0.1 || then.GetNodes()[0].GetInputs()[0] != "X" || els.GetOutputs()[0].GetName() != "X" {
		t.Error("Lower modified the original branches")
	}
	// A weight quantizer inside the branch: the FakeQuantize's parameters
	// (in the branch) and the weights it alone reads stay as they are.
	wq := &potv1.Quantizer{Id: "k", Location: &potv1.Location{Tensor: "k", Node: "mul", Input: 1}, Weights: true, Bits: 8,
		Levels: 255, LevelLow: -127, LevelHigh: 127, InputLow: []float32{-0.3}, InputHigh: []float32{0.3}, OutputLow: []float32{-0.3}, OutputHigh: []float32{0.3}}
	aq, err := Lower(g, &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{wq}})
	if err != nil {
		t.Fatal(err)
	}
	qt := graph.Subgraphs(aq.Graph.GetNodes()[1])[0]
	seen := map[string]bool{}
	for _, init := range qt.GetInitializers() {
		v, _ := graph.Float32s(init)
		seen[init.GetName()] = true
		switch init.GetName() {
		case "k":
			if v[0] != 0.1 {
				t.Errorf("weights k read only by the quantizer were rounded to %.9g", v[0])
			}
		case "fq/k/scale":
			if v[0] != float32(0.3/127) {
				t.Errorf("the quantizer's scale was rounded to %.9g", v[0])
			}
		}
	}
	if !seen["k"] || !seen["fq/k/scale"] {
		t.Errorf("branch initializers %v", seen)
	}
	// plan.Apply put the FakeQuantize before the Mul reading it.
	if n := qt.GetNodes(); len(n) != 2 || n[0].GetOpType() != "FakeQuantize" || n[1].GetInputs()[1] != "k/fq/mul/1" {
		t.Errorf("the branch's nodes %v", n)
	}
	p, err := rt.Compile(a.Graph, rt.Options{Policy: Policy{}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	x := tensor.From([]int{3}, []float32{1.0001, 2, 3})
	for _, c := range []bool{true, false} {
		res, err := p.Run(context.Background(), map[string]*tensor.Tensor{"X": x, "c": tensor.Scalar(c)})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range res["Y"].F32() {
			if Round(v) != v {
				t.Errorf("cond %v: Y[%d] = %.9g is not a half", c, i, v)
			}
		}
	}
}
