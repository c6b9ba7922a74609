package interp

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// Options configure compilation and execution.
type Options struct {
	// Threads kernels may use; 0 means 1.
	Threads int
	// Policy, when set, sees every value the program computes: constants
	// once at compile time, node outputs after each node runs. Targets use
	// it to impose their arithmetic (such as rounding to float16).
	Policy Policy
	// NoFold disables compile-time evaluation of constant subgraphs.
	NoFold bool
	// Rounding is how quantizers (FakeQuantize, QuantizeLinear,
	// DynamicQuantizeLinear) round; the zero value is half to even.
	Rounding ops.Rounding
	// Kernels, when set, holds operator implementations the program
	// prefers to the interpreter's own (Lookup): a target's additional
	// or replaced operators. A domain it implements that the graph does
	// not import is read at version 1.
	Kernels *ops.Registry
}

// Policy is a target's numeric policy over the float runtime.
type Policy interface {
	// Constant may modify a constant in place before it is used.
	Constant(name string, t *tensor.Tensor)
	// Output may modify a node's outputs in place after the node runs.
	Output(node *potv1.Node, out []*tensor.Tensor)
}

// ElementwisePolicy is a Policy whose Output changes each element of an
// output on its own (rounding each value to a narrower type, say), so
// that applying it to slices of a batch is applying it to the batch:
// the programs under such a policy may still run sample-parallel.
type ElementwisePolicy interface {
	Policy
	// Elementwise reports whether Output treats elements one by one.
	Elementwise() bool
}

// elementwise reports whether pol is an ElementwisePolicy that says so.
func elementwise(pol Policy) bool {
	e, ok := pol.(ElementwisePolicy)
	return ok && e.Elementwise()
}

// UnsupportedOpsError lists every node of a graph the runtime cannot run.
type UnsupportedOpsError struct {
	Nodes []*ops.UnsupportedError
}

func (e *UnsupportedOpsError) Error() string {
	types := map[string]bool{}
	var names []string
	for _, n := range e.Nodes {
		types[n.OpType] = true
	}
	for t := range types {
		names = append(names, t)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "%d unsupported node(s) (%s): ", len(e.Nodes), strings.Join(names, ", "))
	for i, n := range e.Nodes {
		if i > 0 {
			b.WriteString("; ")
		}
		if i == 20 {
			fmt.Fprintf(&b, "and %d more", len(e.Nodes)-20)
			break
		}
		b.WriteString(n.Error())
	}
	return b.String()
}

// NodeError is the failure of one node. Its Node method names the node
// for pot's diagnostics (plugins.Diagnostic), which carry it to the
// host as data.
type NodeError struct {
	Name, OpType string
	Err          error
}

func nodeError(n *potv1.Node, err error) *NodeError {
	return &NodeError{Name: n.GetName(), OpType: n.GetOpType(), Err: err}
}

func (e *NodeError) Error() string { return fmt.Sprintf("node %q (%s): %v", e.Name, e.OpType, e.Err) }
func (e *NodeError) Unwrap() error { return e.Err }

// Node names the node.
func (e *NodeError) Node() string { return e.Name }

// Unwrap returns the first node's error so that errors.As finds an
// *ops.UnsupportedError.
func (e *UnsupportedOpsError) Unwrap() error {
	if len(e.Nodes) == 0 {
		return nil
	}
	return e.Nodes[0]
}

type step struct {
	node   *potv1.Node
	kernel ops.Kernel
	in     []int // value index per input, -1 when omitted
	out    []int // value index per output, -1 when omitted
	fuse   *fusion
	chain  *chain
}

// chain is a run of element-wise steps a session can compute in one pass
// (ops.Chain) at the first of them, in place of them all, when none of
// the values in between is watched.
type chain struct {
	kernel *ops.Chain
	source int   // the value the chain reads
	skip   []int // the other steps it replaces
	final  int   // the value it computes: the last step's output
	inner  []int // the values of the steps before the last
}

// fusion is what a step (a convolution) can apply to its own output in
// place of the steps that follow it: Relu; HardSigmoid and Mul; a
// residual Add, possibly followed by Relu. A session fuses when none of
// the values in between is watched.
type fusion struct {
	act   ops.Activation
	add   int   // the value act adds (ActAdd, ActAddReLU), else -1
	skip  []int // the steps it replaces
	final int   // the value it computes: the last skipped step's output
	inner []int // values the skipped steps read besides final's producer
}

type inputSpec struct {
	name  string
	value int
	info  *potv1.ValueInfo
	// def is the initializer of the same name, used when the input is not
	// fed (IR < 4 default values).
	def *tensor.Tensor
}

// Program is a compiled graph. It is safe for concurrent use: each run
// uses a session of its own.
//
// The graph attributes of control-flow nodes (If, Loop, Scan) are
// compiled into programs of their own when the node is compiled, with the
// same options. Their nodes read the values of the enclosing graphs by
// name: such a value is bound as a constant when it is one, and is
// otherwise an implicit input of the control-flow step (a capture), which
// the enclosing program orders after its producer and keeps alive until
// the step ran.
type Program struct {
	graph   *potv1.Graph
	opts    Options
	ctx     *ops.Context
	ownCtx  bool // the root program closes ctx
	opsets  map[string]int64
	steps   []step
	names   []string
	index   map[string]int
	consts  []*tensor.Tensor // per value, nil unless constant
	inputs  []inputSpec
	outputs []int
	slotOf  []int // per value, -1 unless computed by a step
	nslots  int
	release [][]int // per step, slots that become free after it

	// idle holds sessions returned by Release, buffers and all, for the
	// next AcquireSession: a target runs request after request on one
	// program, and a fresh session would allocate (and fault in) every
	// intermediate buffer of its first batch again.
	idleMu sync.Mutex
	idle   []*Session

	// borrowed marks the values of an enclosing graph (per value).
	borrowed []bool
	// captures are the borrowed values bound at run time: from is the
	// index of the value among the inputs of the control-flow step.
	captures []capture
	// innerAt locates the values defined by subgraphs, at any depth: the
	// step and subprogram of this program that holds them.
	innerAt map[string]subRef
	// sampleParallel says the steps keep the samples of a batch apart:
	// sessions may run a batch in chunks, one thread per chunk (batch.go).
	sampleParallel bool
}

type capture struct{ value, from int }

type subRef struct{ step, sub int }

