package graph_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

func nd(name, op string, in, out []string, attrs ...*potv1.Attribute) *potv1.Node {
	return &potv1.Node{Name: name, OpType: op, Inputs: in, Outputs: out, Attributes: attrs}
}

func body(name string, g *potv1.Graph) *potv1.Attribute {
	return &potv1.Attribute{Name: name, Type: potv1.Attribute_TYPE_GRAPH, G: g}
}

// nested: x → relu → a; If(c) then { Gemm(a, w) → m; Loop body { Add(v, m) } }
// else { Identity(a) }, with w an initializer of the main graph and k of
// the then branch.
func nested() *potv1.Graph {
	loopBody := &potv1.Graph{Name: "body",
		Inputs:  []*potv1.ValueInfo{{Name: "i"}, {Name: "cin"}, {Name: "v"}},
		Nodes:   []*potv1.Node{nd("acc", "Add", []string{"v", "m"}, []string{"v2"}), nd("cid", "Identity", []string{"cin"}, []string{"cout"})},
		Outputs: []*potv1.ValueInfo{{Name: "cout"}, {Name: "v2"}}}
	then := &potv1.Graph{Name: "then",
		Initializers: []*potv1.Tensor{graph.FloatTensor("k", []int64{1}, []float32{2})},
		Nodes: []*potv1.Node{
			nd("gemm", "Gemm", []string{"a", "w"}, []string{"g"}),
			nd("scale", "Mul", []string{"g", "k"}, []string{"m"}),
			nd("loop", "Loop", []string{"n", "", "a"}, []string{"t"}, body("body", loopBody)),
		},
		Outputs: []*potv1.ValueInfo{{Name: "t"}}}
	els := &potv1.Graph{Name: "else", Nodes: []*potv1.Node{nd("copy", "Identity", []string{"a"}, []string{"e"})}, Outputs: []*potv1.ValueInfo{{Name: "e"}}}
	return &potv1.Graph{Name: "main",
		Inputs:       []*potv1.ValueInfo{{Name: "x"}, {Name: "c"}, {Name: "n"}},
		Outputs:      []*potv1.ValueInfo{{Name: "y"}},
		Initializers: []*potv1.Tensor{graph.FloatTensor("w", []int64{2, 2}, []float32{1, 2, 3, 4})},
		Nodes: []*potv1.Node{
			nd("relu", "Relu", []string{"x"}, []string{"a"}),
			nd("if", "If", []string{"c"}, []string{"y"}, body("then_branch", then), body("else_branch", els)),
		}}
}

func TestIndexScopes(t *testing.T) {
	g := nested()
	x := graph.NewIndex(g)
	var order []string
	for _, n := range x.Nodes() {
		order = append(order, n.GetName())
	}
	if fmt.Sprint(order) != "[relu if gemm scale loop acc cid copy]" {
		t.Errorf("Nodes() = %v", order)
	}
	for _, tc := range []struct {
		node   string
		parent string
		attr   string
		depth  int
		graph  string
	}{
		{"relu", "", "", 0, "main"},
		{"gemm", "if", "then_branch", 1, "then"},
		{"acc", "loop", "body", 2, "body"},
		{"copy", "if", "else_branch", 1, "else"},
	} {
		sc := x.Scope(tc.node)
		if sc.Parent.GetName() != tc.parent || sc.Attr != tc.attr || sc.Depth != tc.depth || sc.Graph.GetName() != tc.graph {
			t.Errorf("Scope(%s) = parent %q attr %q depth %d graph %q", tc.node, sc.Parent.GetName(), sc.Attr, sc.Depth, sc.Graph.GetName())
		}
		if x.InSubgraph(tc.node) != (tc.parent != "") {
			t.Errorf("InSubgraph(%s) = %v", tc.node, !(tc.parent != ""))
		}
	}
	if x.Node("acc") == nil || x.Node("nothing") != nil {
		t.Error("Node does not find nodes of every scope")
	}
	// a is read by the then branch's Gemm and Loop and the else branch.
	var readers []string
	for _, p := range x.Consumers("a") {
		readers = append(readers, fmt.Sprintf("%s:%d", p.Node.GetName(), p.Input))
	}
	if fmt.Sprint(readers) != "[gemm:0 loop:2 copy:0]" {
		t.Errorf("Consumers(a) = %v", readers)
	}
	if p := x.Consumers("m"); len(p) != 1 || p[0].Node.GetName() != "acc" {
		t.Errorf("Consumers(m) = %v, want the loop body's Add", p)
	}
	if x.Producer("m").GetName() != "scale" || x.Producer("v2").GetName() != "acc" || x.Producer("v") != nil {
		t.Error("Producer misses subgraph nodes or gives one to a body input")
	}
	if x.Constant("k") == nil || x.Constant("w") == nil || x.Initializer("k") == nil || x.Constant("m") != nil {
		t.Error("Constant misses a subgraph initializer")
	}
	for tensor, want := range map[string]string{"a": "main", "w": "main", "k": "then", "m": "then", "v": "body", "v2": "body", "e": "else"} {
		if got := x.DefiningGraph(tensor).GetName(); got != want {
			t.Errorf("DefiningGraph(%s) = %q, want %q", tensor, got, want)
		}
	}
	if !x.IsGraphInput("x") || x.IsGraphInput("v") || !x.IsGraphOutput("y") || x.IsGraphOutput("t") {
		t.Error("IsGraphInput/IsGraphOutput are not about the main graph")
	}
	then := graph.Subgraphs(x.Node("if"))[0]
	if got := graph.FreeVars(then); fmt.Sprint(got) != "[a n w]" {
		t.Errorf("FreeVars(then) = %v", got)
	}
	if got := graph.ImplicitInputs(x.Node("if")); fmt.Sprint(got) != "[a n w]" {
		t.Errorf("ImplicitInputs(if) = %v", got)
	}
	if got := graph.ImplicitInputs(x.Node("loop")); fmt.Sprint(got) != "[m]" {
		t.Errorf("ImplicitInputs(loop) = %v", got)
	}
	var walked []string
	graph.Walk(g, func(n *potv1.Node, scope *potv1.Graph, parent *potv1.Node) {
		walked = append(walked, scope.GetName()+"/"+n.GetName())
	})
	if fmt.Sprint(walked) != "[main/relu main/if then/gemm then/scale then/loop body/acc body/cid else/copy]" {
		t.Errorf("Walk visits %v", walked)
	}
}

