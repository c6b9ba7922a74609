package graph

import (
	"fmt"
	"strings"

	"github.com/potgo/pot/proto/potv1"
)

// MaxNesting is how deep pot reads subgraphs: the graph attribute of a
// node of the main graph is at depth 1, a graph attribute of one of its
// nodes at depth 2, and so on. Real models nest a few levels (a Loop
// inside an If); the limit keeps a hostile model from making the
// readers, which recurse per level, work without bound.
const MaxNesting = 64

// MaxArity is the most inputs, and the most outputs, pot reads of one
// node. ONNX sets no limit; real models stay far below (a Concat of a
// few hundred tensors), and a node of a million outputs only makes every
// reader build tables of a million names before it fails.
const MaxArity = 1 << 16

// CheckLimits returns an error naming the first node, in g or its
// subgraphs, with more than MaxArity inputs or outputs, or whose graph
// attribute is nested deeper than MaxNesting.
func CheckLimits(g *potv1.Graph) error {
	return checkLimits(g, 0)
}

func checkLimits(g *potv1.Graph, depth int) error {
	for _, n := range g.GetNodes() {
		if err := ArityError(n.GetName(), n.GetOpType(), len(n.GetInputs()), len(n.GetOutputs())); err != nil {
			return err
		}
		for _, a := range n.GetAttributes() {
			subs := a.GetGraphs()
			if a.GetG() != nil {
				subs = append([]*potv1.Graph{a.GetG()}, subs...)
			}
			if len(subs) == 0 {
				continue
			}
			if depth+1 > MaxNesting {
				return NestingError(n.GetName(), n.GetOpType(), a.GetName())
			}
			for _, sg := range subs {
				if err := checkLimits(sg, depth+1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// NestingError is the error of a node whose graph attribute is nested
// deeper than MaxNesting.
func NestingError(node, opType, attr string) error {
	return fmt.Errorf("node %q (%s): attribute %q holds a graph nested more than %d levels deep (pot reads at most %d)", node, opType, attr, MaxNesting, MaxNesting)
}

// ArityError is the error of a node with more than MaxArity inputs or
// outputs, or nil.
func ArityError(node, opType string, inputs, outputs int) error {
	for _, c := range []struct {
		what string
		n    int
	}{{"inputs", inputs}, {"outputs", outputs}} {
		if c.n > MaxArity {
			return fmt.Errorf("node %q (%s) has %d %s (pot reads at most %d per node)", node, opType, c.n, c.what, MaxArity)
		}
	}
	return nil
}

// CheckAcyclic returns an error when the nodes of g, or of one of its
// subgraphs, cannot be put in an order in which every node runs after
// the nodes whose outputs it reads (directly or, for a control-flow
// node, through its subgraphs): a node that reads its own output, or
// nodes that read each other's. The error names the nodes of the cycle.
// Names nothing defines are not its concern.
func CheckAcyclic(g *potv1.Graph) error {
	for _, sg := range Graphs(g) {
		if err := checkAcyclic(sg); err != nil {
			return err
		}
	}
	return nil
}

func checkAcyclic(g *potv1.Graph) error {
	nodes := g.GetNodes()
	producer := make(map[string]int, len(nodes))
	for i, n := range nodes {
		for _, o := range n.GetOutputs() {
			if o != "" {
				producer[o] = i
			}
		}
	}
	// deps[i] lists, per node, the producers it reads from, with the
	// tensor it reads.
	type dep struct {
		node   int
		tensor string
	}
	deps := make([][]dep, len(nodes))
	readers := make([][]int, len(nodes))
	pending := make([]int, len(nodes))
	for i, n := range nodes {
		seen := map[int]bool{}
		reads := n.GetInputs()
		if len(Subgraphs(n)) > 0 {
			reads = append(append([]string(nil), reads...), ImplicitInputs(n)...)
		}
		for _, in := range reads {
			p, ok := producer[in]
			if in == "" || !ok {
				continue
			}
			if p == i {
				return fmt.Errorf("node %q (%s) reads its own output %q", n.GetName(), n.GetOpType(), in)
			}
			if seen[p] {
				continue
			}
			seen[p] = true
			deps[i] = append(deps[i], dep{p, in})
			readers[p] = append(readers[p], i)
			pending[i]++
		}
	}
	// Kahn's algorithm: what is left has a cycle.
	var ready []int
	for i := range nodes {
		if pending[i] == 0 {
			ready = append(ready, i)
		}
	}
	done := 0
	for len(ready) > 0 {
		i := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		done++
		for _, r := range readers[i] {
			if pending[r]--; pending[r] == 0 {
				ready = append(ready, r)
			}
		}
	}
	if done == len(nodes) {
		return nil
	}
	// Walk back from a node left over along producers left over until a
	// node repeats: that is a cycle.
	start := -1
	for i := range nodes {
		if pending[i] > 0 {
			start = i
			break
		}
	}
	at := map[int]int{} // node -> position in path
	var path []dep
	cur := dep{start, ""}
	for {
		if pos, ok := at[cur.node]; ok {
			path = path[pos:]
			break
		}
		at[cur.node] = len(path)
		path = append(path, cur)
		for _, d := range deps[cur.node] {
			if pending[d.node] > 0 {
				cur = d
				break
			}
		}
	}
	// path[k] reads path[k+1].tensor from path[k+1].node; the last reads
	// from path[0] what closed the cycle (cur.tensor).
	var b strings.Builder
	name := func(i int) string { return fmt.Sprintf("%q (%s)", nodes[i].GetName(), nodes[i].GetOpType()) }
	fmt.Fprintf(&b, "nodes form a cycle: %s", name(path[0].node))
	const most = 8
	for k := 1; k < len(path); k++ {
		if k == most {
			fmt.Fprintf(&b, " … (%d more)", len(path)-most)
			break
		}
		fmt.Fprintf(&b, " reads %q of %s, which", path[k].tensor, name(path[k].node))
	}
	fmt.Fprintf(&b, " reads %q of %s", cur.tensor, name(path[0].node))
	return fmt.Errorf("%s", b.String())
}
