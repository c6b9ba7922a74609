package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// deep nests depth If nodes, each in the then branch of the one above.
func deep(depth int) *potv1.Graph {
	g := &potv1.Graph{Nodes: []*potv1.Node{nd("leaf", "Identity", []string{"x"}, []string{"y"})}}
	for level := depth - 1; level >= 0; level-- {
		g = &potv1.Graph{Nodes: []*potv1.Node{nd(fmt.Sprintf("if_%d", level), "If", []string{"c"}, []string{"y"}, body("then_branch", g))}}
	}
	return g
}

func TestCheckLimits(t *testing.T) {
	tests := []struct {
		depth int
		want  string
	}{
		{0, ""},
		{graph.MaxNesting, ""},
		{graph.MaxNesting + 1, `node "if_64" (If): attribute "then_branch" holds a graph nested more than 64 levels deep`},
		{500, `node "if_64" (If)`},
	}
	for _, tc := range tests {
		err := graph.CheckLimits(deep(tc.depth))
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("depth %d: error %v, want %q", tc.depth, err, tc.want)
		}
	}
	many := make([]string, graph.MaxArity+1)
	for _, tc := range []struct {
		node *potv1.Node
		want string
	}{
		{nd("concat", "Concat", many[:graph.MaxArity], []string{"y"}), ""},
		{nd("concat", "Concat", many, []string{"y"}), `node "concat" (Concat) has 65537 inputs (pot reads at most 65536 per node)`},
		{nd("split", "Split", []string{"x"}, many), `node "split" (Split) has 65537 outputs`},
	} {
		g := deep(3)
		g.Nodes[0].Attributes[0].G.Nodes[0].Attributes[0].G.Nodes = append(g.Nodes[0].Attributes[0].G.Nodes[0].Attributes[0].G.Nodes, tc.node)
		err := graph.CheckLimits(g)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: error %v, want %q", tc.node.GetName(), err, tc.want)
		}
	}
}

func TestCheckAcyclic(t *testing.T) {
	sub := func(reads string) *potv1.Attribute {
		return body("then_branch", &potv1.Graph{Nodes: []*potv1.Node{nd("in", "Identity", []string{reads}, []string{"t"})}, Outputs: []*potv1.ValueInfo{{Name: "t"}}})
	}
	tests := []struct {
		name  string
		nodes []*potv1.Node
		want  string
	}{
		{"sorted", []*potv1.Node{nd("a", "Relu", []string{"x"}, []string{"a"}), nd("b", "Relu", []string{"a"}, []string{"b"})}, ""},
		{"unsorted", []*potv1.Node{nd("b", "Relu", []string{"a"}, []string{"b"}), nd("a", "Relu", []string{"x"}, []string{"a"})}, ""},
		{"undefined input", []*potv1.Node{nd("a", "Relu", []string{"nowhere"}, []string{"a"})}, ""},
		{"diamond", []*potv1.Node{nd("a", "Relu", []string{"x"}, []string{"a"}), nd("b", "Relu", []string{"a"}, []string{"b"}),
			nd("c", "Relu", []string{"a"}, []string{"c"}), nd("d", "Add", []string{"b", "c"}, []string{"d"})}, ""},
		{"self", []*potv1.Node{nd("a", "Add", []string{"x", "a"}, []string{"a"})}, `node "a" (Add) reads its own output "a"`},
		{"two", []*potv1.Node{nd("a", "Add", []string{"x", "b"}, []string{"a"}), nd("b", "Relu", []string{"a"}, []string{"b"})},
			`nodes form a cycle: "a" (Add) reads "b" of "b" (Relu), which reads "a" of "a" (Add)`},
		{"behind a sound node", []*potv1.Node{nd("z", "Relu", []string{"x"}, []string{"z"}), nd("a", "Add", []string{"z", "b"}, []string{"a"}), nd("b", "Relu", []string{"a"}, []string{"b"}),
			nd("c", "Relu", []string{"b"}, []string{"c"})}, `"a" (Add) reads "b" of "b" (Relu), which reads "a" of "a" (Add)`},
		{"through a subgraph", []*potv1.Node{nd("if", "If", []string{"c"}, []string{"y"}, sub("r")), nd("r", "Relu", []string{"y"}, []string{"r"})},
			`nodes form a cycle: "if" (If) reads "r" of "r" (Relu), which reads "y" of "if" (If)`},
		{"own output through a subgraph", []*potv1.Node{nd("if", "If", []string{"c"}, []string{"y"}, sub("y"))}, `node "if" (If) reads its own output "y"`},
		{"inside a subgraph", []*potv1.Node{nd("if", "If", []string{"c"}, []string{"y"}, body("then_branch", &potv1.Graph{
			Nodes: []*potv1.Node{nd("p", "Add", []string{"x", "q"}, []string{"p"}), nd("q", "Relu", []string{"p"}, []string{"q"})}}))},
			`nodes form a cycle: "p" (Add) reads "q" of "q" (Relu), which reads "p" of "p" (Add)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := &potv1.Graph{Inputs: []*potv1.ValueInfo{{Name: "x"}, {Name: "c"}}, Nodes: tc.nodes}
			err := graph.CheckAcyclic(g)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