// Compile prepares g for execution. A graph with nodes the runtime does
// not support fails with an *UnsupportedOpsError naming all of them, the
// nodes of subgraphs included.
func Compile(g *potv1.Graph, opts Options) (*Program, error) {
	if err := graph.CheckLimits(g); err != nil {
		return nil, err
	}
	c := &compiler{opts: opts, ctx: ops.NewContext(opts.Threads), free: map[*potv1.Graph][]string{}}
	opsets := map[string]int64{}
	for _, o := range g.GetOpsets() {
		opsets[graph.CanonicalDomain(o.GetDomain())] = o.GetVersion()
	}
	if _, ok := opsets[ops.DomainPot]; !ok {
		opsets[ops.DomainPot] = 1
	}
	if opts.Kernels != nil {
		for _, op := range opts.Kernels.Registered() {
			if _, ok := opsets[op.Domain]; !ok {
				opsets[op.Domain] = 1
			}
		}
	}
	p, err := c.compile(g, opsets, nil, nil)
	if err != nil {
		c.ctx.Close()
		return nil, err
	}
	p.ownCtx = true
	return p, nil
}

// compiler holds what the compilation of a graph and its subgraphs
// shares.
type compiler struct {
	opts Options
	ctx  *ops.Context
	free map[*potv1.Graph][]string // memo of freeVars
}

// lookup finds an operator's implementation: the program's own
// (Options.Kernels) first, then the interpreter's (Lookup).
func (c *compiler) lookup(domain, opType string, opset int64) (ops.Factory, bool) {
	if c.opts.Kernels != nil {
		if f, ok := c.opts.Kernels.Lookup(domain, opType, opset); ok {
			return f, true
		}
	}
	return Lookup(domain, opType, opset)
}

// freeVars lists, sorted, the names that the nodes of g (and of its
// subgraphs, at any depth) and its outputs read without g defining them:
// the values g reads from enclosing graphs (memoized per graph).
func (c *compiler) freeVars(g *potv1.Graph) []string {
	if f, ok := c.free[g]; ok {
		return f
	}
	f := graph.FreeVars(g)
	c.free[g] = f
	return f
}

// compile compiles g. For a subgraph, outer is the enclosing program
// (being compiled: it knows every value computed before the control-flow
// node) and from maps a name the subgraph reads from enclosing graphs to
// its index among the inputs of the control-flow step.
//
// The phases, in order: declare the values known before any node runs
// (declareValues), order the nodes (order), build a kernel per node and
// fold the constant ones (buildSteps), bind the graph outputs
// (bindOutputs), find the steps a convolution can fuse (findFusions),
// decide whether batches may run sample-parallel (findSampleParallel),
// and assign buffers to the computed values (planSlots).
func (c *compiler) compile(g *potv1.Graph, opsets map[string]int64, outer *Program, from func(name string) (int, bool)) (*Program, error) {
	b := &builder{c: c, p: &Program{graph: g, opts: c.opts, ctx: c.ctx, opsets: opsets, index: map[string]int{}}, outer: outer}
	if err := b.declareValues(from); err != nil {
		return nil, err
	}
	order, err := b.order()
	if err != nil {
		return nil, err
	}
	if err := b.buildSteps(order); err != nil {
		return nil, err
	}
	p := b.p
	if err := p.bindOutputs(); err != nil {
		return nil, err
	}
	if p.opts.Policy == nil {
		p.findFusions()
		p.findChains()
	}
	p.sampleParallel = p.findSampleParallel(outer)
	p.planSlots()
	return p, nil
}

// builder holds the state of one graph's compilation, phase to phase.
type builder struct {
	c     *compiler
	p     *Program
	outer *Program // the enclosing program of a subgraph, else nil
	// inits are the graph's initializers, decoded; types the element
	// types its value infos declare (Undefined once a step computes the
	// value: its type is then known at run time only).
	inits map[string]*tensor.Tensor
	types map[string]tensor.DType
}

// value returns the index of the named value, adding it.
func (p *Program) value(name string) int {
	if i, ok := p.index[name]; ok {
		return i
	}
	p.index[name] = len(p.names)
	p.names = append(p.names, name)
	p.consts = append(p.consts, nil)
	p.borrowed = append(p.borrowed, false)
	return len(p.names) - 1
}

// declareValues is the first phase: it decodes the initializers (under
// the policy), reads the declared element types, and indexes the values
// known before any node runs: the inputs (an initializer of the same
// name is the default of an input of the main graph), the constants, and
// for a subgraph the values it borrows from enclosing graphs, constant
// there or bound at each run (captures; from maps their names to the
// inputs of the control-flow step).
func (b *builder) declareValues(from func(name string) (int, bool)) error {
	p, g, opts := b.p, b.p.graph, b.p.opts
	b.inits = map[string]*tensor.Tensor{}
	for _, in := range g.GetInitializers() {
		// Shared with the graph unless a policy may modify the constant.
		decode := FromProtoShared
		if opts.Policy != nil {
			decode = FromProto
		}
		t, err := decode(in)
		if err != nil {
			return fmt.Errorf("initializer: %w", err)
		}
		if opts.Policy != nil {
			opts.Policy.Constant(in.GetName(), t)
		}
		b.inits[in.GetName()] = t
	}
	b.types = map[string]tensor.DType{}
	for _, vi := range append(append(append([]*potv1.ValueInfo{}, g.GetInputs()...), g.GetValueInfo()...), g.GetOutputs()...) {
		if vi.GetDtype() != potv1.DataType_DATA_TYPE_UNDEFINED {
			b.types[vi.GetName()] = tensor.DType(vi.GetDtype())
		}
	}
	fed := map[string]bool{}
	for _, vi := range g.GetInputs() {
		spec := inputSpec{name: vi.GetName(), value: p.value(vi.GetName()), info: vi}
		if def, isInit := b.inits[vi.GetName()]; isInit && b.outer == nil {
			// An input with a default: fed when the caller gives it.
			spec.def = def
		}
		p.inputs = append(p.inputs, spec)
		fed[vi.GetName()] = true
	}
	for name, t := range b.inits {
		if !fed[name] {
			p.consts[p.value(name)] = t
		}
	}
	if b.outer == nil {
		return nil
	}
	// The values of enclosing graphs: constants there are constants
	// here; the others are bound at each run.
	for _, name := range b.c.freeVars(g) {
		ov, ok := b.outer.index[name]
		if !ok {
			return fmt.Errorf("value %q is read by the subgraph but defined by no enclosing graph", name)
		}
		v := p.value(name)
		p.borrowed[v] = true
		if t := b.outer.consts[ov]; t != nil {
			p.consts[v] = t
			continue
		}
		if t, ok := b.types[name]; !ok || t == tensor.Undefined {
			if ot := b.outer.valueType(ov); ot != tensor.Undefined {
				b.types[name] = ot
			}
		}
		idx, ok := from(name)
		if !ok {
			return fmt.Errorf("value %q is read by the subgraph but is not an input of its node", name)
		}
		p.captures = append(p.captures, capture{value: v, from: idx})
	}
	return nil
}

