package graph

import (
	"fmt"
	"sort"
	"strings"

	"github.com/potgo/pot/proto/potv1"
)

// SortError is a graph whose nodes cannot be ordered: some read a value
// that nothing defines, or the nodes form a cycle.
type SortError struct {
	Graph string
	// Stuck are the nodes left unordered, in graph order.
	Stuck []*potv1.Node
	// Node is the one to blame: the first stuck node reading an undefined
	// value if there is one, else the first stuck node. Input is the
	// value it waits for; Implicit says that a subgraph of the node reads
	// it; Undefined that nothing defines it (else it is part of a cycle).
	Node      *potv1.Node
	Input     string
	Implicit  bool
	Undefined bool
}

// Problem describes what holds Node back, without naming it.
func (e *SortError) Problem() string {
	what := "input"
	if e.Implicit {
		what = "value read by a subgraph,"
	}
	if e.Undefined {
		return fmt.Sprintf("%s %q is not a graph input, initializer or node output", what, e.Input)
	}
	return fmt.Sprintf("%s %q is part of a cycle", what, e.Input)
}

func (e *SortError) Error() string {
	names := make([]string, len(e.Stuck))
	for i, n := range e.Stuck {
		names[i] = fmt.Sprintf("%q", n.GetName())
	}
	return fmt.Sprintf("graph %q: node %q (%s): %s; nodes left unordered: %s",
		e.Graph, e.Node.GetName(), e.Node.GetOpType(), e.Problem(), strings.Join(names, ", "))
}

// Order returns the nodes of g (not those of its subgraphs) so that each
// comes after the producers of its inputs and of the values of g that its
// subgraphs read (ImplicitInputs), as ONNX requires; g is not modified.
//
// A value is defined when it is "", a graph input, an initializer, a
// name outer accepts (the values of enclosing graphs, for a subgraph;
// outer may be nil) or a node output. The order is stable: it is the one
// of repeated passes over the nodes in their order, each pass taking
// every node whose inputs are defined by then — a sorted graph keeps its
// order, and nodes out of place move just after what they wait for.
// A node reading a value nothing defines, or nodes in a cycle, give a
// *SortError.
func Order(g *potv1.Graph, outer func(name string) bool) ([]*potv1.Node, error) {
	known := map[string]bool{"": true}
	for _, vi := range g.GetInputs() {
		known[vi.GetName()] = true
	}
	for _, t := range g.GetInitializers() {
		known[t.GetName()] = true
	}
	isKnown := func(name string) bool {
		return known[name] || outer != nil && outer(name)
	}
	nodes := g.GetNodes()
	producers := map[string][]int{}
	for i, n := range nodes {
		for _, o := range n.GetOutputs() {
			if o != "" {
				producers[o] = append(producers[o], i)
			}
		}
	}
	// undefined: the first value a node reads that nothing defines.
	undefined := map[int]wait{}
	deps := make([][]int, len(nodes))
	waitFor := make([][]wait, len(nodes)) // the value behind each dep
	next := make([][]int, len(nodes))
	pending := make([]int, len(nodes))
	for i, n := range nodes {
		explicit := len(n.GetInputs())
		seen := map[int]bool{}
		for k, in := range append(append([]string(nil), n.GetInputs()...), ImplicitInputs(n)...) {
			if isKnown(in) {
				continue
			}
			ps, ok := producers[in]
			if !ok {
				if _, had := undefined[i]; !had {
					undefined[i] = wait{in, k >= explicit}
				}
				continue
			}
			for _, p := range ps {
				if !seen[p] {
					seen[p] = true
					deps[i] = append(deps[i], p)
					waitFor[i] = append(waitFor[i], wait{in, k >= explicit})
					next[p] = append(next[p], i)
				}
			}
		}
		pending[i] = len(deps[i])
		if _, bad := undefined[i]; bad {
			pending[i]++ // never ready
		}
	}
	// pass[i] is the pass that takes node i: that of a dependency before
	// it, one more than that of a dependency after it.
	pass := make([]int, len(nodes))
	var queue, done []int
	for i := range nodes {
		if pending[i] == 0 {
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		done = append(done, d)
		for _, j := range next[d] {
			p := pass[d]
			if d > j {
				p++
			}
			pass[j] = max(pass[j], p)
			if pending[j]--; pending[j] == 0 {
				queue = append(queue, j)
			}
		}
	}
	if len(done) < len(nodes) {
		return nil, stuck(g, nodes, pending, undefined, deps, waitFor)
	}
	sort.Slice(done, func(a, b int) bool {
		i, j := done[a], done[b]
		if pass[i] != pass[j] {
			return pass[i] < pass[j]
		}
		return i < j
	})
	out := make([]*potv1.Node, len(done))
	for k, i := range done {
		out[k] = nodes[i]
	}
	return out, nil
}

// wait is a value a node waits for; implicit when a subgraph reads it.
type wait struct {
	input    string
	implicit bool
}

// stuck explains why the nodes left pending cannot be ordered.
func stuck(g *potv1.Graph, nodes []*potv1.Node, pending []int, undefined map[int]wait, deps [][]int, waitFor [][]wait) *SortError {
	e := &SortError{Graph: g.GetName()}
	first := -1
	for i, n := range nodes {
		if pending[i] == 0 {
			continue
		}
		e.Stuck = append(e.Stuck, n)
		if first < 0 {
			first = i
		}
	}
	blame := func(i int, w wait) {
		e.Node, e.Input, e.Implicit = nodes[i], w.input, w.implicit
	}
	for i := range nodes {
		if w, ok := undefined[i]; ok {
			blame(i, w)
			e.Undefined = true
			return e
		}
	}
	for k, d := range deps[first] {
		if pending[d] > 0 {
			blame(first, waitFor[first][k])
			return e
		}
	}
	return e
}

// Sort orders the nodes of g in place as Order does, then those of its
// subgraphs at any depth, each reading the values defined by the graphs
// around it. On error g is left as it was, unless the error is in a
// subgraph: the graphs above it are sorted then.
func Sort(g *potv1.Graph, outer func(name string) bool) error {
	order, err := Order(g, outer)
	if err != nil {
		return err
	}
	g.Nodes = order
	defined := map[string]bool{}
	for _, vi := range g.GetInputs() {
		defined[vi.GetName()] = true
	}
	for _, t := range g.GetInitializers() {
		defined[t.GetName()] = true
	}
	for _, n := range order {
		for _, o := range n.GetOutputs() {
			defined[o] = true
		}
	}
	inner := func(name string) bool {
		return defined[name] || outer != nil && outer(name)
	}
	for _, n := range order {
		for _, sg := range Subgraphs(n) {
			if err := Sort(sg, inner); err != nil {
				return fmt.Errorf("node %q (%s): %w", n.GetName(), n.GetOpType(), err)
			}
		}
	}
	return nil
}
