package graph_test

import (
	"fmt"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// An Index answers who produces and who consumes a tensor, and which
// inputs are constants.
func ExampleNewIndex() {
	g := &potv1.Graph{
		Inputs:       []*potv1.ValueInfo{{Name: "x"}},
		Initializers: []*potv1.Tensor{graph.FloatTensor("w", []int64{2, 2}, []float32{1, 2, 3, 4})},
		Nodes: []*potv1.Node{
			{Name: "mm", OpType: "MatMul", Inputs: []string{"x", "w"}, Outputs: []string{"h"}},
			{Name: "relu", OpType: "Relu", Inputs: []string{"h"}, Outputs: []string{"y"}},
		},
	}
	x := graph.NewIndex(g)
	fmt.Println(x.Producer("h").GetName())
	for _, p := range x.Consumers("h") {
		fmt.Println(p.Node.GetName(), p.Input)
	}
	w, _ := graph.Float32s(x.Constant("w"))
	fmt.Println(w, x.Constant("x") == nil, x.IsGraphInput("x"))
	// Output:
	// mm
	// relu 0
	// [1 2 3 4] true true
}
