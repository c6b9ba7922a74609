package opset

import (
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/onnx"
)

// Change is one node that Upgrade rewrote beyond the version bump.
type Change struct {
	// Graph is "" for the main graph, or the path of the subgraph that
	// holds the node ("If_3/then_branch").
	Graph string
	// Node and OpType name the node as it was in the input graph.
	Node   string
	OpType string
	// What says what was done, for a log.
	What string
}

func (c Change) String() string {
	where := c.Node
	if c.Graph != "" {
		where = c.Graph + "/" + c.Node
	}
	return fmt.Sprintf("%s (%s): %s", where, c.OpType, c.What)
}

// Report says what an upgrade did.
type Report struct {
	// From and To are the default opset versions before and after.
	From, To int64
	// Nodes counts the nodes of the default domain, subgraphs included.
	Nodes int
	// Changes lists the nodes that were rewritten, in graph order.
	Changes []Change
}

// Summary is one line for a log: the opsets and how many nodes were
// converted, by operator.
func (r *Report) Summary() string {
	if r.From == r.To {
		return fmt.Sprintf("ONNX opset %d: nothing to upgrade", r.From)
	}
	s := fmt.Sprintf("upgraded ONNX opset %d to %d: %d of %d nodes converted", r.From, r.To, len(r.Changes), r.Nodes)
	if len(r.Changes) == 0 {
		return s + " (every node needed only the version bump)"
	}
	count := map[string]int{}
	for _, c := range r.Changes {
		count[c.OpType]++
	}
	ops := make([]string, 0, len(count))
	for op := range count {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for i, op := range ops {
		ops[i] = fmt.Sprintf("%s %d", op, count[op])
	}
	return s + " (" + strings.Join(ops, ", ") + ")"
}

// Upgrade brings g's default ONNX operator set forward to version to
// (MinTarget to MaxTarget) and returns the upgraded graph and a report.
// g itself is not modified; the result shares g's initializer tensors
// and value infos (which Upgrade never changes), so treat both as
// read-only or clone before changing them in place.
//
// A graph already at version to is returned as it is, with an empty
// report. A graph newer than to, or importing no default opset, is an
// error. Every node is checked before any is rewritten: an operator that
// is not in g's opset, or that Upgrade cannot bring forward, fails the
// whole upgrade with an error naming each such node, its operator and
// both opsets. An adapter that meets a case it cannot convert exactly
// (a legacy broadcast axis without the inputs' ranks, say) fails the same
// way.
//
// Other domains' opset imports and nodes are kept as they are (their
// subgraphs are upgraded); the default domain's import becomes to; the
// IR version is raised to at least the one ONNX released with opset to.
// New tensors and nodes get names that are unused anywhere in the model.
func Upgrade(g *potv1.Graph, to int64) (*potv1.Graph, *Report, error) {
	if g == nil {
		return nil, nil, errors.New("opset upgrade: nil graph")
	}
	from := graph.Opset(g)
	switch {
	case from == 0:
		return nil, nil, errors.New("opset upgrade: the model imports no default ONNX opset (domain \"\" or \"ai.onnx\")")
	case to < MinTarget || to > MaxTarget:
		return nil, nil, fmt.Errorf("opset upgrade: pot upgrades models to opsets %d to %d, not %d", MinTarget, MaxTarget, to)
	case from > to:
		return nil, nil, fmt.Errorf("opset upgrade: the model has opset %d, newer than %d (pot does not downgrade models)", from, to)
	case from == to:
		return g, &Report{From: from, To: to}, nil
	}
	u := &upgrader{from: from, to: to, used: map[string]int{}, report: &Report{From: from, To: to}}
	var errs []error
	u.check(g, "", &errs)
	if len(errs) > 0 {
		if len(errs) > 10 {
			errs = append(errs[:10:10], fmt.Errorf("and %d more nodes", len(errs)-10))
		}
		return nil, nil, fmt.Errorf("cannot upgrade the model from ONNX opset %d to %d: %w", from, to, errors.Join(errs...))
	}
	out := cloneGraph(g)
	u.names = graph.NewNamer(out)
	u.collect(out)
	u.floatType = singleFloatType(out)
	if err := u.graph(out, nil, ""); err != nil {
		return nil, nil, fmt.Errorf("cannot upgrade the model from ONNX opset %d to %d: %w", from, to, err)
	}
	for _, o := range out.Opsets {
		if graph.IsONNXDomain(o.GetDomain()) {
			o.Version = to
		}
	}
	// The IR released with the opset, and at least 4, which lets
	// initializers be left out of the graph inputs.
	out.IrVersion = max(out.GetIrVersion(), onnx.IRVersionFor(to), 4)
	return out, u.report, nil
}

// cloneGraph copies g deeply enough for Upgrade to rewrite the copy: the
// nodes (with their subgraphs) and opset imports are cloned, the lists
// of initializers, inputs, outputs and value infos are new slices over
// the same tensors and infos.
func cloneGraph(g *potv1.Graph) *potv1.Graph {
	out := &potv1.Graph{
		Name: g.GetName(), IrVersion: g.GetIrVersion(), Metadata: maps.Clone(g.GetMetadata()),
		Inputs: append([]*potv1.ValueInfo(nil), g.GetInputs()...), Outputs: append([]*potv1.ValueInfo(nil), g.GetOutputs()...),
		ValueInfo: append([]*potv1.ValueInfo(nil), g.GetValueInfo()...), Initializers: append([]*potv1.Tensor(nil), g.GetInitializers()...),
	}
	for _, o := range g.GetOpsets() {
		out.Opsets = append(out.Opsets, proto.CloneOf(o))
	}
	for _, n := range g.GetNodes() {
		out.Nodes = append(out.Nodes, proto.CloneOf(n))
	}
	return out
}

type upgrader struct {
	from, to int64
	// names gives new names, unused anywhere in the model.
	names *graph.Namer
	// used counts, per tensor, the node inputs that read it and the graph
	// outputs that return it.
	used   map[string]int
	report *Report
	// floatType is the model's only floating element type, or
	// UNDEFINED when it has none or several.
	floatType potv1.DataType
}

// check finds the nodes Upgrade cannot bring forward, before any work.
func (u *upgrader) check(g *potv1.Graph, path string, errs *[]error) {
	for _, n := range g.GetNodes() {
		forSubgraphs(n, path, func(sg *potv1.Graph, p string) { u.check(sg, p, errs) })
		if !graph.IsONNX(n) {
			continue
		}
		if err := u.checkNode(n); err != nil {
			*errs = append(*errs, fmt.Errorf("node %q (%s)%s: %w", n.GetName(), n.GetOpType(), inGraph(path), err))
		}
	}
}

func (u *upgrader) checkNode(n *potv1.Node) error {
	op := n.GetOpType()
	v := versionAt(op, u.from)
	if v == 0 {
		if rewrite, ok := experimental[op]; ok && u.from < experimentalUntil {
			// Refused when the target removed it or has a standard
			// operator of that name (MeanVarianceNormalization-9).
			if f := firstVersion(op); rewrite == "" && (u.to >= experimentalUntil || f > 0 && u.to >= f) {
				return fmt.Errorf("%s is an experimental operator of opset %d that opset %d removed, and pot has no rewrite for it (pot rewrites the experimental ImageScaler and ThresholdedRelu)", op, u.from, experimentalUntil)
			}
			return nil
		}
		if f := firstVersion(op); f > u.from {
			return fmt.Errorf("%s is not an operator of ONNX opset %d (it came in opset %d), so the model is not a valid opset-%d model and pot cannot bring it to opset %d", op, u.from, f, u.from, u.to)
		}
		return fmt.Errorf("%s is not an operator of ONNX opset %d that pot knows, so pot cannot bring it to opset %d", op, u.from, u.to)
	}
	if op == "Scan" && v < 9 && u.to >= 9 {
		return fmt.Errorf("Scan-8 loops over a batch axis that Scan-9 removed, and pot has no rewrite from opset %d to %d for it: export the model at opset 9 or later", u.from, u.to)
	}
	return nil
}

func inGraph(path string) string {
	if path == "" {
		return ""
	}
	return " in subgraph " + path
}

// forSubgraphs calls f for each graph in n's attributes.
func forSubgraphs(n *potv1.Node, path string, f func(*potv1.Graph, string)) {
	for _, a := range n.GetAttributes() {
		p := n.GetName() + "/" + a.GetName()
		if path != "" {
			p = path + "/" + p
		}
		if a.GetG() != nil {
			f(a.GetG(), p)
		}
		for i, sg := range a.GetGraphs() {
			f(sg, fmt.Sprintf("%s[%d]", p, i))
		}
	}
}

// collect counts the reads of every tensor of the model, and takes the
// names nodes read besides those the Namer took (a read of a value
// nothing defines).
func (u *upgrader) collect(g *potv1.Graph) {
	for _, vi := range g.GetOutputs() {
		u.used[vi.GetName()]++
	}
	for _, n := range g.GetNodes() {
		for _, s := range n.GetInputs() {
			u.names.Use(s)
			u.used[s]++
		}
		forSubgraphs(n, "", func(sg *potv1.Graph, _ string) { u.collect(sg) })
	}
}

// singleFloatType returns the floating element type of the model's
// declared values when there is exactly one, else UNDEFINED.
func singleFloatType(g *potv1.Graph) potv1.DataType {
	seen := map[potv1.DataType]bool{}
	var walk func(g *potv1.Graph)
	walk = func(g *potv1.Graph) {
		for _, vis := range [][]*potv1.ValueInfo{g.GetInputs(), g.GetOutputs(), g.GetValueInfo()} {
			for _, vi := range vis {
				if isFloat(vi.GetDtype()) {
					seen[vi.GetDtype()] = true
				}
			}
		}
		for _, t := range g.GetInitializers() {
			if isFloat(t.GetDtype()) {
				seen[t.GetDtype()] = true
			}
		}
		for _, n := range g.GetNodes() {
			forSubgraphs(n, "", func(sg *potv1.Graph, _ string) { walk(sg) })
		}
	}
	walk(g)
	if len(seen) != 1 {
		return potv1.DataType_DATA_TYPE_UNDEFINED
	}
	for dt := range seen {
		return dt
	}
	return potv1.DataType_DATA_TYPE_UNDEFINED
}

// fresh returns an unused name built on base.
func (u *upgrader) fresh(base string) string {
	if base == "" {
		base = "upgrade"
	}
	return u.names.Name(base)
}

// scope is one graph being upgraded.
type scope struct {
	u      *upgrader
	parent *scope
	g      *potv1.Graph
	path   string
	values map[string]value
	consts map[string]*potv1.Tensor
	out    []*potv1.Node
	post   []*potv1.Node
	// origOp is the operator of the node being converted, as it was.
	origOp string
}

// graph upgrades g's nodes in place (g is already a copy).
func (u *upgrader) graph(g *potv1.Graph, parent *scope, path string) error {
	s := &scope{u: u, parent: parent, g: g, path: path, values: map[string]value{}, consts: map[string]*potv1.Tensor{}}
	for _, t := range g.GetInitializers() {
		s.values[t.GetName()] = value{t.GetDtype(), len(t.GetDims())}
		s.consts[t.GetName()] = t
	}
	for _, vis := range [][]*potv1.ValueInfo{g.GetInputs(), g.GetValueInfo(), g.GetOutputs()} {
		for _, vi := range vis {
			v := s.values[vi.GetName()]
			if _, ok := s.values[vi.GetName()]; !ok {
				v = unknown
			}
			if v.dt == 0 {
				v.dt = vi.GetDtype()
			}
			if v.rank < 0 && vi.GetHasShape() {
				v.rank = len(vi.GetShape())
			}
			s.values[vi.GetName()] = v
		}
	}
	nodes := g.Nodes
	g.Nodes = make([]*potv1.Node, 0, len(nodes))
	for _, n := range nodes {
		var err error
		forSubgraphs(n, path, func(sg *potv1.Graph, p string) {
			if err == nil {
				err = u.graph(sg, s, p)
			}
		})
		if err != nil {
			return err
		}
		if !graph.IsONNX(n) {
			s.append(n)
			continue
		}
		u.report.Nodes++
		if err := s.node(n); err != nil {
			return fmt.Errorf("node %q (%s)%s: %w", n.GetName(), n.GetOpType(), inGraph(path), err)
		}
	}
	g.Nodes = s.out
	return nil
}

// node converts one default-domain node through every version of its
// operator after the model's opset.
func (s *scope) node(n *potv1.Node) error {
	u := s.u
	op := n.GetOpType()
	s.origOp = op
	cur := versionAt(op, u.from)
	var what []string
	if cur == 0 && u.to >= experimentalUntil {
		// An experimental operator (check let only the rewritable ones through).
		w, err := rewriteExperimental(s, n)
		if err != nil {
			return err
		}
		what = append(what, w)
		cur = experimentalUntil
	}
	for {
		next := steps(n.GetOpType(), cur, u.to)
		if len(next) == 0 {
			break
		}
		v := next[0]
		if ad := adapters[stepKey{n.GetOpType(), v}]; ad != nil {
			before := n.GetOpType()
			w, err := ad(s, n, v)
			if err != nil {
				return fmt.Errorf("%s-%d to %d: %w", before, cur, v, err)
			}
			if w != "" {
				what = append(what, w)
			}
		}
		cur = v
	}
	s.append(n)
	for _, p := range s.post {
		s.append(p)
	}
	s.post = nil
	if len(what) > 0 {
		u.report.Changes = append(u.report.Changes, Change{Graph: s.path, Node: n.GetName(), OpType: op, What: strings.Join(what, "; ")})
	}
	return nil
}

// append adds a node in its final form to the graph and learns its
// outputs.
func (s *scope) append(n *potv1.Node) {
	s.out = append(s.out, n)
	s.learn(n)
}

// emit adds a new node (in the form of the target opset) before the node
// being converted.
func (s *scope) emit(n *potv1.Node) { s.append(n) }

// emitAfter adds a new node after the node being converted.
func (s *scope) emitAfter(n *potv1.Node) { s.post = append(s.post, n) }

// newNode builds a node with a fresh name and fresh output names.
func (s *scope) newNode(op, base string, inputs []string, outputs int) *potv1.Node {
	n := &potv1.Node{Name: s.u.fresh(base), OpType: op, Inputs: inputs}
	for range outputs {
		n.Outputs = append(n.Outputs, s.u.fresh(n.Name+"_out"))
	}
	return n
}

func (s *scope) learn(n *potv1.Node) {
	if n.GetOpType() == "Constant" && graph.IsONNX(n) && len(n.GetOutputs()) == 1 {
		if a := graph.Attr(n, "value"); a != nil && a.GetT() != nil {
			s.consts[n.GetOutputs()[0]] = a.GetT()
		}
	}
	vs := infer(n, s.u.to, func(i int) value { return s.value(input(n, i)) }, func(i int) *potv1.Tensor { return s.konst(input(n, i)) })
	for i, o := range n.GetOutputs() {
		if o == "" {
			continue
		}
		have, ok := s.values[o]
		if !ok {
			s.values[o] = vs[i]
			continue
		}
		if have.dt == 0 {
			have.dt = vs[i].dt
		}
		if have.rank < 0 {
			have.rank = vs[i].rank
		}
		s.values[o] = have
	}
}

// value returns what is known of a tensor, looking into enclosing graphs.
func (s *scope) value(name string) value {
	if name == "" {
		return unknown
	}
	for sc := s; sc != nil; sc = sc.parent {
		if v, ok := sc.values[name]; ok {
			return v
		}
	}
	return unknown
}

// konst returns a tensor's constant value (initializer or Constant
// output), or nil.
func (s *scope) konst(name string) *potv1.Tensor {
	if name == "" {
		return nil
	}
	for sc := s; sc != nil; sc = sc.parent {
		if t, ok := sc.consts[name]; ok {
			return t
		}
		if _, ok := sc.values[name]; ok {
			return nil // defined here, not constant: it shadows outer names
		}
	}
	return nil
}

// constant adds an initializer to the graph and returns its name.
func (s *scope) constant(base string, t *potv1.Tensor) string {
	t.Name = s.u.fresh(base)
	s.g.Initializers = append(s.g.Initializers, t)
	s.consts[t.Name] = t
	s.values[t.Name] = value{t.GetDtype(), len(t.GetDims())}
	return t.Name
}

// reshaped returns a constant with t's data and the given dims: t itself,
// renewed in place, when it is an initializer of this graph that only
// this node reads (and not a graph input), else a new initializer.
func (s *scope) reshaped(name string, t *potv1.Tensor, dims []int64, node string) string {
	nt := &potv1.Tensor{Name: name, Dtype: t.GetDtype(), Dims: dims, Data: t.GetData(), StringData: t.GetStringData()}
	if s.u.used[name] == 1 && s.consts[name] == t && !s.isInput(name) {
		for i, x := range s.g.Initializers {
			if x == t {
				// t is shared with the input graph: replace, never modify.
				s.g.Initializers[i] = nt
				s.consts[name] = nt
				s.values[name] = value{nt.GetDtype(), len(dims)}
				return name
			}
		}
	}
	return s.constant(name+"_"+node, nt)
}

func (s *scope) isInput(name string) bool {
	for _, vi := range s.g.GetInputs() {
		if vi.GetName() == name {
			return true
		}
	}
	return false
}

// int64s adds a 1-D int64 initializer.
func (s *scope) int64s(base string, v []int64) string {
	return s.constant(base, graph.Int64Tensor("", []int64{int64(len(v))}, v))
}

// floatType returns the element type of a tensor that must be a floating
// type: the inferred one, or else the model's only floating type.
func (s *scope) floatType(name string) (potv1.DataType, error) {
	dt := s.value(name).dt
	if dt == 0 {
		dt = s.u.floatType
	}
	if dt == 0 {
		return 0, fmt.Errorf("pot cannot tell the element type of %q, and the model has more than one floating type", name)
	}
	if !isFloat(dt) {
		return 0, fmt.Errorf("%q has element type %s, not a floating type", name, dtName(dt))
	}
	return dt, nil
}

// floats adds an initializer of element type dt.
func (s *scope) floats(base string, dt potv1.DataType, dims []int64, v []float64) (string, error) {
	t, err := floatTensor(dt, dims, v)
	if err != nil {
		return "", err
	}
	return s.constant(base, t), nil
}

// rank returns the rank of a tensor, or -1.
func (s *scope) rank(name string) int {
	if t := s.konst(name); t != nil {
		return len(t.GetDims())
	}
	return s.value(name).rank
}

// unsqueeze emits a node giving x trailing axes of size one at the given
// axes, in the form of the target opset, and returns its output.
func (s *scope) unsqueeze(base, x string, axes []int64) string {
	n := s.newNode("Unsqueeze", base, []string{x}, 1)
	if s.u.to >= 13 {
		n.Inputs = append(n.Inputs, s.int64s(n.Name+"_axes", axes))
	} else {
		setInts(n, "axes", axes)
	}
	s.emit(n)
	return n.Outputs[0]
}
