package graph

import (
	"fmt"

	"github.com/potgo/pot/proto/potv1"
)

// Namer gives the tensors and nodes a rewrite adds names unused in a
// model: base itself when free, else base_1, base_2, ... Names are unique
// across a model's graphs, so one Namer serves the main graph and its
// subgraphs.
type Namer struct {
	used map[string]bool
}

// NewNamer returns a Namer that avoids every name g uses, in g and its
// subgraphs at any depth: the names of nodes and of their outputs, and
// those of the graphs' inputs, outputs, value infos and initializers (a
// value info may describe a value no node writes any more: a new value
// of that name would take its type and shape).
func NewNamer(g *potv1.Graph) *Namer {
	nm := &Namer{used: map[string]bool{}}
	for _, sg := range Graphs(g) {
		for _, vis := range [][]*potv1.ValueInfo{sg.GetInputs(), sg.GetOutputs(), sg.GetValueInfo()} {
			for _, vi := range vis {
				nm.used[vi.GetName()] = true
			}
		}
		for _, t := range sg.GetInitializers() {
			nm.used[t.GetName()] = true
		}
		for _, n := range sg.GetNodes() {
			nm.used[n.GetName()] = true
			for _, o := range n.GetOutputs() {
				nm.used[o] = true
			}
		}
	}
	return nm
}

// Use marks a name as taken (one the caller gave without Name, or that
// NewNamer does not see).
func (nm *Namer) Use(name string) { nm.used[name] = true }

// Name returns base, or base with the first numeric suffix ("_1", "_2",
// ...) that makes it unused, and marks it taken.
func (nm *Namer) Name(base string) string {
	name := base
	for i := 1; nm.used[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	nm.used[name] = true
	return name
}

// RemoveUnused removes from g (not from its subgraphs) the nodes none of
// whose outputs is read or kept, repeatedly, so that chains of them go,
// then the initializers nothing reads that are not inputs of g. A value
// is read when a node of g names it among its inputs or one of its
// subgraphs reads it from g; it is kept when it is an output of g or keep
// (which may be nil) reports it. What stays keeps its order.
func RemoveUnused(g *potv1.Graph, keep func(name string) bool) {
	for {
		read := readNames(g)
		live := func(name string) bool { return name != "" && (read[name] || keep != nil && keep(name)) }
		kept := g.Nodes[:0]
		for _, n := range g.GetNodes() {
			for _, o := range n.GetOutputs() {
				if live(o) {
					kept = append(kept, n)
					break
				}
			}
		}
		removed := len(kept) < len(g.Nodes)
		g.Nodes = kept
		if !removed {
			break
		}
	}
	removeUnusedInitializers(g, keep)
}

// RemoveUnusedInitializers removes from g and from each of its subgraphs
// the initializers nothing reads (see RemoveUnused) that are not inputs
// of their graph. What stays keeps its order.
func RemoveUnusedInitializers(g *potv1.Graph) {
	for _, sg := range Graphs(g) {
		removeUnusedInitializers(sg, nil)
	}
}

// RemoveUnusedConstants removes, in g and its subgraphs, the Constant
// nodes whose output no node reads (directly or from a subgraph) and no
// graph outputs: the float weights a QDQ export replaced, where the model
// held them in Constant nodes.
func RemoveUnusedConstants(g *potv1.Graph) {
	for _, sg := range Graphs(g) {
		read := readNames(sg)
		kept := sg.Nodes[:0]
		for _, n := range sg.GetNodes() {
			if n.GetOpType() == "Constant" && IsONNX(n) && len(n.GetOutputs()) == 1 && !read[n.GetOutputs()[0]] {
				continue
			}
			kept = append(kept, n)
		}
		sg.Nodes = kept
	}
}

func removeUnusedInitializers(g *potv1.Graph, keep func(name string) bool) {
	read := readNames(g)
	for _, vi := range g.GetInputs() {
		read[vi.GetName()] = true
	}
	kept := g.Initializers[:0]
	for _, t := range g.GetInitializers() {
		if read[t.GetName()] || keep != nil && keep(t.GetName()) {
			kept = append(kept, t)
		}
	}
	g.Initializers = kept
}

// readNames returns the names the nodes of g read, explicitly or through
// their subgraphs, and g's outputs.
func readNames(g *potv1.Graph) map[string]bool {
	read := map[string]bool{}
	for _, n := range g.GetNodes() {
		for _, in := range n.GetInputs() {
			read[in] = true
		}
		for _, name := range ImplicitInputs(n) {
			read[name] = true
		}
	}
	for _, o := range g.GetOutputs() {
		read[o.GetName()] = true
	}
	return read
}
