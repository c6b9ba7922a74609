package plugintest_test

import (
	"fmt"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/plugintest"
)

// CheckPlan finds what is wrong with a plan before a target sees it.
func ExampleCheckPlan() {
	g, _ := plugintest.CNNModel(1)
	q := &potv1.Quantizer{
		Id:       "conv.in",
		Location: &potv1.Location{Tensor: "input", Node: "conv", Input: 0},
		Bits:     8, Levels: 256, LevelLow: 0, LevelHigh: 255,
		Mode:        potv1.QuantizationMode_QUANTIZATION_MODE_ASYMMETRIC,
		Granularity: potv1.Granularity_GRANULARITY_PER_TENSOR,
		InputLow:    []float32{-1}, InputHigh: []float32{1}, OutputLow: []float32{-1}, OutputHigh: []float32{1},
	}
	fmt.Println(plugintest.CheckPlan(g, &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{q}}))
	q.InputHigh[0] = -1
	fmt.Println(plugintest.CheckPlan(g, &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{q, q}}))
	// Output:
	// <nil>
	// quantizer 0 on input 0 of node "conv": channel 0: range [-1, -1] -> [-1, 1] is empty or not finite
	// quantizer 1 on input 0 of node "conv": id "conv.in" is quantizer 0's too
	// quantizer 1 on input 0 of node "conv": quantizer 0 quantizes that input already
	// quantizer 1 on input 0 of node "conv": channel 0: range [-1, -1] -> [-1, 1] is empty or not finite
}

// CheckAlgorithmDescription compiles the parameter schema as JSON Schema
// and validates the defaults against it.
func ExampleCheckAlgorithmDescription() {
	d := &potv1.AlgorithmDescription{
		Name: "Ranges", Version: "1.0.0", ProtocolVersions: []int32{1},
		ParamsSchema: `{"type": "object", "properties": {"candidates": {"type": "integer", "minimum": 2}}}`,
		Defaults:     `{"candidates": 1}`,
	}
	err := plugintest.CheckAlgorithmDescription(d, "Ranges")
	fmt.Println(err != nil)
	// Output:
	// true
}

// The reference model's tensors are computed by the kit, so a target's
// statistics can be checked against them.
func ExampleReferenceModel() {
	ref := plugintest.ReferenceModel(2)
	fmt.Println(len(ref.Graph.GetNodes()), ref.Data.Samples(), len(ref.Values["out"]))
	// Output:
	// 3 2 6
}