// order is the second phase: the nodes in a topological order, the
// nodes that read only constants, one of them large, moved to just
// before their first reader (deferLargeConstNodes).
func (b *builder) order() ([]*potv1.Node, error) {
	p := b.p
	order, err := graph.Order(p.graph, func(name string) bool {
		_, ok := p.index[name]
		return ok
	})
	if se := (*graph.SortError)(nil); errors.As(err, &se) {
		return nil, nodeError(se.Node, errors.New(se.Problem()))
	} else if err != nil {
		return nil, err
	}
	return deferLargeConstNodes(order, func(name string) *tensor.Tensor {
		if v, ok := p.index[name]; ok && !p.borrowed[v] {
			return p.consts[v]
		}
		return nil
	}), nil
}

// buildSteps is the third phase: a kernel for each node, in order. A
// node whose inputs are all constant is evaluated now (folded) unless
// it must not be (foldable, largeInput); the others become the
// program's steps. Every node the runtime cannot run is collected into
// one *UnsupportedOpsError.
func (b *builder) buildSteps(order []*potv1.Node) error {
	var unsupported []*ops.UnsupportedError
	for _, n := range order {
		u, err := b.buildStep(n, len(unsupported) == 0)
		if err != nil {
			return err
		}
		unsupported = append(unsupported, u...)
	}
	if len(unsupported) > 0 {
		return &UnsupportedOpsError{Nodes: unsupported}
	}
	return nil
}

// buildStep builds the kernel of node n and appends its step, or folds
// it when fold allows and its inputs are constant. It returns the nodes
// the runtime cannot run (n, or nodes of its subgraphs).
func (b *builder) buildStep(n *potv1.Node, fold bool) ([]*ops.UnsupportedError, error) {
	p, opts := b.p, b.p.opts
	domain := graph.CanonicalDomain(n.GetDomain())
	opset, ok := p.opsets[domain]
	if !ok {
		return []*ops.UnsupportedError{{Node: n.GetName(), OpType: n.GetOpType(), Reason: fmt.Sprintf("domain %q is not imported by the model, which is", domain)}}, nil
	}
	f, ok := b.c.lookup(domain, n.GetOpType(), opset)
	if !ok {
		reason := ""
		if domain != "" {
			reason = fmt.Sprintf("operator %s of domain %q is", n.GetOpType(), domain)
		}
		return []*ops.UnsupportedError{{Node: n.GetName(), OpType: n.GetOpType(), Reason: reason}}, nil
	}
	if err := checkOutputs(n); err != nil {
		return nil, err
	}
	st := step{node: n}
	implicit := graph.ImplicitInputs(n)
	consts := make([]*tensor.Tensor, len(n.GetInputs()))
	inTypes := make([]tensor.DType, len(n.GetInputs()))
	allConst := true
	for i, name := range n.GetInputs() {
		if name == "" {
			st.in = append(st.in, -1)
			continue
		}
		v := p.value(name)
		st.in = append(st.in, v)
		consts[i] = p.consts[v]
		if consts[i] != nil {
			inTypes[i] = consts[i].DType
		} else {
			allConst = false
			inTypes[i] = b.types[name]
		}
	}
	for _, name := range implicit {
		st.in = append(st.in, p.value(name))
	}
	node := ops.NewNode(n, opset, consts)
	node.InputTypes = inTypes
	node.Rounding = opts.Rounding
	if len(implicit) > 0 || len(graph.Subgraphs(n)) > 0 {
		node.Env = &subgraphEnv{c: b.c, outer: p, base: len(n.GetInputs()), implicit: implicit}
	}
	k, err := newKernel(f, node)
	if err != nil {
		var all *UnsupportedOpsError
		if errors.As(err, &all) {
			return all.Nodes, nil
		}
		var u *ops.UnsupportedError
		if errors.As(err, &u) {
			return []*ops.UnsupportedError{u}, nil
		}
		return nil, nodeError(n, err)
	}
	st.kernel = k
	for _, name := range n.GetOutputs() {
		if name == "" {
			st.out = append(st.out, -1)
			continue
		}
		st.out = append(st.out, p.value(name))
	}
	if allConst && fold && !opts.NoFold && foldable(n) && !p.largeInput(st) {
		if err := p.fold(st); err != nil {
			return nil, nodeError(n, err)
		}
		return nil, nil
	}
	for i, o := range st.out {
		if o >= 0 {
			b.types[n.GetOutputs()[i]] = tensor.Undefined
		}
	}
	if ck, ok := k.(controlKernel); ok {
		for j, q := range ck.subprograms() {
			for name := range q.owned() {
				if p.innerAt == nil {
					p.innerAt = map[string]subRef{}
				}
				p.innerAt[name] = subRef{step: len(p.steps), sub: j}
			}
		}
	}
	p.steps = append(p.steps, st)
	return nil, nil
}

// bindOutputs is the fourth phase: the values of the graph outputs.
func (p *Program) bindOutputs() error {
	for _, o := range p.graph.GetOutputs() {
		v, ok := p.index[o.GetName()]
		if !ok {
			return fmt.Errorf("graph output %q is computed by no node", o.GetName())
		}
		p.outputs = append(p.outputs, v)
	}
	return nil
}

// valueType is the element type of value v when known at compile time.
func (p *Program) valueType(v int) tensor.DType {
	if c := p.consts[v]; c != nil {
		return c.DType
	}
	name := p.names[v]
	for _, vis := range [][]*potv1.ValueInfo{p.graph.GetInputs(), p.graph.GetValueInfo(), p.graph.GetOutputs()} {
		for _, vi := range vis {
			if vi.GetName() == name && vi.GetDtype() != potv1.DataType_DATA_TYPE_UNDEFINED {
				return tensor.DType(vi.GetDtype())
			}
		}
	}
	return tensor.Undefined
}

// owned iterates over the names of the values the program defines or
// whose definition it holds in a subgraph: every value but those it
// borrows from enclosing graphs.
func (p *Program) owned() func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for v, name := range p.names {
			if !p.borrowed[v] && !yield(name) {
				return
			}
		}
		for name := range p.innerAt {
			if !yield(name) {
				return
			}
		}
	}
}

