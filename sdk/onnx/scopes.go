package onnx

import (
	"fmt"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// uniqueNames makes the names of values and of nodes unique across g and
// its subgraphs (the graph attributes of control-flow nodes, at any
// depth), so that a plan can name any tensor or node of any subgraph. The
// main graph keeps its names. A subgraph value named like a value of
// another scope (a sibling branch's, or an enclosing graph's it shadows)
// is renamed "<name>_<k>" throughout its subgraph, where it is defined and
// read, including in the subgraphs below it that read it; a node named
// like an earlier one is renamed the same way. Graphs are visited depth
// first in node order, so the result is deterministic.
func uniqueNames(g *potv1.Graph) {
	u := &uniquer{values: map[string]bool{}, nodes: map[string]bool{}, used: map[string]bool{}, usedNodes: map[string]bool{}}
	u.collect(g)
	for _, name := range definitions(g) {
		u.values[name] = true
	}
	for _, n := range g.GetNodes() {
		u.nodes[n.GetName()] = true
	}
	for _, n := range g.GetNodes() {
		for _, sg := range graph.Subgraphs(n) {
			u.scope(sg)
		}
	}
}

type uniquer struct {
	values, nodes   map[string]bool // names given so far
	used, usedNodes map[string]bool // every name in the model, new ones included
}

// collect records every value and node name of g and its subgraphs.
func (u *uniquer) collect(g *potv1.Graph) {
	for _, name := range definitions(g) {
		u.used[name] = true
	}
	for _, o := range g.GetOutputs() {
		u.used[o.GetName()] = true
	}
	for _, n := range g.GetNodes() {
		u.usedNodes[n.GetName()] = true
		for _, in := range n.GetInputs() {
			u.used[in] = true
		}
		for _, sg := range graph.Subgraphs(n) {
			u.collect(sg)
		}
	}
}

func fresh(base string, used map[string]bool) string {
	for k := 1; ; k++ {
		if name := fmt.Sprintf("%s_%d", base, k); !used[name] {
			used[name] = true
			return name
		}
	}
}

func (u *uniquer) scope(g *potv1.Graph) {
	rename := map[string]string{}
	for _, name := range definitions(g) {
		if u.values[name] {
			rename[name] = fresh(name, u.used)
			name = rename[name]
		}
		u.values[name] = true
	}
	if len(rename) > 0 {
		renameValues(g, rename, true)
	}
	for _, n := range g.GetNodes() {
		if u.nodes[n.GetName()] {
			n.Name = fresh(n.GetName(), u.usedNodes)
		}
		u.nodes[n.GetName()] = true
	}
	for _, n := range g.GetNodes() {
		for _, sg := range graph.Subgraphs(n) {
			u.scope(sg)
		}
	}
}

// definitions lists the values a graph defines: its inputs, initializers
// and node outputs, in that order.
func definitions(g *potv1.Graph) []string {
	var out []string
	for _, vi := range g.GetInputs() {
		out = append(out, vi.GetName())
	}
	for _, t := range g.GetInitializers() {
		out = append(out, t.GetName())
	}
	for _, n := range g.GetNodes() {
		for _, o := range n.GetOutputs() {
			if o != "" {
				out = append(out, o)
			}
		}
	}
	return out
}

// renameValues renames values of g: its own definitions and their uses
// when own, else (a subgraph below) only the uses of names it does not
// define itself.
func renameValues(g *potv1.Graph, m map[string]string, own bool) {
	if !own {
		var shadowed []string
		for _, name := range definitions(g) {
			if _, ok := m[name]; ok {
				shadowed = append(shadowed, name)
			}
		}
		if len(shadowed) > 0 {
			c := make(map[string]string, len(m))
			for k, v := range m {
				c[k] = v
			}
			for _, s := range shadowed {
				delete(c, s)
			}
			m = c
		}
		if len(m) == 0 {
			return
		}
	}
	re := func(s *string) {
		if r, ok := m[*s]; ok {
			*s = r
		}
	}
	if own {
		for _, vi := range g.GetInputs() {
			re(&vi.Name)
		}
		for _, t := range g.GetInitializers() {
			re(&t.Name)
		}
	}
	for _, vi := range g.GetValueInfo() {
		re(&vi.Name)
	}
	for _, vi := range g.GetOutputs() {
		re(&vi.Name)
	}
	for _, n := range g.GetNodes() {
		for i := range n.Inputs {
			re(&n.Inputs[i])
		}
		if own {
			for i := range n.Outputs {
				re(&n.Outputs[i])
			}
		}
		for _, sg := range graph.Subgraphs(n) {
			renameValues(sg, m, false)
		}
	}
}
