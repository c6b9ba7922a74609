package plan

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/onnx"
)

// FakeQuantizeDomain and FakeQuantizeOp name pot's simulation operator:
// inputs X, scale, zero_point, out_scale (scalars or 1-D per channel of
// attribute axis), attribute levels; y = (clamp(round(x/scale)+zp, 0,
// levels-1) - zp) * out_scale, round half to even.
const (
	FakeQuantizeDomain = "ai.pot"
	FakeQuantizeOp     = "FakeQuantize"
)

// PreQuantSuffix is appended to a tensor's name when an edge quantizer is
// placed on it: the producer then writes NAME + PreQuantSuffix and the
// quantizer writes NAME, so that every consumer reads the quantized value.
const PreQuantSuffix = "/pre_fq"

// Applied is a graph with a plan applied.
type Applied struct {
	Graph *potv1.Graph
	// Renamed maps an original tensor name to the name of the value its
	// producer writes now (the value before the quantizer).
	Renamed map[string]string
}

// Source returns the tensor holding the unquantized value of an original
// tensor name.
func (a *Applied) Source(name string) string {
	if r, ok := a.Renamed[name]; ok {
		return r
	}
	return name
}

// Apply returns a copy of g with the plan's tensor updates applied and
// its quantizers inserted as FakeQuantize nodes, each before the nodes
// reading it: the graphs are sorted topologically (graph.Sort). Quantizers whose
// consumers the plan sets to PRECISION_FLOAT are left out (see Reverted). g is not modified; unchanged
// initializers are shared with it.
//
// A tensor update replaces an initializer, or the value of a Constant
// node (exporters such as paddle2onnx give weights and biases as
// Constant nodes).
//
// Quantizers may sit in subgraphs (the branches and bodies of control-flow
// nodes): each FakeQuantize, with its parameters as initializers, goes
// into the graph that holds its location — the consumer's for a node
// input, the one defining the tensor for a tensor — where every reader of
// its output sees it. Tensor updates may replace initializers of any
// graph.
func Apply(g *potv1.Graph, p *potv1.QuantizationPlan) (*Applied, error) {
	out := shallowGraph(g)
	a := &Applied{Graph: out, Renamed: map[string]string{}}
	if p == nil {
		return a, nil
	}
	if err := applyUpdates(out, p.GetTensorUpdates()); err != nil {
		return nil, err
	}
	float := FloatNodes(p)
	x := graph.NewIndex(out)
	added := map[*potv1.Graph][]*potv1.Node{}
	insert := func(scope *potv1.Graph, fq *potv1.Node, inits []*potv1.Tensor) {
		added[scope] = append(added[scope], fq)
		scope.Initializers = append(scope.Initializers, inits...)
	}
	seen := map[string]bool{}
	quantized := map[string]bool{} // tensors with an edge quantizer
	for _, q := range p.GetQuantizers() {
		if seen[q.GetId()] {
			return nil, fmt.Errorf("plan: quantizer id %q used twice", q.GetId())
		}
		seen[q.GetId()] = true
		if Reverted(q, float) {
			continue
		}
		loc := q.GetLocation()
		tensor := loc.GetTensor()
		if loc.GetNode() != "" {
			n := x.Node(loc.GetNode())
			if n == nil {
				return nil, fmt.Errorf("plan: quantizer %q: no node %q", q.GetId(), loc.GetNode())
			}
			i := int(loc.GetInput())
			if i < 0 || i >= len(n.GetInputs()) || n.GetInputs()[i] == "" {
				return nil, fmt.Errorf("plan: quantizer %q: node %q has no input %d", q.GetId(), n.GetName(), i)
			}
			if tensor != "" && tensor != n.GetInputs()[i] {
				return nil, fmt.Errorf("plan: quantizer %q: input %d of node %q is %q, not %q", q.GetId(), i, n.GetName(), n.GetInputs()[i], tensor)
			}
			src := n.GetInputs()[i]
			dst := fmt.Sprintf("%s/fq/%s/%d", src, n.GetName(), i)
			fq, inits, err := fakeQuantize(q, src, dst)
			if err != nil {
				return nil, err
			}
			n.Inputs[i] = dst
			insert(x.Scope(n.GetName()).Graph, fq, inits)
			continue
		}
		if tensor == "" {
			return nil, fmt.Errorf("plan: quantizer %q has no location", q.GetId())
		}
		if quantized[tensor] {
			return nil, fmt.Errorf("plan: two quantizers on tensor %q", tensor)
		}
		quantized[tensor] = true
		scope := x.DefiningGraph(tensor)
		if scope == nil {
			return nil, fmt.Errorf("plan: quantizer %q: no tensor %q in the graph", q.GetId(), tensor)
		}
		if prod := x.Producer(tensor); prod != nil {
			pre := tensor + PreQuantSuffix
			for i, o := range prod.GetOutputs() {
				if o == tensor {
					prod.Outputs[i] = pre
				}
			}
			fq, inits, err := fakeQuantize(q, pre, tensor)
			if err != nil {
				return nil, err
			}
			a.Renamed[tensor] = pre
			insert(scope, fq, inits)
			continue
		}
		// An input or initializer (of any graph): no producer to rename,
		// point the consumers at the quantized copy.
		dst := tensor + "/fq"
		fq, inits, err := fakeQuantize(q, tensor, dst)
		if err != nil {
			return nil, err
		}
		for _, c := range x.Consumers(tensor) {
			c.Node.Inputs[c.Input] = dst
		}
		insert(scope, fq, inits)
	}
	any := false
	for _, sg := range graph.Graphs(out) {
		if fqs := added[sg]; len(fqs) > 0 {
			sg.Nodes = append(sg.Nodes, fqs...)
			any = true
		}
	}
	if any {
		hasDomain := false
		for _, o := range out.Opsets {
			hasDomain = hasDomain || o.GetDomain() == FakeQuantizeDomain
		}
		if !hasDomain {
			out.Opsets = append(out.Opsets, &potv1.OpsetImport{Domain: FakeQuantizeDomain, Version: 1})
		}
	}
	// The FakeQuantize nodes went last: move each before its readers.
	// Only the order of what nodes produce matters here; a name no
	// node produces counts as defined (Apply does not validate).
	produced := map[string]bool{}
	graph.Walk(out, func(n *potv1.Node, _ *potv1.Graph, _ *potv1.Node) {
		for _, o := range n.GetOutputs() {
			produced[o] = true
		}
	})
	if err := graph.Sort(out, func(name string) bool { return !produced[name] }); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	return a, nil
}