// subgraphEnv is what a control-flow operator's factory (ops.Node.Env)
// needs to compile its graph attributes in the scope of its node.
type subgraphEnv struct {
	c     *compiler
	outer *Program
	// base is the number of the node's declared inputs; the implicit
	// inputs follow them in the step's inputs.
	base     int
	implicit []string
}

// compile compiles one graph attribute of the node.
func (e *subgraphEnv) compile(g *potv1.Graph) (*Program, error) {
	return e.c.compile(g, e.outer.opsets, e.outer, func(name string) (int, bool) {
		i := sort.SearchStrings(e.implicit, name)
		if i < len(e.implicit) && e.implicit[i] == name {
			return e.base + i, true
		}
		return 0, false
	})
}

// findFusions marks the convolutions whose only readers are a Relu; a
// HardSigmoid and the Mul of its output by the convolution's (hard-swish
// as PyTorch exports it); or an Add of a value computed before them,
// possibly followed by Relu (a residual connection): a session can run
// them as one step.
func (p *Program) findFusions() {
	readers := map[int][]int{}
	producer := map[int]int{}
	for si, st := range p.steps {
		for _, v := range st.in {
			if v >= 0 {
				readers[v] = append(readers[v], si)
			}
		}
		for _, v := range st.out {
			if v >= 0 {
				producer[v] = si
			}
		}
	}
	outputs := map[int]bool{}
	for _, v := range p.outputs {
		outputs[v] = true
	}
	// onlyOutput is the single output value of step si, or -1.
	onlyOutput := func(si int) int {
		if st := p.steps[si]; len(st.out) == 1 && st.out[0] >= 0 && !outputs[st.out[0]] && len(readers[st.out[0]]) > 0 {
			return st.out[0]
		}
		return -1
	}
	is := func(si int, op string) bool {
		n := p.steps[si].node
		return n.GetOpType() == op && graph.IsONNX(n)
	}
	for si := range p.steps {
		st := &p.steps[si]
		if _, ok := st.kernel.(ops.ActivationFuser); !ok {
			continue
		}
		v := onlyOutput(si)
		if v < 0 {
			continue
		}
		rs := readers[v]
		switch {
		case len(rs) == 1 && is(rs[0], "Relu") && len(p.steps[rs[0]].in) == 1:
			if f := onlyOutput(rs[0]); f >= 0 {
				st.fuse = &fusion{act: ops.Activation{Kind: ops.ActReLU}, add: -1, skip: []int{rs[0]}, final: f, inner: []int{v}}
			}
		case len(rs) == 1 && is(rs[0], "Add") && len(p.steps[rs[0]].in) == 2:
			// A residual Add of a value computed before the convolution,
			// possibly followed by Relu.
			a, in := rs[0], p.steps[rs[0]].in
			other := in[0]
			if other == v {
				other = in[1]
			}
			if other < 0 || other == v || in[0] != v && in[1] != v {
				continue
			}
			if prod, ok := producer[other]; ok && prod >= si {
				continue
			}
			av := onlyOutput(a)
			if av < 0 {
				continue
			}
			if ar := readers[av]; len(ar) == 1 && is(ar[0], "Relu") && len(p.steps[ar[0]].in) == 1 {
				if f := onlyOutput(ar[0]); f >= 0 {
					st.fuse = &fusion{act: ops.Activation{Kind: ops.ActAddReLU}, add: other, skip: []int{a, ar[0]}, final: f, inner: []int{v, av}}
					continue
				}
			}
			st.fuse = &fusion{act: ops.Activation{Kind: ops.ActAdd}, add: other, skip: []int{a}, final: av, inner: []int{v}}
		case len(rs) == 2:
			h, m := rs[0], rs[1]
			if is(m, "HardSigmoid") {
				h, m = m, h
			}
			if !is(h, "HardSigmoid") || !is(m, "Mul") || len(p.steps[h].in) != 1 {
				continue
			}
			hv := onlyOutput(h)
			if hv < 0 || len(readers[hv]) != 1 || readers[hv][0] != m {
				continue
			}
			in := p.steps[m].in
			if len(in) != 2 || !(in[0] == v && in[1] == hv || in[0] == hv && in[1] == v) {
				continue
			}
			f := onlyOutput(m)
			if f < 0 {
				continue
			}
			alpha, beta := ops.HardSigmoidAttrs(p.steps[h].node)
			st.fuse = &fusion{act: ops.Activation{Kind: ops.ActHardSwish, Alpha: alpha, Beta: beta}, add: -1, skip: []int{h, m}, final: f, inner: []int{v, hv}}
		}
	}
}

// findChains groups element-wise float32 steps (ops.Chainable) that
// compute from one value, each from that value or from the steps before
// it, into chains: the steps, in order, while every value but the last
// is read only within the chain. Steps a convolution's fusion replaces
// stay out.
func (p *Program) findChains() {
	readers := map[int][]int{}
	for si, st := range p.steps {
		for _, v := range st.in {
			if v >= 0 {
				readers[v] = append(readers[v], si)
			}
		}
	}
	fused := map[int]bool{}
	for _, st := range p.steps {
		if st.fuse != nil {
			for _, k := range st.fuse.skip {
				fused[k] = true
			}
		}
	}
	type group struct {
		source int
		steps  []int
		member map[int]int // value -> index of the step that computes it
		ops    []ops.ChainStep
		args   [][]int
	}
	var groups []*group
	of := map[int]*group{} // value -> the group whose step computes it
	for si, st := range p.steps {
		if fused[si] || st.fuse != nil || len(st.out) != 1 || st.out[0] < 0 || !graph.IsONNX(st.node) {
			continue
		}
		in := make([]ops.ChainInput, len(st.in))
		for i, v := range st.in {
			if v < 0 {
				in[i].Absent = true
			} else {
				in[i].Const = p.consts[v]
			}
		}
		cs, ok := ops.Chainable(st.kernel, in)
		if !ok {
			continue
		}
		var g *group
		for _, i := range cs.Values {
			if og := of[st.in[i]]; og != nil {
				g = og
			}
		}
		if g == nil { // a new chain, from the one value the step reads
			x := st.in[cs.Values[0]]
			if slices.ContainsFunc(cs.Values, func(i int) bool { return st.in[i] != x }) {
				continue
			}
			g = &group{source: x, member: map[int]int{}}
			groups = append(groups, g)
		}
		args := make([]int, len(cs.Values))
		joins := true
		for j, i := range cs.Values {
			v := st.in[i]
			if k, ok := g.member[v]; ok {
				args[j] = k
			} else if v == g.source {
				args[j] = -1
			} else {
				joins = false
			}
		}
		if !joins {
			continue
		}
		g.member[st.out[0]] = len(g.steps)
		g.steps = append(g.steps, si)
		g.ops = append(g.ops, cs)
		g.args = append(g.args, args)
		of[st.out[0]] = g
	}
	outputs := map[int]bool{}
	for _, v := range p.outputs {
		outputs[v] = true
	}
	for _, g := range groups {
		// The longest run of the group's first steps whose values, but
		// the last's, are read only within that run.
		n := len(g.steps)
		for ; n >= 2; n-- {
			in := map[int]bool{}
			for _, si := range g.steps[:n] {
				in[si] = true
			}
			ok := true
			for _, si := range g.steps[:n-1] {
				v := p.steps[si].out[0]
				if outputs[v] || slices.ContainsFunc(readers[v], func(r int) bool { return !in[r] }) {
					ok = false
					break
				}
			}
			if ok {
				break
			}
		}
		if n < 2 {
			continue
		}
		c := &chain{kernel: &ops.Chain{}, source: g.source, skip: g.steps[1:n], final: p.steps[g.steps[n-1]].out[0]}
		for i := 0; i < n; i++ {
			c.kernel.Append(g.ops[i], g.args[i]...)
			if i < n-1 {
				c.inner = append(c.inner, p.steps[g.steps[i]].out[0])
			}
		}
		p.steps[g.steps[0]].chain = c
	}
}

