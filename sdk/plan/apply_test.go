package plan_test

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/sdk/plan"
)

func heyJarvis(t testing.TB) *potv1.Graph {
	t.Helper()
	g, err := onnx.ReadGraph(filepath.Join("..", "..", "host", "cli", "testdata", "openwakeword", "hey_jarvis_v0.1.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func quantizer(id string, loc *potv1.Location, weights bool) *potv1.Quantizer {
	return &potv1.Quantizer{Id: id, Location: loc, Weights: weights, Bits: 8, Levels: 256, LevelLow: 0, LevelHigh: 255,
		InputLow: []float32{-1}, InputHigh: []float32{1}, OutputLow: []float32{-1}, OutputHigh: []float32{1}}
}

// TestApplyIntoSubgraphs puts quantizers on hey_jarvis's verifier branch:
// the weights of its first Gemm (an initializer of the main graph), the
// output of that Gemm (an edge inside the branch), the input of its
// second Gemm (a node input), and the model input x.1, which both the
// main graph and the branch read; and updates the branch's first bias.
// Each FakeQuantize lands in the graph of its location, with its
// parameters; readers in every scope read the quantized value; g is not
// modified.
func TestApplyIntoSubgraphs(t *testing.T) {
	g := heyJarvis(t)
	orig := proto.Clone(g)
	bias := graph.FloatTensor("verifier_model.1.bias", []int64{64}, make([]float32, 64))
	p := &potv1.QuantizationPlan{
		Quantizers: []*potv1.Quantizer{
			quantizer("w", &potv1.Location{Tensor: "verifier_model.1.weight", Node: "Gemm_34", Input: 1}, true),
			quantizer("edge", &potv1.Location{Tensor: "input.27"}, false),
			quantizer("port", &potv1.Location{Tensor: "result.7", Node: "Gemm_47", Input: 0}, false),
			quantizer("input", &potv1.Location{Tensor: "x.1"}, false),
		},
		TensorUpdates: []*potv1.Tensor{bias},
	}
	a, err := plan.Apply(g, p)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(g, orig) {
		t.Fatal("Apply modified its input graph")
	}
	x := graph.NewIndex(a.Graph)
	scopeOf := map[string]string{}
	for _, n := range x.Nodes() {
		if n.GetOpType() == plan.FakeQuantizeOp {
			sc := x.Scope(n.GetName())
			scopeOf[n.GetName()] = sc.Graph.GetName()
			for _, in := range n.GetInputs()[1:] {
				if _, ok := initIn(sc.Graph, in); !ok {
					t.Errorf("%s: parameter %q is not an initializer of its graph %q", n.GetName(), in, sc.Graph.GetName())
				}
			}
		}
	}
	want := map[string]string{"fq/w": "torch_jit1", "fq/edge": "torch_jit1", "fq/port": "torch_jit1", "fq/input": "torch_jit"}
	if fmt.Sprint(scopeOf) != fmt.Sprint(want) {
		t.Errorf("FakeQuantize scopes %v, want %v", scopeOf, want)
	}
	// Readers.
	if in := x.Node("Gemm_34").GetInputs(); in[1] != "verifier_model.1.weight/fq/Gemm_34/1" || in[2] != "verifier_model.1.bias" {
		t.Errorf("Gemm_34 reads %v", in)
	}
	if x.Producer("input.27").GetName() != "fq/edge" || x.Node("Gemm_34").GetOutputs()[0] != "input.27"+plan.PreQuantSuffix || a.Source("input.27") != "input.27"+plan.PreQuantSuffix {
		t.Error("the edge quantizer does not sit between Gemm_34 and its readers")
	}
	if in := x.Node("Gemm_47").GetInputs()[0]; in != "result.7/fq/Gemm_47/0" {
		t.Errorf("Gemm_47 reads %q", in)
	}
	var readers []string
	for _, c := range x.Consumers("x.1/fq") {
		readers = append(readers, c.Node.GetName())
	}
	sort.Strings(readers)
	if fmt.Sprint(readers) != "[Flatten_0 Flatten_33]" {
		t.Errorf("readers of the quantized input: %v", readers)
	}
	if b, _ := graph.Float32s(x.Constant("verifier_model.1.bias")); b[0] != 0 {
		t.Error("the tensor update of the branch's bias is not applied")
	}
	// A quantizer for a node kept in float is left out.
	p.Precisions = []*potv1.NodePrecision{{Node: "Gemm_47", Precision: potv1.Precision_PRECISION_FLOAT}}
	p.Quantizers[2].Consumers = []string{"Gemm_47"}
	a, err = plan.Apply(g, p)
	if err != nil {
		t.Fatal(err)
	}
	if in := graph.NewIndex(a.Graph).Node("Gemm_47").GetInputs()[0]; in != "result.7" {
		t.Errorf("reverted Gemm_47 reads %q", in)
	}
}

// TestApplyUpdatesSubgraphInitializer: a tensor update replaces an
// initializer of a subgraph (silero_vad's LSTM weights, two If levels
// down), in the copy only.
func TestApplyUpdatesSubgraphInitializer(t *testing.T) {
	g, err := onnx.ReadGraph(filepath.Join("..", "..", "host", "cli", "testdata", "openwakeword", "silero_vad.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	x := graph.NewIndex(g)
	w := x.Initializer("343") // LSTM_245's W
	if w == nil || x.DefiningGraph("343") == g {
		t.Fatal("343 is not an initializer of a subgraph")
	}
	u := graph.FloatTensor("343", w.GetDims(), make([]float32, graph.NumElements(w.GetDims())))
	a, err := plan.Apply(g, &potv1.QuantizationPlan{TensorUpdates: []*potv1.Tensor{u}})
	if err != nil {
		t.Fatal(err)
	}
	if graph.NewIndex(a.Graph).Initializer("343") != u || x.Initializer("343") != w {
		t.Error("the update is not in the copy's subgraph, or reached the original")
	}
}

// TestApplyUpdatesConstantNode: an update of a Constant node's output
// replaces the node's value in the copy, not in the original, and one of
// another shape is refused.
func TestApplyUpdatesConstantNode(t *testing.T) {
	old := graph.FloatTensor("", []int64{2}, []float32{1, 2})
	g := &potv1.Graph{Opsets: []*potv1.OpsetImport{{Version: 13}},
		Inputs:  []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Outputs: []*potv1.ValueInfo{{Name: "y", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Nodes: []*potv1.Node{
			{Name: "c", OpType: "Constant", Outputs: []string{"b"}, Attributes: []*potv1.Attribute{{Name: "value", Type: potv1.Attribute_TYPE_TENSOR, T: old}}},
			{Name: "add", OpType: "Add", Inputs: []string{"x", "b"}, Outputs: []string{"y"}},
		}}
	u := graph.FloatTensor("b", []int64{2}, []float32{5, 6})
	a, err := plan.Apply(g, &potv1.QuantizationPlan{TensorUpdates: []*potv1.Tensor{u}})
	if err != nil {
		t.Fatal(err)
	}
	if got := graph.NewIndex(a.Graph).Constant("b"); got != u {
		t.Errorf("the copy's Constant holds %v, want the update", got)
	}
	if graph.NewIndex(g).Constant("b") != old {
		t.Error("the update reached the original graph")
	}
	if err := plan.Validate(g, &potv1.QuantizationPlan{TensorUpdates: []*potv1.Tensor{u}}); err != nil {
		t.Errorf("a valid update of a Constant is refused: %v", err)
	}
	bad := graph.FloatTensor("b", []int64{3}, []float32{5, 6, 7})
	if _, err := plan.Apply(g, &potv1.QuantizationPlan{TensorUpdates: []*potv1.Tensor{bad}}); err == nil {
		t.Error("an update changing the Constant's shape was applied")
	}
}

func initIn(g *potv1.Graph, name string) (*potv1.Tensor, bool) {
	for _, t := range g.GetInitializers() {
		if t.GetName() == name {
			return t, true
		}
	}
	return nil, false
}

// TestApplyRefuses: plans that would make an unsound graph are refused.
func TestApplyRefuses(t *testing.T) {
	g, err := onnx.ReadGraph(filepath.Join("..", "..", "examples", "models", "lenet_mnist.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	bias := g.GetInitializers()[1]
	short := proto.Clone(bias).(*potv1.Tensor)
	short.Data = short.Data[:8]
	tests := []struct {
		name string
		plan *potv1.QuantizationPlan
		want string
	}{
		// Both once wrote bias/fq: a graph with two writers of one value.
		{"two quantizers on an initializer", &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{
			quantizer("a", &potv1.Location{Tensor: bias.GetName()}, true), quantizer("b", &potv1.Location{Tensor: bias.GetName()}, true)}},
			fmt.Sprintf("plan: two quantizers on tensor %q", bias.GetName())},
		{"two quantizers on an input", &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{
			quantizer("a", &potv1.Location{Tensor: g.GetInputs()[0].GetName()}, false), quantizer("b", &potv1.Location{Tensor: g.GetInputs()[0].GetName()}, false)}},
			"two quantizers on tensor"},
		// It once replaced the initializer, to fail only on export.
		{"update of the wrong size", &potv1.QuantizationPlan{TensorUpdates: []*potv1.Tensor{short}},
			fmt.Sprintf("plan: tensor update for %q: 8 data bytes, DATA_TYPE_FLOAT%v needs %d", bias.GetName(), bias.GetDims(), len(bias.GetData()))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := plan.Apply(g, tc.plan); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// checkSorted fails unless every node of g and of its subgraphs comes
// after the nodes producing what it reads, its subgraphs included.
func checkSorted(t *testing.T, g *potv1.Graph) {
	t.Helper()
	produced := map[string]bool{}
	graph.Walk(g, func(n *potv1.Node, _ *potv1.Graph, _ *potv1.Node) {
		for _, o := range n.GetOutputs() {
			produced[o] = true
		}
	})
	var check func(g *potv1.Graph, defined map[string]bool)
	check = func(g *potv1.Graph, outer map[string]bool) {
		defined := map[string]bool{}
		for name := range outer {
			defined[name] = true
		}
		for _, n := range g.GetNodes() {
			for _, in := range append(append([]string(nil), n.GetInputs()...), graph.ImplicitInputs(n)...) {
				if produced[in] && !defined[in] {
					t.Errorf("graph %q: node %q reads %q before its producer", g.GetName(), n.GetName(), in)
				}
			}
			for _, o := range n.GetOutputs() {
				defined[o] = true
			}
		}
		for _, n := range g.GetNodes() {
			for _, sg := range graph.Subgraphs(n) {
				check(sg, defined)
			}
		}
	}
	check(g, nil)
}

// TestApplySorts: FakeQuantize nodes go before the nodes reading them,
// for node-input, edge and graph-input quantizers, in subgraphs too.
func TestApplySorts(t *testing.T) {
	g := &potv1.Graph{Name: "g",
		Inputs:  []*potv1.ValueInfo{{Name: "x"}},
		Outputs: []*potv1.ValueInfo{{Name: "z"}},
		Nodes: []*potv1.Node{
			{Name: "r", OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}},
			{Name: "s", OpType: "Relu", Inputs: []string{"y"}, Outputs: []string{"z"}},
		}}
	p := &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{
		quantizer("port", &potv1.Location{Tensor: "y", Node: "s", Input: 0}, false),
		quantizer("input", &potv1.Location{Tensor: "x"}, false),
	}}
	a, err := plan.Apply(g, p)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, n := range a.Graph.GetNodes() {
		order = append(order, n.GetName())
	}
	if got := strings.Join(order, " "); got != "fq/input r fq/port s" {
		t.Errorf("node order %q, want %q", got, "fq/input r fq/port s")
	}
	checkSorted(t, a.Graph)
	// The edge quantizer of a graph output.
	p.Quantizers = append(p.Quantizers, quantizer("edge", &potv1.Location{Tensor: "y"}, false))
	p.Quantizers = p.Quantizers[1:]
	if a, err = plan.Apply(g, p); err != nil {
		t.Fatal(err)
	}
	checkSorted(t, a.Graph)

	jarvis := heyJarvis(t)
	a, err = plan.Apply(jarvis, &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{
		quantizer("edge", &potv1.Location{Tensor: "input.27"}, false),
		quantizer("port", &potv1.Location{Tensor: "result.7", Node: "Gemm_47", Input: 0}, false),
		quantizer("input", &potv1.Location{Tensor: "x.1"}, false),
	}})
	if err != nil {
		t.Fatal(err)
	}
	checkSorted(t, a.Graph)
}