// Reverted reports whether a quantizer is left out because the operations
// it quantizes for (its consumers) all run in float. Without consumers, a
// node-input quantizer follows its node and an edge quantizer stays.
func Reverted(q *potv1.Quantizer, float map[string]bool) bool {
	if len(q.GetConsumers()) > 0 {
		for _, c := range q.GetConsumers() {
			if !float[c] {
				return false
			}
		}
		return true
	}
	return float[q.GetLocation().GetNode()]
}

// FloatNodes returns the nodes a plan runs in float.
func FloatNodes(p *potv1.QuantizationPlan) map[string]bool {
	float := map[string]bool{}
	for _, np := range p.GetPrecisions() {
		if np.GetPrecision() == potv1.Precision_PRECISION_FLOAT {
			float[np.GetNode()] = true
		}
	}
	return float
}

// shallowGraph copies g with fresh node copies and initializer list, so
// that Apply can rewire nodes without touching g; the subgraphs of its
// nodes (control flow) are copied the same way.
func shallowGraph(g *potv1.Graph) *potv1.Graph {
	out := &potv1.Graph{}
	src, dst := g.ProtoReflect(), out.ProtoReflect()
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch fd.Name() {
		case "nodes", "initializers", "opsets":
		default:
			dst.Set(fd, v)
		}
		return true
	})
	for _, n := range g.GetNodes() {
		c := &potv1.Node{Name: n.GetName(), OpType: n.GetOpType(), Domain: n.GetDomain(), Attributes: shallowAttributes(n.GetAttributes())}
		c.Inputs = append([]string(nil), n.GetInputs()...)
		c.Outputs = append([]string(nil), n.GetOutputs()...)
		out.Nodes = append(out.Nodes, c)
	}
	out.Initializers = append([]*potv1.Tensor(nil), g.GetInitializers()...)
	for _, o := range g.GetOpsets() {
		out.Opsets = append(out.Opsets, proto.Clone(o).(*potv1.OpsetImport))
	}
	return out
}

// shallowAttributes shares a node's attributes but those holding graphs,
// which it copies with shallowGraph.
func shallowAttributes(attrs []*potv1.Attribute) []*potv1.Attribute {
	hasGraph := false
	for _, a := range attrs {
		hasGraph = hasGraph || a.GetG() != nil || len(a.GetGraphs()) > 0
	}
	if !hasGraph {
		return attrs
	}
	out := make([]*potv1.Attribute, len(attrs))
	for i, a := range attrs {
		if a.GetG() == nil && len(a.GetGraphs()) == 0 {
			out[i] = a
			continue
		}
		c := &potv1.Attribute{Name: a.GetName(), Type: a.GetType(), RefAttrName: a.GetRefAttrName()}
		if a.GetG() != nil {
			c.G = shallowGraph(a.GetG())
		}
		for _, sg := range a.GetGraphs() {
			c.Graphs = append(c.Graphs, shallowGraph(sg))
		}
		out[i] = c
	}
	return out
}

