package graph

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/potgo/pot/proto/potv1"
)

// Index answers structural questions about a graph. It is built once and
// does not follow later changes to the graph.
type Index struct {
	G         *potv1.Graph
	nodes     map[string]*potv1.Node
	producer  map[string]*potv1.Node
	consumers map[string][]Port
	inits     map[string]*potv1.Tensor
	inputs    map[string]bool
	outputs   map[string]bool
	constOut  map[string]*potv1.Tensor // outputs of Constant nodes
}

// Port is one input of a node.
type Port struct {
	Node  *potv1.Node
	Input int
}

// NewIndex indexes g.
func NewIndex(g *potv1.Graph) *Index {
	x := &Index{G: g, nodes: map[string]*potv1.Node{}, producer: map[string]*potv1.Node{}, consumers: map[string][]Port{},
		inits: map[string]*potv1.Tensor{}, inputs: map[string]bool{}, outputs: map[string]bool{}, constOut: map[string]*potv1.Tensor{}}
	for _, t := range g.GetInitializers() {
		x.inits[t.GetName()] = t
	}
	for _, vi := range g.GetInputs() {
		if _, isInit := x.inits[vi.GetName()]; !isInit {
			x.inputs[vi.GetName()] = true
		}
	}
	for _, vi := range g.GetOutputs() {
		x.outputs[vi.GetName()] = true
	}
	for _, n := range g.GetNodes() {
		x.nodes[n.GetName()] = n
		for _, o := range n.GetOutputs() {
			if o != "" {
				x.producer[o] = n
			}
		}
		for i, in := range n.GetInputs() {
			if in != "" {
				x.consumers[in] = append(x.consumers[in], Port{n, i})
			}
		}
		if n.GetOpType() == "Constant" && n.GetDomain() == "" && len(n.GetOutputs()) == 1 {
			if a := Attr(n, "value"); a != nil && a.GetT() != nil {
				x.constOut[n.GetOutputs()[0]] = a.GetT()
			}
		}
	}
	return x
}

// Node returns a node by name.
func (x *Index) Node(name string) *potv1.Node { return x.nodes[name] }

// Producer returns the node writing a tensor, or nil for graph inputs
// and initializers.
func (x *Index) Producer(tensor string) *potv1.Node { return x.producer[tensor] }

// Consumers returns the node inputs reading a tensor.
func (x *Index) Consumers(tensor string) []Port { return x.consumers[tensor] }

// Constant returns the value of a tensor that is an initializer or the
// output of a Constant node, or nil.
func (x *Index) Constant(tensor string) *potv1.Tensor {
	if t, ok := x.inits[tensor]; ok {
		return t
	}
	return x.constOut[tensor]
}

// Initializer returns an initializer by name, or nil.
func (x *Index) Initializer(name string) *potv1.Tensor { return x.inits[name] }

// IsGraphInput reports whether a tensor is a graph input (not an
// initializer).
func (x *Index) IsGraphInput(tensor string) bool { return x.inputs[tensor] }

// IsGraphOutput reports whether a tensor is a graph output.
func (x *Index) IsGraphOutput(tensor string) bool { return x.outputs[tensor] }

// Attr returns a node attribute, or nil.
func Attr(n *potv1.Node, name string) *potv1.Attribute {
	for _, a := range n.GetAttributes() {
		if a.GetName() == name {
			return a
		}
	}
	return nil
}

// AttrInt returns an integer attribute or def.
func AttrInt(n *potv1.Node, name string, def int64) int64 {
	if a := Attr(n, name); a != nil {
		return a.GetI()
	}
	return def
}

// AttrInts returns an integer-list attribute or def.
func AttrInts(n *potv1.Node, name string, def []int64) []int64 {
	if a := Attr(n, name); a != nil {
		return a.GetInts()
	}
	return def
}

// AttrString returns a string attribute or def.
func AttrString(n *potv1.Node, name, def string) string {
	if a := Attr(n, name); a != nil {
		return string(a.GetS())
	}
	return def
}

// Float32s decodes a float32 tensor's data.
func Float32s(t *potv1.Tensor) ([]float32, error) {
	if t.GetDtype() != potv1.DataType_DATA_TYPE_FLOAT {
		return nil, fmt.Errorf("tensor %q is %v, not float32", t.GetName(), t.GetDtype())
	}
	raw := t.GetData()
	if len(raw)%4 != 0 || int64(len(raw)/4) != NumElements(t.GetDims()) {
		return nil, fmt.Errorf("tensor %q: %d data bytes for dims %v", t.GetName(), len(raw), t.GetDims())
	}
	v := make([]float32, len(raw)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return v, nil
}

// FloatTensor builds a float32 tensor.
func FloatTensor(name string, dims []int64, v []float32) *potv1.Tensor {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	return &potv1.Tensor{Name: name, Dtype: potv1.DataType_DATA_TYPE_FLOAT, Dims: append([]int64(nil), dims...), Data: raw}
}

// NumElements is the product of dims.
func NumElements(dims []int64) int64 {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	return n
}

// Opset returns the version of the default ONNX domain the graph
// imports (0 when absent).
func Opset(g *potv1.Graph) int64 {
	for _, o := range g.GetOpsets() {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			return o.GetVersion()
		}
	}
	return 0
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

// Graphs returns g and its subgraphs at any depth, g first.
func Graphs(g *potv1.Graph) []*potv1.Graph {
	out := []*potv1.Graph{g}
	Walk(g, func(n *potv1.Node, _ *potv1.Graph, _ *potv1.Node) {
		out = append(out, Subgraphs(n)...)
	})
	return out
}
