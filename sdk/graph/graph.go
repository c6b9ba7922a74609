package graph

import (
	"fmt"
	"sort"
	"strings"

	"github.com/potgo/pot/proto/potv1"
)

// Index answers structural questions about a graph and its subgraphs
// (the graph attributes of control-flow nodes such as If, Loop and Scan,
// at any depth). It is built once and does not follow later changes to
// the graph.
//
// Node and tensor names are unique across all scopes (sdk/onnx's ToGraph
// guarantees it), so every lookup is by name alone. A node of a subgraph
// that reads a value of an enclosing graph is one of that value's
// consumers. IsGraphInput and IsGraphOutput are about the main graph;
// Scope tells which graph holds a node.
type Index struct {
	G         *potv1.Graph
	nodes     map[string]*potv1.Node
	all       []*potv1.Node
	scopes    map[string]Scope
	defined   map[string]*potv1.Graph // the graph defining each tensor
	producer  map[string]*potv1.Node
	consumers map[string][]Port
	inits     map[string]*potv1.Tensor
	inputs    map[string]bool
	outputs   map[string]bool
	constOut  map[string]*potv1.Tensor  // outputs of Constant nodes
	declared  map[string]potv1.DataType // element types of value infos, any scope
	types     map[string]potv1.DataType // ValueType's memo
	oneScope  bool                      // NewScopeIndex's: subgraphs are not indexed
}

// Port is one input of a node.
type Port struct {
	Node  *potv1.Node
	Input int
}

// Scope is where a node sits: the graph that holds it and, for a node of
// a subgraph, the control-flow node whose attribute Attr that graph is.
type Scope struct {
	Graph  *potv1.Graph
	Parent *potv1.Node // nil for the main graph's nodes
	Attr   string
	// Depth counts the control-flow nodes around the node: 0 in the
	// main graph.
	Depth int
}

// NewIndex indexes g and its subgraphs.
func NewIndex(g *potv1.Graph) *Index { return newIndex(g, false) }

// NewScopeIndex indexes g alone, for a rewrite that takes one graph at a
// time: the nodes of its subgraphs are not indexed, so they are no
// consumers of g's values, and a value of an enclosing graph has no
// producer. The values g's subgraphs read from it are
// ImplicitInputs of its nodes.
func NewScopeIndex(g *potv1.Graph) *Index { return newIndex(g, true) }

func newIndex(g *potv1.Graph, oneScope bool) *Index {
	x := &Index{oneScope: oneScope, G: g, nodes: map[string]*potv1.Node{}, scopes: map[string]Scope{}, defined: map[string]*potv1.Graph{},
		producer: map[string]*potv1.Node{}, consumers: map[string][]Port{},
		inits: map[string]*potv1.Tensor{}, inputs: map[string]bool{}, outputs: map[string]bool{}, constOut: map[string]*potv1.Tensor{},
		declared: map[string]potv1.DataType{}, types: map[string]potv1.DataType{}}
	for _, vi := range g.GetInputs() {
		if _, isInit := initNamed(g, vi.GetName()); !isInit {
			x.inputs[vi.GetName()] = true
		}
	}
	for _, vi := range g.GetOutputs() {
		x.outputs[vi.GetName()] = true
	}
	x.add(g, Scope{Graph: g})
	return x
}

func initNamed(g *potv1.Graph, name string) (*potv1.Tensor, bool) {
	for _, t := range g.GetInitializers() {
		if t.GetName() == name {
			return t, true
		}
	}
	return nil, false
}