func foldable(n *potv1.Node) bool {
	switch n.GetOpType() {
	case "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Bernoulli", "Multinomial":
		return false
	case "If", "Loop", "Scan":
		// Control flow runs in sessions, which make the values its
		// subgraphs compute observable.
		return false
	}
	return true
}

// largeInput tells whether a step reads a constant of at least
// ops.LargeConstBytes. Such steps are not folded: their result would be
// another copy of a large weight held for the program's life (a
// fake-quantized weight of a quantized program, say), so it is computed
// at each run instead, and memory stays near one copy of the weights
// however many programs of a model are compiled.
func (p *Program) largeInput(st step) bool {
	for _, v := range st.in {
		if v >= 0 && p.consts[v] != nil && ops.IsLarge(p.consts[v]) {
			return true
		}
	}
	return false
}

// fold evaluates a step whose inputs are all constants.
func (p *Program) fold(st step) error {
	in := make([]*tensor.Tensor, len(st.in))
	for i, v := range st.in {
		if v >= 0 {
			in[i] = p.consts[v]
		}
	}
	out := make([]*tensor.Tensor, len(st.out))
	for i, v := range st.out {
		if v >= 0 {
			out[i] = &tensor.Tensor{}
		}
	}
	if err := runKernel(st, p.ctx, in, out); err != nil {
		return err
	}
	for i, t := range out {
		if t != nil {
			if err := computed(st.node, i, t); err != nil {
				return err
			}
		}
	}
	if p.opts.Policy != nil {
		p.opts.Policy.Output(st.node, out)
	}
	for i, v := range st.out {
		if v >= 0 {
			p.consts[v] = out[i]
		}
	}
	return nil
}

// deferLargeConstNodes moves each node that reads only constants, one of
// them large (ops.IsLarge, so it is not folded: a fake-quantized weight),
// to just before the first node reading its outputs. Topological orders
// put such nodes first, which would keep all their large results alive at
// once; deferred, each result lives only until its consumer has run and
// its buffer serves the next one.
func deferLargeConstNodes(order []*potv1.Node, constant func(string) *tensor.Tensor) []*potv1.Node {
	deferred := map[*potv1.Node]bool{}
	for _, n := range order {
		if len(graph.ImplicitInputs(n)) > 0 {
			continue
		}
		large, all := false, true
		for _, in := range n.GetInputs() {
			if in == "" {
				continue
			}
			t := constant(in)
			if t == nil {
				all = false
				break
			}
			large = large || ops.IsLarge(t)
		}
		if all && large {
			deferred[n] = true
		}
	}
	if len(deferred) == 0 {
		return order
	}
	waiting := map[string][]*potv1.Node{} // output name -> deferred nodes producing it
	for n := range deferred {
		for _, o := range n.GetOutputs() {
			if o != "" {
				waiting[o] = append(waiting[o], n)
			}
		}
	}
	out := make([]*potv1.Node, 0, len(order))
	placed := map[*potv1.Node]bool{}
	for _, n := range order {
		if deferred[n] {
			continue
		}
		reads := append(append([]string(nil), n.GetInputs()...), graph.ImplicitInputs(n)...)
		for _, in := range reads {
			for _, d := range waiting[in] {
				if !placed[d] {
					placed[d] = true
					out = append(out, d)
				}
			}
		}
		out = append(out, n)
	}
	for _, n := range order { // read by no node (graph outputs): last
		if deferred[n] && !placed[n] {
			out = append(out, n)
		}
	}
	return out
}

// planSlots assigns buffers to computed values so that values whose
// lifetimes do not overlap share one.
func (p *Program) planSlots() {
	p.slotOf = make([]int, len(p.names))
	for i := range p.slotOf {
		p.slotOf[i] = -1
	}
	last := make([]int, len(p.names))
	for i := range last {
		last[i] = -1
	}
	for si, st := range p.steps {
		for _, v := range st.in {
			if v >= 0 {
				last[v] = si
			}
		}
	}
	keep := map[int]bool{}
	for _, v := range p.outputs {
		keep[v] = true
	}
	var free []int
	p.release = make([][]int, len(p.steps))
	for si, st := range p.steps {
		outs := st.out
		if st.fuse != nil {
			// A fused step writes the final value: it needs its buffer
			// from this step on, fused or not.
			outs = append(append([]int(nil), outs...), st.fuse.final)
		}
		if st.chain != nil { // so does a chain's first step
			outs = append(append([]int(nil), outs...), st.chain.final)
		}
		for _, v := range outs {
			if v < 0 || p.slotOf[v] >= 0 {
				continue
			}
			if n := len(free); n > 0 && !keep[v] {
				p.slotOf[v] = free[n-1]
				free = free[:n-1]
			} else {
				p.slotOf[v] = p.nslots
				p.nslots++
			}
			if last[v] < 0 && !keep[v] { // never read: free right after
				p.release[si] = append(p.release[si], p.slotOf[v])
			}
		}
		for _, v := range st.in {
			if v >= 0 && last[v] == si && p.slotOf[v] >= 0 && !keep[v] {
				p.release[si] = append(p.release[si], p.slotOf[v])
			}
		}
		free = append(free, p.release[si]...)
	}
}

// Close releases the program's worker goroutines.
func (p *Program) Close() {
	if p.ownCtx {
		p.ctx.Close()
	}
}

