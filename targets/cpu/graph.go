package cpu

import (
	"fmt"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// index is a view of a graph being lowered: the main graph, or a
// subgraph, whose constants may be those of enclosing graphs (outer).
// ix indexes the graph as it was before its lowering, which changes it
// only when finishing.
type index struct {
	g       *potv1.Graph
	root    *potv1.Graph // the main graph, which imports the opsets
	outer   *index       // the enclosing graph's, nil for the main graph
	ix      *graph.Index // of g alone
	outputs map[string]bool
	opsets  map[string]int64
	consts  map[string]*tensor.Tensor // evaluated constants (memo)
	names   *graph.Namer              // new names, unique in every scope
}

func newIndex(g *potv1.Graph) *index {
	x := &index{g: g, root: g, opsets: map[string]int64{}, names: graph.NewNamer(g)}
	for _, o := range g.GetOpsets() {
		x.opsets[graph.CanonicalDomain(o.GetDomain())] = o.GetVersion()
	}
	x.init()
	return x
}

// child returns the index of a subgraph of the graph x indexes.
func (x *index) child(sg *potv1.Graph) *index {
	c := &index{g: sg, root: x.root, outer: x, opsets: x.opsets, names: x.names}
	c.init()
	return c
}

func (x *index) init() {
	x.ix = graph.NewScopeIndex(x.g)
	x.outputs = map[string]bool{}
	x.consts = map[string]*tensor.Tensor{}
	for _, o := range x.g.GetOutputs() {
		x.outputs[o.GetName()] = true
	}
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
	if p := x.ix.Initializer(name); p != nil {
		// Read-only, so shared with the graph (weights are held once).
		t, err := rt.FromProtoShared(p)
		if err != nil {
			return nil
		}
		x.consts[name] = t
		return t
	}
	n := x.ix.Producer(name)
	if n == nil {
		if x.outer != nil && x.ix.DefiningGraph(name) == nil {
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

// eval runs one node on constant inputs.
func (x *index) eval(n *potv1.Node, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	domain := graph.CanonicalDomain(n.GetDomain())
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
	name := x.names.Name(base)
	// t is the lowering's own and stays unchanged.
	x.g.Initializers = append(x.g.Initializers, rt.ToProtoShared(name, t))
	return name
}

// opsetOf is the opset the graph imports for a node's domain.
func (x *index) opsetOf(n *potv1.Node) int64 {
	return x.opsets[graph.CanonicalDomain(n.GetDomain())]
}