// add indexes the nodes of one graph, then those of its subgraphs.
func (x *Index) add(g *potv1.Graph, sc Scope) {
	for _, t := range g.GetInitializers() {
		x.inits[t.GetName()] = t
		x.defined[t.GetName()] = g
	}
	for _, vi := range g.GetInputs() {
		x.defined[vi.GetName()] = g
	}
	for _, vis := range [][]*potv1.ValueInfo{g.GetInputs(), g.GetValueInfo(), g.GetOutputs()} {
		for _, vi := range vis {
			if vi.GetDtype() != potv1.DataType_DATA_TYPE_UNDEFINED {
				x.declared[vi.GetName()] = vi.GetDtype()
			}
		}
	}
	for _, n := range g.GetNodes() {
		x.nodes[n.GetName()] = n
		x.all = append(x.all, n)
		x.scopes[n.GetName()] = sc
		for _, o := range n.GetOutputs() {
			if o != "" {
				x.producer[o] = n
				x.defined[o] = g
			}
		}
		for i, in := range n.GetInputs() {
			if in != "" {
				x.consumers[in] = append(x.consumers[in], Port{n, i})
			}
		}
		if t := ConstantValue(n); t != nil {
			x.constOut[n.GetOutputs()[0]] = t
		}
		for _, a := range n.GetAttributes() {
			for _, sg := range append([]*potv1.Graph{a.GetG()}, a.GetGraphs()...) {
				if sg != nil && !x.oneScope {
					x.add(sg, Scope{Graph: sg, Parent: n, Attr: a.GetName(), Depth: sc.Depth + 1})
				}
			}
		}
	}
}

// ConstantValue returns the tensor a Constant node of the default domain
// gives through its one output as its value attribute, or nil for any
// other node (or a Constant given by value_float and the like).
func ConstantValue(n *potv1.Node) *potv1.Tensor {
	if n.GetOpType() != "Constant" || n.GetDomain() != "" || len(n.GetOutputs()) != 1 {
		return nil
	}
	return Attr(n, "value").GetT()
}

// Node returns a node by name, in any scope.
func (x *Index) Node(name string) *potv1.Node { return x.nodes[name] }

// Nodes returns every node: the main graph's in order, each followed by
// the nodes of its subgraphs (depth first).
func (x *Index) Nodes() []*potv1.Node { return x.all }

// Scope returns where a node sits (the zero Scope for an unknown name).
func (x *Index) Scope(node string) Scope { return x.scopes[node] }

// InSubgraph reports whether a node sits in a subgraph.
func (x *Index) InSubgraph(node string) bool { return x.scopes[node].Parent != nil }

// DefiningGraph returns the graph that defines a tensor (as an input,
// initializer or node output), or nil.
func (x *Index) DefiningGraph(tensor string) *potv1.Graph { return x.defined[tensor] }

// Producer returns the node writing a tensor, or nil for graph inputs
// and initializers.
func (x *Index) Producer(tensor string) *potv1.Node { return x.producer[tensor] }

// Consumers returns the node inputs reading a tensor, in every scope.
func (x *Index) Consumers(tensor string) []Port { return x.consumers[tensor] }

// Constant returns the value of a tensor that is an initializer or the
// output of a Constant node, of any scope, or nil.
func (x *Index) Constant(tensor string) *potv1.Tensor {
	if t, ok := x.inits[tensor]; ok {
		return t
	}
	return x.constOut[tensor]
}

// ValueType returns the element type of a tensor of any scope: its
// declared type (inputs, outputs and value_info of any scope), an
// initializer's or Constant's, or the type its producer's rule gives (see
// outputType: Shape → int64, Cast → its "to", comparisons → bool, most
// operators → the type of their first typed input). It is UNDEFINED when
// nothing tells.
func (x *Index) ValueType(tensor string) potv1.DataType {
	if dt, ok := x.types[tensor]; ok {
		return dt
	}
	x.types[tensor] = potv1.DataType_DATA_TYPE_UNDEFINED // cycles
	dt := x.valueType(tensor)
	x.types[tensor] = dt
	return dt
}

func (x *Index) valueType(tensor string) potv1.DataType {
	if dt, ok := x.declared[tensor]; ok {
		return dt
	}
	if c := x.Constant(tensor); c != nil {
		return c.GetDtype()
	}
	p := x.producer[tensor]
	if p == nil {
		return potv1.DataType_DATA_TYPE_UNDEFINED
	}
	for i, o := range p.GetOutputs() {
		if o == tensor {
			return outputType(p, i, x.ValueType)
		}
	}
	return potv1.DataType_DATA_TYPE_UNDEFINED
}