// Graph is the compiled graph.
func (p *Program) Graph() *potv1.Graph { return p.graph }

// InputNames lists the inputs a caller feeds, in graph order.
func (p *Program) InputNames() []string {
	out := make([]string, len(p.inputs))
	for i, in := range p.inputs {
		out[i] = in.name
	}
	return out
}

// OutputNames lists the graph outputs.
func (p *Program) OutputNames() []string {
	out := make([]string, len(p.outputs))
	for i, v := range p.outputs {
		out[i] = p.names[v]
	}
	return out
}

// Has reports whether the program computes or holds a value of this
// name, in its graph or in a subgraph at any depth.
func (p *Program) Has(name string) bool {
	if v, ok := p.index[name]; ok && !p.borrowed[v] {
		return true
	}
	_, ok := p.innerAt[name]
	return ok
}

// Session is one run state of a program: the buffers of its values. A
// session is not safe for concurrent use; runs on one session reuse its
// buffers and, at a fixed batch size, do not allocate.
type Session struct {
	p       *Program
	ctx     *ops.Context // the program's, or one thread for a chunk's session
	split   *splitState  // of sample-parallel runs, made on the first
	slots   []*tensor.Tensor
	vals    []*tensor.Tensor
	skip    []bool // per step: done by a fused step of this run
	watch   []bool
	kept    []*tensor.Tensor // copies of watched intermediate values
	keep    bool             // Watch (copies kept) rather than Observe
	onValue func(name string, t *tensor.Tensor) error
	// onSamples is ObserveSamples' fn: set, a sample-parallel program
	// runs batches in chunks with its values observed in each chunk.
	onSamples func(name string, first, n int, t *tensor.Tensor) error
	// first is, in a chunk's session, the index of the chunk's first
	// sample in the batch.
	first   int
	in, out [][]*tensor.Tensor

	// inner lists the watched names that subgraphs compute.
	inner []string
	// control holds, per control-flow step, the sessions of its
	// subprograms and its buffers, made on the step's first run.
	control []*controlState
	// parent is the session of the enclosing program, for a subgraph's
	// session. gen counts the runs; ranAt is the parent's run during
	// which this session last ran.
	parent     *Session
	gen, ranAt uint64
}

// NewSession returns a fresh session.
func (p *Program) NewSession() *Session {
	s := &Session{p: p, ctx: p.ctx, slots: make([]*tensor.Tensor, p.nslots), vals: make([]*tensor.Tensor, len(p.names)),
		skip: make([]bool, len(p.steps)), watch: make([]bool, len(p.names)), kept: make([]*tensor.Tensor, len(p.names))}
	for i := range s.slots {
		s.slots[i] = &tensor.Tensor{}
	}
	s.in = make([][]*tensor.Tensor, len(p.steps))
	s.out = make([][]*tensor.Tensor, len(p.steps))
	s.control = make([]*controlState, len(p.steps))
	for i, st := range p.steps {
		s.in[i] = make([]*tensor.Tensor, len(st.in))
		s.out[i] = make([]*tensor.Tensor, len(st.out))
	}
	return s
}

// AcquireSession returns an idle session of the program, one that a
// caller gave back with Release, or a fresh one. The session is the
// caller's until it calls Release; it starts watching nothing.
func (p *Program) AcquireSession() *Session {
	p.idleMu.Lock()
	defer p.idleMu.Unlock()
	if n := len(p.idle); n > 0 {
		s := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		return s
	}
	return p.NewSession()
}

// Release gives the session back to its program for a later
// AcquireSession, keeping its buffers. The caller must not use it
// afterwards, nor any tensor it returned. The program keeps at most as
// many idle sessions as were ever in use at once.
func (s *Session) Release() {
	s.watchNames(nil, nil, false)
	for i := range s.vals {
		s.vals[i] = nil // the caller's inputs and outputs
	}
	p := s.p
	p.idleMu.Lock()
	p.idle = append(p.idle, s)
	p.idleMu.Unlock()
}

// Watch makes the session keep a copy of every named value when it is
// computed (readable with Value after the run) and, when fn is not nil,
// call fn with it. fn must not keep t: its storage is reused. Watch(nil,
// nil) stops watching.
//
// A value computed inside a subgraph is passed to fn each time the
// subgraph computes it: once per run for the branch of an If that runs,
// once per iteration for the body of a Loop or Scan, never for a branch
// that does not run.
func (s *Session) Watch(names []string, fn func(name string, t *tensor.Tensor) error) error {
	return s.watchChecked(names, fn, true)
}

// Observe is Watch without the copies: the session calls fn with every
// named value when it is computed and keeps nothing, so Value does not
// return intermediate values after the run. Statistics, which only read
// each value as it passes, save a copy of every watched tensor per batch
// this way. Observe(nil, nil) stops watching.
func (s *Session) Observe(names []string, fn func(name string, t *tensor.Tensor) error) error {
	return s.watchChecked(names, fn, false)
}

// watchChecked is watchNames for names the caller gave, refused unless
// the program has them all.
func (s *Session) watchChecked(names []string, fn func(name string, t *tensor.Tensor) error, keep bool) error {
	for _, n := range names {
		if !s.p.Has(n) {
			return fmt.Errorf("no tensor %q in the graph", n)
		}
	}
	s.watchNames(names, fn, keep)
	return nil
}

// ObserveSamples is Observe for readers that take each sample of a value
// apart (per-sample statistics). When the program may run a batch
// sample-parallel (SampleParallel), it does so although values are
// watched: the chunks' sessions call fn concurrently, each with the rows
// of the value that belong to its samples, the index in the batch of its
// first sample (first) and their number (n, the value's first axis).
// Otherwise fn is called as with Observe, once per value with the whole
// batch, first 0 and n 0. fn must be safe for concurrent use and must
// not keep t. ObserveSamples(nil, nil) stops watching.
func (s *Session) ObserveSamples(names []string, fn func(name string, first, n int, t *tensor.Tensor) error) error {
	var whole func(string, *tensor.Tensor) error
	if fn != nil {
		whole = func(name string, t *tensor.Tensor) error { return fn(name, 0, 0, t) }
	}
	if err := s.Observe(names, whole); err != nil {
		return err
	}
	s.onSamples = fn
	return nil
}

