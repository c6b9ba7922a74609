package fp16

import (
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// ConvertSuffix names the half copy of a value kept in float32, read by
// the nodes that are not.
const ConvertSuffix = "/fp16"

// keepFloat32 applies the mixed-precision rules to g, a graph Lower owns
// (its nodes may be shallow copies sharing attributes with the caller's
// graph; those are never modified):
//
//   - the nodes to keep in float32 get KeepAttr, and Policy leaves their
//     outputs unrounded;
//   - every node that is not kept and reads a floating-point output of a
//     kept node, or a floating-point initializer a kept node reads, reads
//     it through an Identity whose output Policy rounds — the Convert to
//     f16 OpenVINO's AlignMixedFP32FP16Types inserts on such edges (graph
//     outputs stay float32, as OpenVINO's Results do);
//   - the subgraphs of If, Loop and Scan nodes are copied and marked on
//     their own; an outer value kept in float32 reaches them rounded, as
//     it reaches the If or Loop node that passes it in.
//
// It returns the names of the initializers, of g or of its subgraphs, to
// leave in float32 (ONNX names are unique across a model's graphs).
func keepFloat32(g *potv1.Graph, named map[string]bool) map[string]bool {
	k := &keeper{names: graph.NewNamer(g), inits: map[string]bool{}, named: named}
	k.scope(g, true)
	return k.inits
}

type keeper struct {
	names *graph.Namer // new names, unused in the whole model
	inits map[string]bool
	named map[string]bool // nodes the device keeps in float32 on request
}

// scope marks one graph, inserts its converts and recurses into its
// subgraphs. shared says g's nodes share attributes with a graph Lower
// must not modify (the top level after plan.Apply); subgraphs are then
// copied before they are changed.
func (k *keeper) scope(g *potv1.Graph, shared bool) {
	if shared {
		for _, n := range g.GetNodes() {
			if len(graph.Subgraphs(n)) > 0 {
				ownSubgraphs(n)
			}
		}
	}
	s := newScope(g)
	m := markKeepFP32(s)
	// Nodes kept on request, as they are: no propagation, and with the
	// floating-point initializers they read.
	for _, n := range s.nodes {
		if !k.named[n.GetName()] {
			continue
		}
		m.nodes[n] = true
		for _, in := range n.GetInputs() {
			if s.x.Initializer(in) != nil && s.real[in] {
				m.inits[in] = true
			}
		}
	}
	for n := range m.nodes {
		setKeep(n)
	}
	for name := range m.inits {
		if s.real[name] {
			k.inits[name] = true
		}
	}

	// The values kept in float32, in a deterministic order: initializers
	// first, then node outputs in file order.
	type kept struct {
		name     string
		producer *potv1.Node // nil for an initializer
	}
	var values []kept
	for _, t := range g.GetInitializers() {
		if k.inits[t.GetName()] {
			values = append(values, kept{t.GetName(), nil})
		}
	}
	for _, n := range g.GetNodes() {
		if !m.nodes[n] {
			continue
		}
		for _, o := range n.GetOutputs() {
			if o != "" && s.real[o] {
				values = append(values, kept{o, n})
			}
		}
	}
	implicit := map[string][]*potv1.Node{}
	for _, n := range g.GetNodes() {
		if m.nodes[n] {
			continue
		}
		for _, in := range graph.ImplicitInputs(n) {
			implicit[in] = append(implicit[in], n)
		}
	}
	after := map[*potv1.Node][]*potv1.Node{}
	var first []*potv1.Node
	for _, v := range values {
		var readers []*potv1.Node
		for _, p := range s.x.Consumers(v.name) {
			if r := p.Node; !m.nodes[r] && !slices.Contains(readers, r) {
				readers = append(readers, r)
			}
		}
		if len(readers) == 0 && len(implicit[v.name]) == 0 {
			continue
		}
		half := k.names.Name(v.name + ConvertSuffix)
		conv := &potv1.Node{Name: k.names.Name("fp16/convert/" + v.name), OpType: "Identity", Inputs: []string{v.name}, Outputs: []string{half}}
		if v.producer == nil {
			first = append(first, conv)
		} else {
			after[v.producer] = append(after[v.producer], conv)
		}
		for _, r := range readers {
			for i, in := range r.Inputs {
				if in == v.name {
					r.Inputs[i] = half
				}
			}
		}
		for _, r := range implicit[v.name] {
			for _, sg := range graph.Subgraphs(r) {
				renameFree(sg, v.name, half)
			}
		}
	}
	if len(first) > 0 || len(after) > 0 {
		nodes := append([]*potv1.Node(nil), first...)
		for _, n := range g.GetNodes() {
			nodes = append(nodes, n)
			nodes = append(nodes, after[n]...)
		}
		g.Nodes = nodes
	}
	for _, n := range g.GetNodes() {
		for _, sg := range graph.Subgraphs(n) {
			k.scope(sg, false)
		}
	}
}

// setKeep gives n KeepAttr, in a new attribute slice: n's may be shared.
func setKeep(n *potv1.Node) {
	if KeepsFloat32(n) {
		return
	}
	attrs := make([]*potv1.Attribute, 0, len(n.GetAttributes())+1)
	attrs = append(attrs, n.GetAttributes()...)
	n.Attributes = append(attrs, graph.IntAttr(KeepAttr, 1))
}

// ownSubgraphs gives n its own copies of its subgraph attributes.
func ownSubgraphs(n *potv1.Node) {
	attrs := make([]*potv1.Attribute, len(n.GetAttributes()))
	for i, a := range n.GetAttributes() {
		if a.GetG() != nil || len(a.GetGraphs()) > 0 {
			a = proto.Clone(a).(*potv1.Attribute)
		}
		attrs[i] = a
	}
	n.Attributes = attrs
}

// renameFree makes the nodes of g, and of the graphs nested in it, that
// read the outer value from read to instead. A graph that defines from
// itself is left alone. (A body output naming an outer value directly is
// left as it is: the node passing the value in reads it, not the body.)
func renameFree(g *potv1.Graph, from, to string) {
	for _, vi := range g.GetInputs() {
		if vi.GetName() == from {
			return
		}
	}
	for _, t := range g.GetInitializers() {
		if t.GetName() == from {
			return
		}
	}
	for _, n := range g.GetNodes() {
		for _, o := range n.GetOutputs() {
			if o == from {
				return
			}
		}
	}
	for _, n := range g.GetNodes() {
		for i, in := range n.GetInputs() {
			if in == from {
				n.Inputs[i] = to
			}
		}
		for _, sg := range graph.Subgraphs(n) {
			renameFree(sg, from, to)
		}
	}
}