// Initializer returns an initializer of any scope by name, or nil.
func (x *Index) Initializer(name string) *potv1.Tensor { return x.inits[name] }

// IsGraphInput reports whether a tensor is an input of the main graph
// (not an initializer).
func (x *Index) IsGraphInput(tensor string) bool { return x.inputs[tensor] }

// IsGraphOutput reports whether a tensor is an output of the main graph.
func (x *Index) IsGraphOutput(tensor string) bool { return x.outputs[tensor] }

// Opset returns the version of the default ONNX domain the graph
// imports (0 when absent).
func Opset(g *potv1.Graph) int64 {
	for _, o := range g.GetOpsets() {
		if IsONNXDomain(o.GetDomain()) {
			return o.GetVersion()
		}
	}
	return 0
}

// FormatDims formats a value's dimensions as in messages, symbolic ones
// by name: [N 1 28 28] ("?" for a dimension without size or name).
func FormatDims(dims []*potv1.Dim) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		switch v := d.GetValue().(type) {
		case *potv1.Dim_Size:
			parts[i] = fmt.Sprint(v.Size)
		case *potv1.Dim_Param:
			parts[i] = v.Param
		default:
			parts[i] = "?"
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// Subgraphs returns the graph attributes of a node (the branches of an
// If, the body of a Loop or Scan), in attribute order.
func Subgraphs(n *potv1.Node) []*potv1.Graph {
	var gs []*potv1.Graph
	for _, a := range n.GetAttributes() {
		if a.GetG() != nil {
			gs = append(gs, a.GetG())
		}
		gs = append(gs, a.GetGraphs()...)
	}
	return gs
}

// Walk calls fn for every node of g and of its subgraphs at any depth,
// each node before the nodes of its own subgraphs. scope is the graph
// that holds the node; parent is the node whose attribute scope is, nil
// for g's own nodes.
func Walk(g *potv1.Graph, fn func(n *potv1.Node, scope *potv1.Graph, parent *potv1.Node)) {
	walk(g, nil, fn)
}

func walk(g *potv1.Graph, parent *potv1.Node, fn func(n *potv1.Node, scope *potv1.Graph, parent *potv1.Node)) {
	for _, n := range g.GetNodes() {
		fn(n, g, parent)
		for _, sub := range Subgraphs(n) {
			walk(sub, n, fn)
		}
	}
}

// FreeVars lists, sorted, the tensors that the nodes and outputs of g
// (and of its subgraphs, at any depth) read without g defining them: the
// values g reads from enclosing graphs.
func FreeVars(g *potv1.Graph) []string {
	defined := map[string]bool{}
	for _, vi := range g.GetInputs() {
		defined[vi.GetName()] = true
	}
	for _, t := range g.GetInitializers() {
		defined[t.GetName()] = true
	}
	for _, n := range g.GetNodes() {
		for _, o := range n.GetOutputs() {
			defined[o] = true
		}
	}
	set := map[string]bool{}
	read := func(name string) {
		if name != "" && !defined[name] {
			set[name] = true
		}
	}
	for _, n := range g.GetNodes() {
		for _, in := range n.GetInputs() {
			read(in)
		}
		for _, sg := range Subgraphs(n) {
			for _, f := range FreeVars(sg) {
				read(f)
			}
		}
	}
	for _, o := range g.GetOutputs() {
		read(o.GetName())
	}
	out := make([]string, 0, len(set))
	for name := range set {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// ImplicitInputs lists, sorted, the tensors of n's graph that the
// subgraphs of n read: inputs of n that its input list does not name.
func ImplicitInputs(n *potv1.Node) []string {
	set := map[string]bool{}
	for _, sg := range Subgraphs(n) {
		for _, f := range FreeVars(sg) {
			set[f] = true
		}
	}
	out := make([]string, 0, len(set))
	for name := range set {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Graphs returns g and its subgraphs at any depth, g first.
func Graphs(g *potv1.Graph) []*potv1.Graph {
	out := []*potv1.Graph{g}
	Walk(g, func(n *potv1.Node, _ *potv1.Graph, _ *potv1.Node) {
		out = append(out, Subgraphs(n)...)
	})
	return out
}