// watchNames is Watch (keep) or Observe for names the program has or
// borrows; the names it borrows are watched by the sessions of enclosing
// programs.
func (s *Session) watchNames(names []string, fn func(name string, t *tensor.Tensor) error, keep bool) {
	clear(s.watch)
	s.onValue = fn
	s.onSamples = nil
	s.keep = keep
	s.inner = s.inner[:0]
	for _, n := range names {
		if v, ok := s.p.index[n]; ok {
			if s.p.borrowed[v] {
				continue
			}
			s.watch[v] = true
			if keep && s.kept[v] == nil && s.p.slotOf[v] >= 0 && !s.p.isOutput(v) {
				s.kept[v] = &tensor.Tensor{}
			}
			continue
		}
		if _, ok := s.p.innerAt[n]; ok {
			s.inner = append(s.inner, n)
		}
	}
	for _, cs := range s.control {
		if cs != nil {
			for _, sub := range cs.subs {
				sub.watchNames(s.inner, fn, keep)
			}
		}
	}
}

// controlState returns the state of control-flow step si, making it on
// first use.
func (s *Session) controlState(si int, k controlKernel) *controlState {
	if cs := s.control[si]; cs != nil {
		return cs
	}
	cs := newControlState(k)
	for _, sub := range cs.subs {
		sub.parent = s
		sub.watchNames(s.inner, s.onValue, s.keep)
	}
	s.control[si] = cs
	return cs
}

// Run executes the program on inputs given in InputNames order (a nil
// entry uses the input's default initializer).
func (s *Session) Run(ctx context.Context, inputs []*tensor.Tensor) error {
	p := s.p
	if len(inputs) != len(p.inputs) {
		return fmt.Errorf("got %d inputs, the graph has %d (%s)", len(inputs), len(p.inputs), strings.Join(p.InputNames(), ", "))
	}
	s.gen++
	for i, c := range p.consts {
		s.vals[i] = c
	}
	for i, spec := range p.inputs {
		t := inputs[i]
		if t == nil {
			t = spec.def
		}
		if t == nil {
			return fmt.Errorf("input %q is not given", spec.name)
		}
		if err := checkInput(spec, t); err != nil {
			return err
		}
		s.vals[spec.value] = t
	}
	if n, ok := s.splits(); ok {
		return s.runSplit(ctx, n)
	}
	return s.exec(ctx)
}

// runSub runs a subgraph's program: inputs are its formal inputs (a Loop
// or Scan body's), step the inputs of the control-flow step, which hold
// the values it captures.
func (s *Session) runSub(ctx context.Context, inputs, step []*tensor.Tensor) error {
	p := s.p
	if len(inputs) != len(p.inputs) {
		return fmt.Errorf("subgraph %q: got %d inputs, it has %d (%s)", p.graph.GetName(), len(inputs), len(p.inputs), strings.Join(p.InputNames(), ", "))
	}
	s.gen++
	if s.parent != nil {
		s.ranAt = s.parent.gen
	}
	for i, c := range p.consts {
		s.vals[i] = c
	}
	for i, spec := range p.inputs {
		t := inputs[i]
		if t == nil {
			return fmt.Errorf("subgraph %q: input %q is not given", p.graph.GetName(), spec.name)
		}
		if want := tensor.DType(spec.info.GetDtype()); want != tensor.Undefined && want != t.DType {
			return fmt.Errorf("subgraph %q: input %q: got %v, the graph wants %v", p.graph.GetName(), spec.name, t.DType, want)
		}
		s.vals[spec.value] = t
	}
	for _, c := range p.captures {
		t := step[c.from]
		if t == nil {
			return fmt.Errorf("subgraph %q: value %q of the enclosing graph has no value", p.graph.GetName(), p.names[c.value])
		}
		s.vals[c.value] = t
	}
	return s.exec(ctx)
}

// output returns the value of output i of the program after a run.
func (s *Session) output(i int) *tensor.Tensor { return s.vals[s.p.outputs[i]] }