func applyUpdates(g *potv1.Graph, updates []*potv1.Tensor) error {
	if len(updates) == 0 {
		return nil
	}
	type slot struct {
		g *potv1.Graph
		i int
	}
	idx := map[string]slot{}
	consts := map[string]*potv1.Node{} // outputs of Constant nodes holding a tensor
	for _, sg := range graph.Graphs(g) {
		for i, t := range sg.Initializers {
			idx[t.GetName()] = slot{sg, i}
		}
		for _, n := range sg.Nodes {
			if graph.ConstantValue(n) != nil {
				consts[n.GetOutputs()[0]] = n
			}
		}
	}
	for _, u := range updates {
		var old *potv1.Tensor
		s, init := idx[u.GetName()]
		c := consts[u.GetName()]
		switch {
		case init:
			old = s.g.Initializers[s.i]
		case c != nil:
			old = graph.ConstantValue(c)
		default:
			return fmt.Errorf("plan: tensor update for %q, which is not an initializer or a Constant's output", u.GetName())
		}
		if old.GetDtype() != u.GetDtype() || !slices.Equal(old.GetDims(), u.GetDims()) {
			return fmt.Errorf("plan: tensor update for %q changes %v%v to %v%v", u.GetName(), old.GetDtype(), old.GetDims(), u.GetDtype(), u.GetDims())
		}
		if err := checkData(u); err != nil {
			return fmt.Errorf("plan: tensor update for %q: %w", u.GetName(), err)
		}
		if init {
			s.g.Initializers[s.i] = u
			continue
		}
		// The node is Apply's copy, its attributes shared with g's node:
		// a new list, with a new value attribute.
		attrs := make([]*potv1.Attribute, len(c.Attributes))
		for i, a := range c.Attributes {
			if a.GetName() == "value" {
				a = &potv1.Attribute{Name: "value", Type: potv1.Attribute_TYPE_TENSOR, T: u}
			}
			attrs[i] = a
		}
		c.Attributes = attrs
	}
	return nil
}

// checkData checks that an update holds the data its dims and type need
// (its dims are the initializer's, which are valid).
func checkData(u *potv1.Tensor) error {
	n := graph.NumElements(u.GetDims())
	if u.GetDtype() == potv1.DataType_DATA_TYPE_STRING {
		if int64(len(u.GetStringData())) != n {
			return fmt.Errorf("%d strings for dims %v", len(u.GetStringData()), u.GetDims())
		}
		return nil
	}
	if want := onnx.RawSize(int32(u.GetDtype()), n); want >= 0 && int64(len(u.GetData())) != want {
		return fmt.Errorf("%d data bytes, %v%v needs %d", len(u.GetData()), u.GetDtype(), u.GetDims(), want)
	}
	return nil
}

func fakeQuantize(q *potv1.Quantizer, src, dst string) (*potv1.Node, []*potv1.Tensor, error) {
	p, err := ParamsOf(q)
	if err != nil {
		return nil, nil, fmt.Errorf("plan: %w", err)
	}
	name := "fq/" + q.GetId()
	inits := []*potv1.Tensor{
		floatTensor(name+"/scale", p.Scale),
		floatTensor(name+"/zero_point", p.Zero),
		floatTensor(name+"/out_scale", p.OutScale),
	}
	n := &potv1.Node{
		Name:    name,
		OpType:  FakeQuantizeOp,
		Domain:  FakeQuantizeDomain,
		Inputs:  []string{src, inits[0].Name, inits[1].Name, inits[2].Name},
		Outputs: []string{dst},
		Attributes: []*potv1.Attribute{
			graph.IntAttr("levels", p.Levels),
			graph.IntAttr("axis", int64(p.Axis)),
		},
	}
	return n, inits, nil
}

// floatTensor makes a float32 tensor: a scalar for one value, 1-D
// otherwise.
func floatTensor(name string, v []float32) *potv1.Tensor {
	var dims []int64
	if len(v) != 1 {
		dims = []int64{int64(len(v))}
	}
	return graph.FloatTensor(name, dims, v)
}

// SetTensorUpdate replaces the plan's update of a tensor of the same name,
// or adds it.
func SetTensorUpdate(p *potv1.QuantizationPlan, u *potv1.Tensor) {
	for i, t := range p.GetTensorUpdates() {
		if t.GetName() == u.GetName() {
			p.TensorUpdates[i] = u
			return
		}
	}
	p.TensorUpdates = append(p.TensorUpdates, u)
}
