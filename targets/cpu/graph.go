package cpu

import (
	"fmt"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// index is a mutable view of a graph being lowered: the main graph, or
// a subgraph, whose constants may be those of enclosing graphs (outer).
type index struct {
	g         *potv1.Graph
	root      *potv1.Graph // the main graph, which imports the opsets
	outer     *index       // the enclosing graph's, nil for the main graph
	inits     map[string]*potv1.Tensor
	producer  map[string]*potv1.Node
	consumers map[string][]*potv1.Node
	outputs   map[string]bool
	opsets    map[string]int64
	consts    map[string]*tensor.Tensor // evaluated constants (memo)
	names     map[string]bool           // every tensor and node name in use, in every scope
}

func newIndex(g *potv1.Graph) *index {
	x := &index{g: g, root: g, inits: map[string]*potv1.Tensor{}, outputs: map[string]bool{}, opsets: map[string]int64{},
		consts: map[string]*tensor.Tensor{}, names: map[string]bool{}}
	for _, o := range g.GetOpsets() {
		d := o.GetDomain()
		if d == "ai.onnx" {
			d = ""
		}
		x.opsets[d] = o.GetVersion()
	}
	// New names must be unique across every scope.
	graph.Walk(g, func(n *potv1.Node, _ *potv1.Graph, _ *potv1.Node) {
		x.names[n.GetName()] = true
		for _, o := range n.GetOutputs() {
			x.names[o] = true
		}
		for _, sg := range graph.Subgraphs(n) {
			for _, vi := range sg.GetInputs() {
				x.names[vi.GetName()] = true
			}
			for _, t := range sg.GetInitializers() {
				x.names[t.GetName()] = true
			}
		}
	})
	x.init()
	return x
}

// child returns the index of a subgraph of the graph x indexes.
func (x *index) child(sg *potv1.Graph) *index {
	c := &index{g: sg, root: x.root, outer: x, inits: map[string]*potv1.Tensor{}, outputs: map[string]bool{}, opsets: x.opsets,
		consts: map[string]*tensor.Tensor{}, names: x.names}
	c.init()
	return c
}

func (x *index) init() {
	for _, t := range x.g.GetInitializers() {
		x.inits[t.GetName()] = t
		x.names[t.GetName()] = true
	}
	for _, o := range x.g.GetOutputs() {
		x.outputs[o.GetName()] = true
	}
	for _, vi := range x.g.GetInputs() {
		x.names[vi.GetName()] = true
	}
	x.reindex()
}

// reindex rebuilds the producer and consumer maps from the node list.
func (x *index) reindex() {
	x.producer = map[string]*potv1.Node{}
	x.consumers = map[string][]*potv1.Node{}
	for _, n := range x.g.Nodes {
		x.names[n.GetName()] = true
		for _, o := range n.GetOutputs() {
			if o != "" {
				x.producer[o] = n
				x.names[o] = true
			}
		}
		for _, in := range n.GetInputs() {
			if in != "" {
				x.consumers[in] = append(x.consumers[in], n)
			}
		}
	}
}

// unique returns base, or base with a numeric suffix, unused in the graph.
func (x *index) unique(base string) string {
	name := base
	for i := 1; x.names[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	x.names[name] = true
	return name
}

// constant evaluates a tensor that does not depend on graph inputs: an
// initializer, or the output of nodes whose inputs are all constant. It
// returns nil for anything else.
func (x *index) constant(name string) *tensor.Tensor {
	if name == "" {
		return nil
	}
	if t, ok := x.consts[name]; ok {
		return t
	}
	x.consts[name] = nil // cycles and failures are not constant
	if p, ok := x.inits[name]; ok {
		// Read-only, so shared with the graph (weights are held once).
		t, err := rt.FromProtoShared(p)
		if err != nil {
			return nil
		}
		x.consts[name] = t
		return t
	}
	n := x.producer[name]
	if n == nil {
		if x.outer != nil && !x.local(name) {
			// A value of an enclosing graph.
			t := x.outer.constant(name)
			x.consts[name] = t
			return t
		}
		return nil
	}
	in := make([]*tensor.Tensor, len(n.GetInputs()))
	for i, s := range n.GetInputs() {
		if s == "" {
			continue
		}
		if in[i] = x.constant(s); in[i] == nil {
			return nil
		}
	}
	outs, err := x.eval(n, in)
	if err != nil {
		return nil
	}
	for i, o := range n.GetOutputs() {
		if o != "" {
			x.consts[o] = outs[i]
		}
	}
	return x.consts[name]
}

// local reports whether the graph defines a value as an input (a loop
// body's), initializer or node output.
func (x *index) local(name string) bool {
	if _, ok := x.inits[name]; ok {
		return true
	}
	if _, ok := x.producer[name]; ok {
		return true
	}
	for _, vi := range x.g.GetInputs() {
		if vi.GetName() == name {
			return true
		}
	}
	return false
}

// eval runs one node on constant inputs.
func (x *index) eval(n *potv1.Node, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	domain := n.GetDomain()
	if domain == "ai.onnx" {
		domain = ""
	}
	opset, ok := x.opsets[domain]
	if !ok && domain == ops.DomainPot {
		opset, ok = 1, true
	}
	if !ok {
		return nil, fmt.Errorf("domain %q not imported", domain)
	}
	f, ok := rt.Lookup(domain, n.GetOpType(), opset)
	if !ok {
		return nil, fmt.Errorf("no operator %s", n.GetOpType())
	}
	k, err := f(ops.NewNode(n, opset, in))
	if err != nil {
		return nil, err
	}
	out := make([]*tensor.Tensor, len(n.GetOutputs()))
	for i := range out {
		out[i] = &tensor.Tensor{}
	}
	ctx := ops.NewContext(1)
	defer ctx.Close()
	if err := k.Run(ctx, in, out); err != nil {
		return nil, err
	}
	return out, nil
}

// floats returns a constant as float32 values.
func (x *index) floats(name string) ([]float32, []int, bool) {
	t := x.constant(name)
	if t == nil {
		return nil, nil, false
	}
	switch d := t.Data.(type) {
	case []float32:
		return d, t.Shape, true
	}
	v, err := t.Float64s()
	if err != nil {
		return nil, nil, false
	}
	out := make([]float32, len(v))
	for i, f := range v {
		out[i] = float32(f)
	}
	return out, t.Shape, true
}

// addInit adds an initializer.
func (x *index) addInit(base string, t *tensor.Tensor) string {
	name := x.unique(base)
	p := rt.ToProtoShared(name, t) // t is the lowering's own and stays unchanged
	x.g.Initializers = append(x.g.Initializers, p)
	x.inits[name] = p
	return name
}

// opsetOf is the opset the graph imports for a node's domain.
func (x *index) opsetOf(n *potv1.Node) int64 {
	d := n.GetDomain()
	if d == "ai.onnx" {
		d = ""
	}
	return x.opsets[d]
}

// removeDead drops nodes none of whose outputs is read or is a graph
// output, repeatedly, then the initializers nothing reads.
func (x *index) removeDead() {
	for {
		used := map[string]bool{}
		for o := range x.outputs {
			used[o] = true
		}
		for _, n := range x.g.Nodes {
			for _, in := range n.GetInputs() {
				used[in] = true
			}
		}
		kept := x.g.Nodes[:0]
		removed := false
		for _, n := range x.g.Nodes {
			live := false
			for _, o := range n.GetOutputs() {
				live = live || o != "" && used[o]
			}
			if live {
				kept = append(kept, n)
			} else {
				removed = true
			}
		}
		x.g.Nodes = kept
		if !removed {
			break
		}
	}
	used := map[string]bool{}
	for _, n := range x.g.Nodes {
		for _, in := range n.GetInputs() {
			used[in] = true
		}
	}
	for _, vi := range x.g.GetInputs() {
		used[vi.GetName()] = true
	}
	for o := range x.outputs {
		used[o] = true
	}
	inits := x.g.Initializers[:0]
	for _, t := range x.g.Initializers {
		if used[t.GetName()] {
			inits = append(inits, t)
		}
	}
	x.g.Initializers = inits
	x.reindex()
}