// exec runs the steps on the bound inputs.
func (s *Session) exec(ctx context.Context) error {
	p := s.p
	if s.onValue != nil {
		for v, w := range s.watch {
			if w && s.vals[v] != nil && s.p.slotOf[v] < 0 {
				if err := s.onValue(p.names[v], s.vals[v]); err != nil {
					return err
				}
			}
		}
	}
	clear(s.skip)
	for si, st := range p.steps {
		if si&15 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if s.skip[si] {
			continue
		}
		in, out := s.in[si], s.out[si]
		for i, v := range st.in {
			if v < 0 {
				in[i] = nil
				continue
			}
			in[i] = s.vals[v]
			if in[i] == nil {
				return nodeError(st.node, fmt.Errorf("input %q has no value", p.names[v]))
			}
		}
		if c := st.chain; c != nil && !s.watchesAny(c.inner) {
			final := s.slots[p.slotOf[c.final]]
			if c.kernel.Run(s.ctx, s.vals[c.source], final) {
				s.vals[c.final] = final
				for _, k := range c.skip {
					s.skip[k] = true
				}
				if err := s.watched(c.final, final); err != nil {
					return err
				}
				continue
			}
		}
		if f := st.fuse; f != nil && !s.watchesAny(f.inner) {
			final := s.slots[p.slotOf[f.final]]
			out[0] = final // a fusing step has one output
			act := f.act
			if f.add >= 0 {
				act.Add = s.vals[f.add]
			}
			fused, err := runFused(st, s.ctx, in, out, act)
			if err != nil {
				return nodeError(st.node, err)
			}
			if fused {
				s.vals[f.final] = final
				for _, k := range f.skip {
					s.skip[k] = true
				}
				if err := s.watched(f.final, final); err != nil {
					return err
				}
				continue
			}
		}
		for i, v := range st.out {
			if v < 0 {
				out[i] = nil
				continue
			}
			out[i] = s.slots[p.slotOf[v]]
			s.vals[v] = out[i]
		}
		if ck, ok := st.kernel.(controlKernel); ok {
			// The subgraphs' nodes are under the policy; the step only
			// moves their values.
			if err := runControl(ctx, ck, s.controlState(si, ck), in, out); err != nil {
				return nodeError(st.node, err)
			}
		} else {
			if err := runKernel(st, s.ctx, in, out); err != nil {
				return nodeError(st.node, err)
			}
			if p.opts.Policy != nil {
				p.opts.Policy.Output(st.node, out)
			}
		}
		for i, v := range st.out {
			if v >= 0 {
				if err := computed(st.node, i, out[i]); err != nil {
					return err
				}
				if err := s.watched(v, out[i]); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkOutputs refuses a node without its first output: every operator
// computes it, and kernels write it unconditionally, but the recurrent
// ones, whose outputs are all optional.
func checkOutputs(n *potv1.Node) error {
	switch n.GetOpType() {
	case "LSTM", "GRU", "RNN":
		return nil
	}
	if len(n.GetOutputs()) == 0 || n.GetOutputs()[0] == "" {
		return fmt.Errorf("node %q (%s) has no first output", n.GetName(), n.GetOpType())
	}
	return nil
}

// computed checks that a step gave its output i a value: a node may
// declare more outputs than its operator has, and the readers of such
// an output must not see an empty tensor (or, once its buffer is reused,
// another value).
func computed(n *potv1.Node, i int, t *tensor.Tensor) error {
	if t.DType == tensor.Undefined {
		return fmt.Errorf("node %q (%s): output %d (%q) is not computed: %s has fewer outputs", n.GetName(), n.GetOpType(), i, n.GetOutputs()[i], n.GetOpType())
	}
	return nil
}

// watched keeps a copy of value v (t) and passes it to the callback when
// the session watches it.
func (s *Session) watched(v int, t *tensor.Tensor) error {
	if !s.watch[v] {
		return nil
	}
	if k := s.kept[v]; k != nil && s.keep {
		k.CopyFrom(t)
	}
	if s.onValue != nil {
		return s.onValue(s.p.names[v], t)
	}
	return nil
}

// watchesAny reports whether the session watches one of the values.
func (s *Session) watchesAny(vs []int) bool {
	for _, v := range vs {
		if s.watch[v] {
			return true
		}
	}
	return false
}

// newKernel builds a node's kernel, turning a panic of the factory (a
// bug on some unforeseen attribute) into an error as runKernel does.
func newKernel(f ops.Factory, n *ops.Node) (k ops.Kernel, err error) {
	defer kernelPanic(&err)
	return f(n)
}

// runKernel runs one kernel and turns a panic (a kernel bug on some
// unforeseen shape) into an error, so that one bad node cannot take down
// a plugin process.
func runKernel(st step, ctx *ops.Context, in, out []*tensor.Tensor) (err error) {
	defer kernelPanic(&err)
	return st.kernel.Run(ctx, in, out)
}

// kernelPanic, deferred, turns a kernel's panic into *err: a tensor the
// runtime refuses to allocate (*tensor.SizeError) as itself, anything
// else as a kernel failure.
func kernelPanic(err *error) {
	if r := recover(); r != nil {
		if se, ok := r.(*tensor.SizeError); ok {
			*err = se
			return
		}
		*err = fmt.Errorf("kernel failed: %v", r)
	}
}

// runFused runs a step with its fused activation, its output being the
// fusion's final value, as runKernel runs a step.
func runFused(st step, ctx *ops.Context, in, out []*tensor.Tensor, act ops.Activation) (fused bool, err error) {
	defer kernelPanic(&err)
	return st.kernel.(ops.ActivationFuser).RunActivated(ctx, in, out, act)
}

// runControl runs a control-flow step as runKernel runs a step.
func runControl(ctx context.Context, k controlKernel, cs *controlState, in, out []*tensor.Tensor) (err error) {
	defer kernelPanic(&err)
	return k.run(ctx, cs, in, out)
}

func checkInput(spec inputSpec, t *tensor.Tensor) error {
	info := spec.info
	if info == nil {
		return nil
	}
	if want := tensor.DType(info.GetDtype()); want != tensor.Undefined && want != t.DType {
		return fmt.Errorf("input %q: got %v, the model wants %v", spec.name, t.DType, want)
	}
	if !info.GetHasShape() {
		return nil
	}
	dims := info.GetShape()
	if len(dims) != len(t.Shape) {
		return fmt.Errorf("input %q: got shape %v, the model wants %s", spec.name, t.Shape, FormatShape(dims))
	}
	for i, d := range dims {
		if sz, ok := d.GetValue().(*potv1.Dim_Size); ok && sz.Size > 0 && int(sz.Size) != t.Shape[i] {
			return fmt.Errorf("input %q: got shape %v, the model wants %s", spec.name, t.Shape, FormatShape(dims))
		}
	}
	return nil
}

// FormatShape prints a shape with symbolic dimensions, like [N 1 28 28].
func FormatShape(dims []*potv1.Dim) string { return graph.FormatDims(dims) }

// Value returns the value of a named tensor after a run, valid until the
// next run: graph outputs, inputs, constants and watched values; nil for
// other intermediate values, whose buffers are reused during the run. A
// watched value of a subgraph is the last one the subgraph computed
// during the run (the last iteration's for a loop body), nil when the
// subgraph did not run.
func (s *Session) Value(name string) *tensor.Tensor {
	v, ok := s.p.index[name]
	if !ok || s.p.borrowed[v] {
		ref, ok := s.p.innerAt[name]
		if !ok {
			return nil
		}
		cs := s.control[ref.step]
		if cs == nil {
			return nil
		}
		sub := cs.subs[ref.sub]
		if sub.ranAt != s.gen || sub.gen == 0 {
			return nil
		}
		return sub.Value(name)
	}
	if k := s.kept[v]; k != nil && s.watch[v] && s.keep {
		return k
	}
	if s.p.slotOf[v] >= 0 && !s.p.isOutput(v) {
		return nil
	}
	return s.vals[v]
}

func (p *Program) isOutput(v int) bool {
	for _, o := range p.outputs {
		if o == v {
			return true
		}
	}
	return false
}

// Run executes the program once on named inputs and returns copies of the
// requested tensors (the graph outputs when names is empty).
func (p *Program) Run(ctx context.Context, inputs map[string]*tensor.Tensor, names ...string) (map[string]*tensor.Tensor, error) {
	s := p.AcquireSession()
	defer s.Release()
	in := make([]*tensor.Tensor, len(p.inputs))
	for i, spec := range p.inputs {
		in[i] = inputs[spec.name]
	}
	for name := range inputs {
		if v, ok := p.index[name]; !ok || !p.isInput(v) {
			return nil, fmt.Errorf("%q is not an input of the graph (inputs: %s)", name, strings.Join(p.InputNames(), ", "))
		}
	}
	if len(names) == 0 {
		names = p.OutputNames()
	}
	if err := s.Watch(names, nil); err != nil {
		return nil, err
	}
	defer s.Watch(nil, nil)
	if err := s.Run(ctx, in); err != nil {
		return nil, err
	}
	res := map[string]*tensor.Tensor{}
	for _, name := range names {
		v := s.Value(name)
		if v == nil {
			return nil, fmt.Errorf("tensor %q was not computed: the subgraph that computes it did not run", name)
		}
		res[name] = v.Clone()
	}
	return res, nil
}

func (p *Program) isInput(v int) bool {
	for _, in := range p.inputs {
		if in.value == v {
			return true
		}
	}
	return false
}