// TestIndexRealModel: in openWakeWord's hey_jarvis the verifier branch's
// Gemms are indexed with their scope, and the model input they read
// through Flatten_33 has its reader in the branch.
func TestIndexRealModel(t *testing.T) {
	g := readGraph(t, filepath.Join("..", "..", "host", "cli", "testdata", "openwakeword", "hey_jarvis_v0.1.onnx"))
	x := graph.NewIndex(g)
	gemms := 0
	for _, n := range x.Nodes() {
		if n.GetOpType() == "Gemm" && x.InSubgraph(n.GetName()) {
			gemms++
			if sc := x.Scope(n.GetName()); sc.Parent.GetName() != "If_32" || sc.Attr != "then_branch" {
				t.Errorf("%s in %v", n.GetName(), sc)
			}
			if x.Constant(n.GetInputs()[1]) == nil {
				t.Errorf("%s: its weights %q, an initializer of the main graph, are not constant", n.GetName(), n.GetInputs()[1])
			}
		}
	}
	if gemms != 3 {
		t.Errorf("%d Gemms in the branch, want 3", gemms)
	}
	var readers []string
	for _, p := range x.Consumers("x.1") {
		readers = append(readers, p.Node.GetName())
	}
	if fmt.Sprint(readers) != "[Flatten_0 Flatten_33]" {
		t.Errorf("readers of x.1: %v", readers)
	}
}

// TestValueType: silero_vad's sample rate input is int64, its comparison
// bool, the shape arithmetic inside the branches int64, a cast's
// output the cast's type, and a convolution's output, undeclared, its
// input's (float).
func TestValueType(t *testing.T) {
	g := readGraph(t, filepath.Join("..", "..", "host", "cli", "testdata", "openwakeword", "silero_vad.onnx"))
	x := graph.NewIndex(g)
	for tensor, want := range map[string]potv1.DataType{
		"sr":                potv1.DataType_DATA_TYPE_INT64,
		"input":             potv1.DataType_DATA_TYPE_FLOAT,
		"onnx::Cast_125":    potv1.DataType_DATA_TYPE_BOOL,
		"622":               potv1.DataType_DATA_TYPE_INT64, // Shape
		"num_samples.3":     potv1.DataType_DATA_TYPE_INT64, // Gather of a shape
		"631":               potv1.DataType_DATA_TYPE_INT64, // Concat of shapes
		"771":               potv1.DataType_DATA_TYPE_BOOL,  // Cast to bool
		"343":               potv1.DataType_DATA_TYPE_FLOAT, // an initializer of a subgraph
		"forward_transform": potv1.DataType_DATA_TYPE_FLOAT,
	} {
		if got := x.ValueType(tensor); got != want {
			t.Errorf("ValueType(%q) = %v, want %v", tensor, got, want)
		}
	}
}

// TestScopeIndex indexes one graph at a time: the main graph of nested()
// without its branches, then the then branch, whose reads of the main
// graph's values have no producer there.
func TestScopeIndex(t *testing.T) {
	g := nested()
	main := graph.NewScopeIndex(g)
	then := graph.NewScopeIndex(graph.Attr(g.Nodes[1], "then_branch").GetG())
	ports := func(ps []graph.Port) string {
		var out []string
		for _, p := range ps {
			out = append(out, fmt.Sprintf("%s:%d", p.Node.GetName(), p.Input))
		}
		return fmt.Sprint(out)
	}
	for _, tc := range []struct {
		what, got, want string
	}{
		{"main nodes", names(main.Nodes()), "relu if"},
		{"main readers of a (all in branches)", ports(main.Consumers("a")), "[]"},
		{"main readers of c", ports(main.Consumers("c")), "[if:0]"},
		{"main producer of a", main.Producer("a").GetName(), "relu"},
		{"main producer of g (a branch's)", main.Producer("g").GetName(), ""},
		{"main initializer k (a branch's)", main.Initializer("k").GetName(), ""},
		{"main initializer w", main.Initializer("w").GetName(), "w"},
		{"then nodes", names(then.Nodes()), "gemm scale loop"},
		{"then readers of a", ports(then.Consumers("a")), "[gemm:0 loop:2]"},
		{"then readers of m (the loop body's)", ports(then.Consumers("m")), "[]"},
		{"then producer of a (the main graph's)", then.Producer("a").GetName(), ""},
		{"then producer of m", then.Producer("m").GetName(), "scale"},
		{"then defines v (the body's)", then.DefiningGraph("v").GetName(), ""},
		{"then defines k", then.DefiningGraph("k").GetName(), "then"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.what, tc.got, tc.want)
		}
	}
}
