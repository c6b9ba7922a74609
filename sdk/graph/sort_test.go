package graph_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// names joins the names of nodes, tensors or value infos.
func names[T interface{ GetName() string }](xs []T) string {
	var s []string
	for _, x := range xs {
		s = append(s, x.GetName())
	}
	return strings.Join(s, " ")
}

func TestSort(t *testing.T) {
	in := func(names ...string) []*potv1.ValueInfo {
		var vi []*potv1.ValueInfo
		for _, n := range names {
			vi = append(vi, &potv1.ValueInfo{Name: n})
		}
		return vi
	}
	// ifReading: an If whose then branch reads v of the enclosing graph.
	ifReading := func(name, v, out string) *potv1.Node {
		return nd(name, "If", []string{"c"}, []string{out}, body("then_branch", &potv1.Graph{
			Nodes: []*potv1.Node{nd(name+"/id", "Identity", []string{v}, []string{out + "/t"})}}))
	}
	tests := []struct {
		name  string
		g     *potv1.Graph
		outer func(string) bool
		want  string // node order, or an error substring
		err   bool
	}{
		{name: "sorted graph keeps its order",
			g: &potv1.Graph{Inputs: in("x"), Nodes: []*potv1.Node{
				nd("b", "Relu", []string{"x"}, []string{"b"}),
				nd("a", "Relu", []string{"x"}, []string{"a"}),
				nd("c", "Add", []string{"a", "b"}, []string{"c"})}},
			want: "b a c"},
		{name: "appended node moves before its consumer",
			g: &potv1.Graph{Inputs: in("x"), Nodes: []*potv1.Node{
				nd("conv", "Conv", []string{"x/fq", "w"}, []string{"y"}),
				nd("relu", "Relu", []string{"y"}, []string{"z"}),
				nd("fq", "FakeQuantize", []string{"x"}, []string{"x/fq"})},
				Initializers: []*potv1.Tensor{{Name: "w"}}},
			want: "fq conv relu"},
		{name: "repeated passes: ready nodes keep their order",
			g: &potv1.Graph{Inputs: in("x"), Nodes: []*potv1.Node{
				nd("a", "Relu", []string{"c"}, []string{"a"}),
				nd("b", "Relu", []string{"x"}, []string{"b"}),
				nd("c", "Relu", []string{"b"}, []string{"c"}),
				nd("d", "Relu", []string{"x"}, []string{"d"})}},
			want: "b c d a"},
		{name: "optional inputs and enclosing values",
			g: &potv1.Graph{Nodes: []*potv1.Node{
				nd("b", "Clip", []string{"a", "", "lo"}, []string{"b"}),
				nd("a", "Relu", []string{"outer"}, []string{"a"})}},
			outer: func(n string) bool { return n == "outer" || n == "lo" },
			want:  "a b"},
		{name: "a subgraph's read orders its node",
			g: &potv1.Graph{Inputs: in("x", "c"), Nodes: []*potv1.Node{
				ifReading("if", "v", "y"),
				nd("v", "Relu", []string{"x"}, []string{"v"})}},
			want: "v if"},
		{name: "undefined input",
			g: &potv1.Graph{Inputs: in("x"), Nodes: []*potv1.Node{
				nd("a", "Relu", []string{"x"}, []string{"a"}),
				nd("b", "Add", []string{"a", "nowhere"}, []string{"b"}),
				nd("c", "Relu", []string{"b"}, []string{"c"})}},
			want: `node "b" (Add): input "nowhere" is not a graph input, initializer or node output; nodes left unordered: "b", "c"`, err: true},
		{name: "undefined value read by a subgraph",
			g:    &potv1.Graph{Inputs: in("c"), Nodes: []*potv1.Node{ifReading("if", "nowhere", "y")}},
			want: `node "if" (If): value read by a subgraph, "nowhere" is not`, err: true},
		{name: "cycle",
			g: &potv1.Graph{Name: "g", Inputs: in("x"), Nodes: []*potv1.Node{
				nd("a", "Add", []string{"x", "b"}, []string{"a"}),
				nd("b", "Relu", []string{"a"}, []string{"b"}),
				nd("ok", "Relu", []string{"x"}, []string{"ok"})}},
			want: `graph "g": node "a" (Add): input "b" is part of a cycle; nodes left unordered: "a", "b"`, err: true},
		{name: "self loop",
			g: &potv1.Graph{Inputs: in("x"), Nodes: []*potv1.Node{
				nd("loop", "Add", []string{"x", "y"}, []string{"y"})}},
			want: `node "loop" (Add): input "y" is part of a cycle`, err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := names(tc.g.Nodes)
			err := graph.Sort(tc.g, tc.outer)
			if tc.err {
				var se *graph.SortError
				if err == nil || !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want a *SortError with %q", err, tc.want)
				}
				if got := names(tc.g.Nodes); got != before {
					t.Errorf("graph changed on error: %s, was %s", got, before)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := names(tc.g.Nodes); got != tc.want {
				t.Errorf("order %q, want %q", got, tc.want)
			}
		})
	}
}

// TestSortSubgraphs: Sort orders the nodes of subgraphs too, which read
// the values of the graphs around them; Order leaves the graph alone.
func TestSortSubgraphs(t *testing.T) {
	loopBody := &potv1.Graph{Name: "body", Inputs: []*potv1.ValueInfo{{Name: "i"}}, Nodes: []*potv1.Node{
		nd("add", "Add", []string{"r", "m"}, []string{"s"}),
		nd("relu", "Relu", []string{"i"}, []string{"r"})}}
	then := &potv1.Graph{Name: "then", Nodes: []*potv1.Node{
		nd("loop", "Loop", []string{"", ""}, []string{"l"}, body("body", loopBody)),
		nd("mul", "Mul", []string{"a", "w"}, []string{"m"})}}
	g := &potv1.Graph{Inputs: []*potv1.ValueInfo{{Name: "x"}, {Name: "c"}}, Initializers: []*potv1.Tensor{{Name: "w"}},
		Nodes: []*potv1.Node{
			nd("if", "If", []string{"c"}, []string{"y"}, body("then_branch", then)),
			nd("a", "Relu", []string{"x"}, []string{"a"})}}
	order, err := graph.Order(g, nil)
	if err != nil || names(order) != "a if" || names(g.Nodes) != "if a" {
		t.Fatalf("Order: %s, %v; graph now %s", names(order), err, names(g.Nodes))
	}
	if err := graph.Sort(g, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		g    *potv1.Graph
		want string
	}{{g, "a if"}, {then, "mul loop"}, {loopBody, "relu add"}} {
		if got := names(c.g.Nodes); got != c.want {
			t.Errorf("graph %q: %s, want %s", c.g.GetName(), got, c.want)
		}
	}
	// A value no graph defines, deep down: the If at the top reads it.
	loopBody.Nodes[1].Inputs[1] = "nowhere" // add, now second
	err = graph.Sort(g, nil)
	if err == nil || !strings.Contains(err.Error(), `node "if" (If): value read by a subgraph, "nowhere" is not`) {
		t.Errorf("undefined value in a loop body: %v", err)
	}
	// A cycle in the loop body: the error names the path to it.
	loopBody.Nodes[1].Inputs[1] = "m"
	loopBody.Nodes[0].Inputs[0] = "s"
	err = graph.Sort(g, nil)
	if err == nil || !strings.Contains(err.Error(), `node "if" (If): node "loop" (Loop): graph "body": node "relu" (Relu): input "s" is part of a cycle`) {
		t.Errorf("cycle in a loop body: %v", err)
	}
}
