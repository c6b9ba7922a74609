package graph_test

import (
	"fmt"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// TestNamer names new values of LeNet and of a graph with subgraphs:
// a free base stays as it is; a taken one gets the first free suffix,
// whatever takes it (a node, a node's output, an initializer, an input or
// a value info, of any scope, or an earlier Name or Use).
func TestNamer(t *testing.T) {
	// A value info left from a value since removed.
	stale := lenet(t)
	stale.ValueInfo = append(stale.ValueInfo, &potv1.ValueInfo{Name: "/f1/Gemm_output_0_quantized"})
	for _, tc := range []struct {
		g     *potv1.Graph
		use   []string
		bases []string
		want  string
	}{
		{lenet(t), nil, []string{"fresh", "fresh", "fresh"}, "[fresh fresh_1 fresh_2]"},
		{lenet(t), nil, []string{"/c1/Conv", "c1.weight", "input", "logits"}, "[/c1/Conv_1 c1.weight_1 input_1 logits_1]"},
		// LeNet has /Relu, /Relu_1 and /Relu_2.
		{lenet(t), nil, []string{"/Relu", "/Relu_1"}, "[/Relu_3 /Relu_1_1]"},
		{lenet(t), []string{"x_quantized", "x_quantized_1"}, []string{"x_quantized"}, "[x_quantized_2]"},
		{stale, nil, []string{"/f1/Gemm_output_0_quantized"}, "[/f1/Gemm_output_0_quantized_1]"},
		// k is an initializer of a branch, v2 the output of a loop body's
		// node, i an input of the body, loop a node of the branch.
		{nested(), nil, []string{"k", "v2", "i", "loop", "body"}, "[k_1 v2_1 i_1 loop_1 body]"},
	} {
		nm := graph.NewNamer(tc.g)
		for _, u := range tc.use {
			nm.Use(u)
		}
		var got []string
		for _, b := range tc.bases {
			got = append(got, nm.Name(b))
		}
		if fmt.Sprint(got) != tc.want {
			t.Errorf("Name(%v) = %v, want %s", tc.bases, got, tc.want)
		}
	}
}

// TestRemoveUnused cuts LeNet at an inner tensor, and a graph whose
// branches read values of the main graph.
func TestRemoveUnused(t *testing.T) {
	for _, tc := range []struct {
		name      string
		g         *potv1.Graph
		output    string // replaces the main graph's outputs, when set
		keep      []string
		wantNodes string
		wantInits string
	}{
		{"LeNet whole", lenet(t), "", nil,
			"/c1/Conv /Relu /MaxPool /c2/Conv /Relu_1 /MaxPool_1 /Flatten /f1/Gemm /Relu_2 /f2/Gemm",
			"c1.weight c1.bias c2.weight c2.bias f1.weight f1.bias f2.weight f2.bias"},
		{"LeNet cut after the convolutions", lenet(t), "/Flatten_output_0", nil,
			"/c1/Conv /Relu /MaxPool /c2/Conv /Relu_1 /MaxPool_1 /Flatten",
			"c1.weight c1.bias c2.weight c2.bias"},
		{"LeNet cut, a later value kept", lenet(t), "/Flatten_output_0", []string{"/f1/Gemm_output_0"},
			"/c1/Conv /Relu /MaxPool /c2/Conv /Relu_1 /MaxPool_1 /Flatten /f1/Gemm",
			"c1.weight c1.bias c2.weight c2.bias f1.weight f1.bias"},
		{"LeNet cut, a weight kept", lenet(t), "/Relu_output_0", []string{"f2.bias"},
			"/c1/Conv /Relu", "c1.weight c1.bias f2.bias"},
		// w and a are read by the If's then branch only.
		{"read by subgraphs", nested(), "", nil, "relu if", "w"},
		{"the If cut off", nested(), "a", nil, "relu", ""},
	} {
		if tc.output != "" {
			tc.g.Outputs = []*potv1.ValueInfo{{Name: tc.output}}
		}
		keep := map[string]bool{}
		for _, k := range tc.keep {
			keep[k] = true
		}
		graph.RemoveUnused(tc.g, func(name string) bool { return keep[name] })
		if got := names(tc.g.GetNodes()); got != tc.wantNodes {
			t.Errorf("%s: nodes %s, want %s", tc.name, got, tc.wantNodes)
		}
		if got := names(tc.g.GetInitializers()); got != tc.wantInits {
			t.Errorf("%s: initializers %s, want %s", tc.name, got, tc.wantInits)
		}
	}
}

// TestRemoveUnusedInitializers drops, in every scope, the initializers
// nothing reads, and keeps those read from an enclosing graph, those that
// are graph inputs, and every node.
func TestRemoveUnusedInitializers(t *testing.T) {
	g := nested()
	then := graph.Attr(g.Nodes[1], "then_branch").GetG()
	g.Initializers = append(g.Initializers, graph.FloatTensor("unread", nil, []float32{1}), graph.FloatTensor("x", nil, []float32{0}))
	then.Initializers = append(then.Initializers, graph.FloatTensor("stale", nil, []float32{1}))
	g.Nodes = append(g.Nodes, nd("dead", "Relu", []string{"x"}, []string{"unused"}))
	graph.RemoveUnusedInitializers(g)
	for _, tc := range []struct {
		what, got, want string
	}{
		{"main initializers", names(g.GetInitializers()), "w x"},
		{"branch initializers", names(then.GetInitializers()), "k"},
		{"main nodes", names(g.GetNodes()), "relu if dead"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %s, want %s", tc.what, tc.got, tc.want)
		}
	}
}
