package plan_test

import (
	"fmt"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/plan"
)

// ParamsOf turns a quantizer's FakeQuantize ranges into the scale and
// zero point a QDQ model stores.
func ExampleParamsOf() {
	q := &potv1.Quantizer{Id: "a", Levels: 256, LevelLow: 0,
		InputLow: []float32{-1}, InputHigh: []float32{3}, OutputLow: []float32{-1}, OutputHigh: []float32{3}}
	p, err := plan.ParamsOf(q)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("scale %.6f zero point %g levels %d\n", p.Scale[0], p.Zero[0], p.Levels)
	q.InputHigh[0] = -1
	_, err = plan.ParamsOf(q)
	fmt.Println(err)
	// Output:
	// scale 0.015686 zero point 64 levels 256
	// quantizer "a": channel 0: empty or infinite range [-1, -1] -> [-1, 3]
}

// Apply inserts a plan's quantizers into a graph as FakeQuantize nodes;
// a quantizer on an edge renames the producer's output. The new nodes
// come last; executors order nodes by their inputs.
func ExampleApply() {
	g := &potv1.Graph{
		Inputs:  []*potv1.ValueInfo{{Name: "x"}},
		Outputs: []*potv1.ValueInfo{{Name: "y"}},
		Nodes: []*potv1.Node{
			{Name: "relu", OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"r"}},
			{Name: "neg", OpType: "Neg", Inputs: []string{"r"}, Outputs: []string{"y"}},
		},
	}
	p := &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{{
		Id: "r", Location: &potv1.Location{Tensor: "r"}, Levels: 256,
		InputLow: []float32{0}, InputHigh: []float32{6}, OutputLow: []float32{0}, OutputHigh: []float32{6}}}}
	a, err := plan.Apply(g, p)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, n := range a.Graph.GetNodes() {
		fmt.Println(n.GetOpType(), n.GetInputs()[0], "->", n.GetOutputs()[0])
	}
	fmt.Println(a.Source("r"))
	// Output:
	// Relu x -> r/pre_fq
	// FakeQuantize r/pre_fq -> r
	// Neg r -> y
	// r/pre_fq
}
