package cpu

import (
	"fmt"
	"math"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// Lowering turns a graph and a plan into the graph the cpu target runs.
type Lowering struct {
	// ISA is the accumulation model, ISAVNNI or ISAAVX2 (empty: the
	// host's).
	ISA string
}

// Lower applies the plan (plan.Apply) and lowers the quantized
// operators to integer ones (see the package documentation). A graph
// without quantizers stays float32. g is not modified.
func (l Lowering) Lower(g *potv1.Graph, p *potv1.QuantizationPlan) (*plan.Applied, error) {
	return l.LowerKeeping(g, p, nil)
}

// LowerKeeping is Lower for a request that also reads the tensors keep
// (names of g): they stay computed, in float, so that no integer kernel
// fuses them away (see engine.Config.LowerKeeping).
func (l Lowering) LowerKeeping(g *potv1.Graph, p *potv1.QuantizationPlan, keep []string) (*plan.Applied, error) {
	isa, err := ParseISA(l.ISA)
	if err != nil {
		return nil, err
	}
	a, err := plan.Apply(g, p)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, k := range keep {
		names = append(names, k, a.Source(k))
	}
	if err := lowerGraph(a.Graph, isa, names); err != nil {
		return nil, fmt.Errorf("cpu: %w", err)
	}
	return a, nil
}

// shapeOps carry levels unchanged to a matrix product: they only move
// or select elements.
var shapeOps = map[string]bool{"MaxPool": true, "Flatten": true, "Reshape": true, "Squeeze": true, "Unsqueeze": true, "Identity": true}

// job is one Conv, Gemm or MatMul to run in integer arithmetic.
type job struct {
	node   *potv1.Node
	matmul bool
	w      []int8 // [M, C/group, KH, KW] or [M, K]
	wShape []int
	wScale []float32 // per output channel (or one)
	M      int
	group  int
	in     *actQuant
	chain  []*potv1.Node // shape ops from in.out to the node's input
	bias   []float32     // float bias per output channel (nil: none)
	alpha  float64
	out    *actQuant   // requantization target, or nil (float output)
	act    *potv1.Node // fused Relu or Clip
	lo, hi float32     // its bounds
	// hswish is a fused hard-swish (its HardSigmoid and Mul), computed
	// in float32 between the accumulators and the levels of out.
	hswish          []*potv1.Node
	hsAlpha, hsBeta float32 // the HardSigmoid's
	// leaky is a fused LeakyRelu (slope lrAlpha), computed in float32
	// between the accumulators and the levels of out.
	leaky   *potv1.Node
	lrAlpha float32
}

// lutJob is an element-wise operator lowered to a QLut from the levels
// of in to those of out.
type lutJob struct{ in, out *actQuant }

type lowerer struct {
	*index
	isa   string
	aqs   map[string]*actQuant // by float output
	order []*actQuant          // the quantizers found, in order
	jobs  []*job
	adds  []*addJob
	luts  []lutJob
	chain map[string]string // original chain node output -> levels copy
	added []*potv1.Node
	drop  map[*potv1.Node]bool
}

// lowerGraph lowers g and its subgraphs in place; the tensors keep are
// treated as outputs.
func lowerGraph(g *potv1.Graph, isa string, keep []string) error {
	return lowerScope(newIndex(g), isa, keep)
}

// lowerScope lowers the subgraphs of x's graph, then the graph itself: a
// value its subgraphs read after their lowering stays computed, as an
// output does. Integer operators do not cross scopes: a subgraph's layer
// is lowered with the quantizers of its own graph.
func lowerScope(x *index, isa string, keep []string) error {
	g := x.g
	for _, n := range g.Nodes {
		for _, sg := range graph.Subgraphs(n) {
			if err := lowerScope(x.child(sg), isa, keep); err != nil {
				return fmt.Errorf("subgraph %q of node %q: %w", sg.GetName(), n.GetName(), err)
			}
		}
	}
	for _, n := range g.Nodes {
		for _, v := range graph.ImplicitInputs(n) {
			x.outputs[v] = true
		}
	}
	l := &lowerer{index: x, isa: isa, aqs: map[string]*actQuant{}, chain: map[string]string{}, drop: map[*potv1.Node]bool{}}
	for _, k := range keep {
		l.outputs[k] = true
	}
	for _, n := range append([]*potv1.Node(nil), g.Nodes...) {
		if !graph.IsONNX(n) {
			continue
		}
		var j *job
		switch n.GetOpType() {
		case "Conv":
			j = l.planConv(n)
		case "Gemm", "MatMul":
			j = l.planMatMul(n)
		}
		if j != nil {
			l.planOutput(j)
			l.jobs = append(l.jobs, j)
		}
	}
	if len(l.jobs) == 0 {
		return nil
	}
	// Adds of two quantized activations, once integer operators run the
	// layers around them.
	for _, n := range append([]*potv1.Node(nil), g.Nodes...) {
		if graph.IsONNX(n) && n.GetOpType() == "Add" {
			if j := l.planAdd(n); j != nil {
				l.adds = append(l.adds, j)
			}
		}
	}
	for _, j := range l.jobs {
		if err := l.emit(j); err != nil {
			return fmt.Errorf("node %q: %w", j.node.GetName(), err)
		}
	}
	for _, j := range l.adds {
		l.emitAdd(j)
	}
	// Element-wise operators between two quantizers whose input levels
	// an integer operator writes, in graph order (a table's output may
	// feed the next).
	if lutOps {
		for _, n := range append([]*potv1.Node(nil), g.Nodes...) {
			l.planLut(n)
		}
	}
	l.finish()
	return nil
}

func (l *lowerer) actQuant(t string) *actQuant {
	if q, ok := l.aqs[t]; ok {
		return q
	}
	q := l.findActQuant(t)
	l.aqs[t] = q
	if q != nil {
		l.order = append(l.order, q)
	}
	return q
}

// traceInput follows shape ops back from t to an activation quantizer.
// A quantizer whose input comes through shape ops from another quantizer
// with the same grid only repeats its levels: the trace goes on to that
// one, so that the levels flow through the shape ops.
func (l *lowerer) traceInput(t string, allowed map[string]bool) (*actQuant, []*potv1.Node) {
	var chain []*potv1.Node
	for depth := 0; depth < 8; depth++ {
		if q := l.actQuant(t); q != nil {
			for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
				chain[i], chain[j] = chain[j], chain[i]
			}
			if q0, chain0 := l.traceInput(q.in, allowed); q0 != nil && sameGrid(q, q0) && len(chain0) > 0 {
				return q0, append(chain0, chain...)
			}
			return q, chain
		}
		p := l.ix.Producer(t)
		if p == nil || !graph.IsONNX(p) || !allowed[p.GetOpType()] || len(p.GetInputs()) == 0 {
			return nil, nil
		}
		if len(p.GetOutputs()) != 1 || p.GetOpType() == "MaxPool" && graph.AttrInt(p, "storage_order", 0) != 0 {
			return nil, nil
		}
		for _, in := range p.GetInputs()[1:] {
			if in != "" && l.constant(in) == nil {
				return nil, nil
			}
		}
		chain = append(chain, p)
		t = p.Inputs[0]
	}
	return nil, nil
}

// sameGrid reports whether two per-tensor quantizers have the same levels.
func sameGrid(a, b *actQuant) bool {
	return !a.perChannel() && !b.perChannel() && a.levels == b.levels && a.scale[0] == b.scale[0] &&
		a.outScale[0] == b.outScale[0] && a.zp[0] == b.zp[0] && a.scale[0] == a.outScale[0]
}

func (l *lowerer) planConv(n *potv1.Node) *job {
	if len(n.GetInputs()) < 2 || len(n.GetOutputs()) != 1 {
		return nil
	}
	w := l.findWeights(n.Inputs[1])
	if w == nil || (len(w.shape) != 4 && len(w.shape) != 3) || (len(w.scale) > 1 && w.axis != 0) {
		return nil
	}
	M, cg := w.shape[0], w.shape[1]
	group := int(graph.AttrInt(n, "group", 1))
	if group < 1 || group > 1 && (cg != 1 || M%group != 0) {
		return nil
	}
	in, chain := l.traceInput(n.Inputs[0], map[string]bool{"MaxPool": true, "Identity": true})
	if in == nil || in.perChannel() && (group == 1 || len(in.scale) != group) {
		return nil
	}
	j := &job{node: n, w: w.values, wShape: w.shape, wScale: w.scale, M: M, group: group, in: in, chain: chain, alpha: 1}
	if len(n.Inputs) > 2 && n.Inputs[2] != "" {
		b, _, ok := l.floats(n.Inputs[2])
		if !ok || len(b) != M {
			return nil
		}
		j.bias = b
	}
	if !l.biasFits(j) {
		return nil
	}
	return j
}

func (l *lowerer) planMatMul(n *potv1.Node) *job {
	if len(n.GetInputs()) < 2 || len(n.GetOutputs()) != 1 {
		return nil
	}
	w := l.findWeights(n.Inputs[1])
	if w == nil || len(w.shape) != 2 {
		return nil
	}
	gemm := n.GetOpType() == "Gemm"
	transB := gemm && graph.AttrInt(n, "transB", 0) != 0
	if gemm && graph.AttrInt(n, "transA", 0) != 0 {
		return nil
	}
	// The output channel axis of the weights: rows with transB, else
	// columns.
	chAxis := 1
	if transB {
		chAxis = 0
	}
	if len(w.scale) > 1 && w.axis != chAxis {
		return nil
	}
	in, chain := l.traceInput(n.Inputs[0], shapeOps)
	if in == nil || in.perChannel() {
		return nil
	}
	K, M := w.shape[0], w.shape[1]
	vals := w.values
	if transB {
		M, K = K, M
	} else {
		vals = make([]int8, len(w.values))
		for k := 0; k < K; k++ {
			for m := 0; m < M; m++ {
				vals[m*K+k] = w.values[k*M+m]
			}
		}
	}
	j := &job{node: n, matmul: true, w: vals, wShape: []int{M, K}, wScale: w.scale, M: M, group: 1, in: in, chain: chain, alpha: 1}
	if gemm {
		j.alpha = float64(graph.AttrFloat(n, "alpha", 1))
		if !(j.alpha > 0) {
			return nil
		}
		if len(n.Inputs) > 2 && n.Inputs[2] != "" {
			c, shape, ok := l.floats(n.Inputs[2])
			if !ok || len(c) != 1 && (len(c) != M || len(shape) > 1 && shape[len(shape)-1] != M) {
				return nil
			}
			beta := graph.AttrFloat(n, "beta", 1)
			j.bias = make([]float32, M)
			for m := range j.bias {
				j.bias[m] = beta * c[min(m, len(c)-1)]
			}
		}
	}
	if !l.biasFits(j) {
		return nil
	}
	return j
}

// accScale64 is the real value of one accumulator unit of channel m.
func (j *job) accScale64(m int) float64 {
	c := 0
	if j.in.perChannel() {
		c = m / (j.M / j.group)
	}
	return float64(j.in.outScale[c]) * float64(j.wScale[min(m, len(j.wScale)-1)]) * j.alpha
}

// biasFits checks that the int32 bias (plus the zero-point correction)
// stays far from int32 overflow.
func (l *lowerer) biasFits(j *job) bool {
	for m := 0; m < j.M; m++ {
		if !(j.accScale64(m) > 0) {
			return false
		}
		if j.bias != nil && math.Abs(float64(j.bias[m])/j.accScale64(m)) > 1<<29 {
			return false
		}
	}
	return true
}

// fuseLeakyReLU enables the fused LeakyRelu output stage; tests turn it
// off to compare with the unfused graph (QConv to float, LeakyRelu,
// QLevels), whose levels the fused stage must give bit for bit.
var fuseLeakyReLU = true

// planOutput looks for the activation quantizer the output goes into,
// directly or through Relu or Clip, to requantize to it, or through a
// hard-swish or a LeakyRelu, computed in float32 in the output stage.
func (l *lowerer) planOutput(j *job) {
	j.lo, j.hi = float32(math.Inf(-1)), float32(math.Inf(1))
	fits := func(q *actQuant) bool { return q != nil && !(q.perChannel() && (j.matmul || len(q.scale) != j.M)) }
	q, act, lo, hi := l.outputQuant(j.node.Outputs[0])
	if fits(q) {
		j.out, j.act, j.lo, j.hi = q, act, lo, hi
		return
	}
	if hs, mul, ok := l.hardSwish(j.node.Outputs[0]); ok {
		if q := l.quantAfter(mul.Outputs[0]); fits(q) {
			j.out, j.hswish = q, []*potv1.Node{hs, mul}
			j.hsAlpha, j.hsBeta = ops.HardSigmoidAttrs(hs)
		}
		return
	}
	// A LeakyRelu is not a clamp of the levels: it runs in float32 in
	// the output stage (kernels.QLeakyReLU), as the unfused graph would.
	if lr := l.single(j.node.Outputs[0]); fuseLeakyReLU && lr != nil && graph.IsONNX(lr) && lr.GetOpType() == "LeakyRelu" &&
		len(lr.GetInputs()) == 1 && len(lr.GetOutputs()) == 1 {
		if q := l.quantAfter(lr.Outputs[0]); fits(q) {
			j.out, j.leaky = q, lr
			j.lrAlpha = graph.AttrFloat(lr, "alpha", ops.LeakyReluAlpha)
		}
	}
}

// hardSwish recognizes o read by exactly a HardSigmoid and the Mul of o
// by that HardSigmoid's output (hard-swish as exported from PyTorch).
func (l *lowerer) hardSwish(o string) (hs, mul *potv1.Node, ok bool) {
	if l.outputs[o] || len(l.ix.Consumers(o)) != 2 {
		return nil, nil, false
	}
	for _, p := range l.ix.Consumers(o) {
		if c := p.Node; graph.IsONNX(c) && c.GetOpType() == "HardSigmoid" && len(c.GetInputs()) == 1 && len(c.GetOutputs()) == 1 {
			hs = c
		}
	}
	if hs == nil {
		return nil, nil, false
	}
	mul = l.single(hs.Outputs[0])
	if mul == nil || !graph.IsONNX(mul) || mul.GetOpType() != "Mul" || len(mul.GetInputs()) != 2 || len(mul.GetOutputs()) != 1 {
		return nil, nil, false
	}
	in := mul.GetInputs()
	if !(in[0] == o && in[1] == hs.Outputs[0] || in[1] == o && in[0] == hs.Outputs[0]) {
		return nil, nil, false
	}
	return hs, mul, true
}

// outputQuant finds the quantizer that t goes into as its only reader,
// possibly through a Relu or a Clip with constant bounds (act, with its
// clamp [lo, hi]).
func (l *lowerer) outputQuant(o string) (q *actQuant, act *potv1.Node, lo, hi float32) {
	lo, hi = float32(math.Inf(-1)), float32(math.Inf(1))
	next := l.single(o)
	if next == nil {
		return nil, nil, lo, hi
	}
	if graph.IsONNX(next) && (next.GetOpType() == "Relu" || next.GetOpType() == "Clip") && next.Inputs[0] == o && len(next.GetOutputs()) == 1 {
		alo, ahi, ok := l.actBounds(next)
		if !ok {
			return nil, nil, lo, hi
		}
		act, o, lo, hi = next, next.Outputs[0], alo, ahi
	}
	if q = l.quantAfter(o); q == nil {
		return nil, nil, float32(math.Inf(-1)), float32(math.Inf(1))
	}
	return q, act, lo, hi
}

// quantAfter returns the activation quantizer that t goes into as its
// only reader (a FakeQuantize, or a QuantizeLinear-DequantizeLinear
// pair), when no integer operator writes its levels yet.
func (l *lowerer) quantAfter(t string) *actQuant {
	next := l.single(t)
	if next == nil {
		return nil
	}
	var q *actQuant
	switch {
	case next.GetDomain() == plan.FakeQuantizeDomain && next.GetOpType() == plan.FakeQuantizeOp:
		q = l.actQuant(next.Outputs[0])
	case graph.IsONNX(next) && next.GetOpType() == "QuantizeLinear" && len(l.ix.Consumers(next.Outputs[0])) == 1:
		q = l.actQuant(l.ix.Consumers(next.Outputs[0])[0].Node.Outputs[0])
	}
	if q == nil || q.in != t || q.producedBy != nil {
		return nil
	}
	return q
}

// addJob is an Add of two quantized activations whose sum goes into a
// quantizer: it becomes QAdd.
type addJob struct {
	node   *potv1.Node
	a, b   *actQuant
	out    *actQuant
	act    *potv1.Node
	lo, hi float32
	op     *potv1.Node
}

func (l *lowerer) planAdd(n *potv1.Node) *addJob {
	if len(n.GetInputs()) != 2 || len(n.GetOutputs()) != 1 {
		return nil
	}
	a, b := l.actQuant(n.Inputs[0]), l.actQuant(n.Inputs[1])
	if a == nil || b == nil || a.perChannel() || b.perChannel() {
		return nil
	}
	q, act, lo, hi := l.outputQuant(n.Outputs[0])
	if q == nil || q.perChannel() {
		return nil
	}
	return &addJob{node: n, a: a, b: b, out: q, act: act, lo: lo, hi: hi}
}

func (l *lowerer) emitAdd(j *addJob) {
	base := j.node.GetName() + "/q"
	scalarF := func(name string, v float32) string {
		return l.addInit(base+"/"+name, tensor.From([]int{1}, []float32{v}))
	}
	scalarI := func(name string, v int32) string { return l.addInit(base+"/"+name, tensor.From([]int{1}, []int32{v})) }
	op := &potv1.Node{Name: l.names.Name(j.node.GetName() + "/int8"), OpType: "QAdd", Domain: ops.DomainPot,
		Inputs: []string{l.levelsOf(j.a), scalarI("a_zero_point", j.a.zp[0]), scalarF("a_scale", j.a.outScale[0]),
			l.levelsOf(j.b), scalarI("b_zero_point", j.b.zp[0]), scalarF("b_scale", j.b.outScale[0]),
			scalarF("y_scale", j.out.scale[0]), scalarI("y_zero_point", j.out.zp[0])},
		Outputs:    []string{l.levelsOf(j.out)},
		Attributes: []*potv1.Attribute{graph.IntAttr("levels", int64(j.out.levels))}}
	if !math.IsInf(float64(j.lo), -1) {
		op.Attributes = append(op.Attributes, graph.FloatAttr("act_min", j.lo))
	}
	if !math.IsInf(float64(j.hi), 1) {
		op.Attributes = append(op.Attributes, graph.FloatAttr("act_max", j.hi))
	}
	j.out.producedBy = op
	j.op = op
	l.drop[j.node] = true
	if j.act != nil {
		l.drop[j.act] = true
	}
	l.added = append(l.added, op)
}

// single returns the only reader of t, or nil when t has several, none,
// or is a graph output.
func (l *lowerer) single(t string) *potv1.Node {
	if l.outputs[t] || len(l.ix.Consumers(t)) != 1 {
		return nil
	}
	return l.ix.Consumers(t)[0].Node
}

// actBounds returns the clamp of a Relu or a Clip with constant bounds.
func (l *lowerer) actBounds(n *potv1.Node) (lo, hi float32, ok bool) {
	if n.GetOpType() == "Relu" {
		return 0, float32(math.Inf(1)), true
	}
	lo, hi = float32(math.Inf(-1)), float32(math.Inf(1))
	if l.opsetOf(n) < 11 {
		if graph.HasAttr(n, "min") {
			lo = graph.AttrFloat(n, "min", lo)
		}
		if graph.HasAttr(n, "max") {
			hi = graph.AttrFloat(n, "max", hi)
		}
		return lo, hi, true
	}
	for i, dst := range []*float32{&lo, &hi} {
		if len(n.Inputs) > i+1 && n.Inputs[i+1] != "" {
			v, _, ok := l.floats(n.Inputs[i+1])
			if !ok || len(v) != 1 {
				return 0, 0, false
			}
			*dst = v[0]
		}
	}
	return lo, hi, true
}

// levelsOf returns the levels tensor of q, creating its QLevels producer
// when no integer operator writes it.
func (l *lowerer) levelsOf(q *actQuant) string {
	if q.levelsName == "" {
		q.levelsName = l.names.Name(q.out + "/levels")
	}
	return q.levelsName
}

// emit adds the integer operator of a job and marks what it replaces.
func (l *lowerer) emit(j *job) error {
	n := j.node
	in := l.levelsOf(j.in)
	for _, c := range j.chain {
		if name, ok := l.chain[c.GetName()]; ok {
			in = name
			continue
		}
		out := l.names.Name(c.Outputs[0] + "/levels")
		cp := &potv1.Node{Name: l.names.Name(c.GetName() + "/levels"), OpType: c.GetOpType(), Domain: c.GetDomain(),
			Attributes: c.GetAttributes(), Inputs: append([]string{in}, c.Inputs[1:]...), Outputs: []string{out}}
		l.added = append(l.added, cp)
		l.chain[c.GetName()] = out
		in = out
	}
	if len(j.chain) > 0 {
		j.in.standard = true
	}
	M := j.M
	wt := tensor.From(j.wShape, j.w)
	bias := make([]int32, M)
	acc := make([]float32, M)
	for m := range bias {
		s := j.accScale64(m)
		acc[m] = float32(s)
		if j.bias != nil {
			bias[m] = int32(math.RoundToEven(float64(j.bias[m]) / s))
		}
	}
	xzp := j.in.zp
	base := n.GetName() + "/q"
	inputs := []string{in, l.addInit(base+"/w", wt), l.addInit(base+"/b", tensor.From([]int{M}, bias)),
		l.addInit(base+"/x_zero_point", tensor.From([]int{len(xzp)}, append([]int32(nil), xzp...))),
		l.addInit(base+"/acc_scale", tensor.From([]int{M}, acc))}
	op := &potv1.Node{Name: l.names.Name(n.GetName() + "/int8"), Domain: ops.DomainPot, Inputs: inputs}
	if j.matmul {
		op.OpType = "QMatMul"
	} else {
		op.OpType = "QConv"
		for _, a := range n.GetAttributes() {
			op.Attributes = append(op.Attributes, a)
		}
	}
	op.Attributes = append(op.Attributes, graph.StringAttr("isa", l.isa))
	if q := j.out; q != nil {
		ys := append([]float32(nil), q.scale...)
		yz := append([]int32(nil), q.zp...)
		bounds := make([]int32, 0, 2*len(ys))
		for c := range ys {
			lo, hi := int32(0), int32(q.levels-1)
			if !math.IsInf(float64(j.lo), -1) {
				lo = max(lo, bandLevel(j.lo, ys[c], yz[c], q.levels))
			}
			if !math.IsInf(float64(j.hi), 1) {
				hi = min(hi, bandLevel(j.hi, ys[c], yz[c], q.levels))
			}
			if lo > hi {
				return fmt.Errorf("fused activation leaves no level: [%d, %d]", lo, hi)
			}
			bounds = append(bounds, lo, hi)
		}
		bshape := []int{2}
		if len(ys) > 1 {
			bshape = []int{len(ys), 2}
		}
		op.Inputs = append(op.Inputs, l.addInit(base+"/y_scale", tensor.From([]int{len(ys)}, ys)),
			l.addInit(base+"/y_zero_point", tensor.From([]int{len(yz)}, yz)),
			l.addInit(base+"/y_bounds", tensor.From(bshape, bounds)))
		op.Outputs = []string{l.levelsOf(q)}
		q.producedBy = op
		if j.matmul {
			q.standard = true
		}
		l.drop[j.node] = true
		if j.act != nil {
			l.drop[j.act] = true
		}
		if j.hswish != nil {
			op.Attributes = append(op.Attributes, graph.StringAttr("act", "hard_swish"), graph.FloatAttr("act_alpha", j.hsAlpha), graph.FloatAttr("act_beta", j.hsBeta))
			for _, n := range j.hswish {
				l.drop[n] = true
			}
		}
		if j.leaky != nil {
			op.Attributes = append(op.Attributes, graph.StringAttr("act", "leaky_relu"), graph.FloatAttr("act_alpha", j.lrAlpha))
			l.drop[j.leaky] = true
		}
	} else {
		op.Outputs = []string{n.Outputs[0]}
		l.drop[n] = true
	}
	j.in.consumers = append(j.in.consumers, op)
	if j.matmul && len(j.chain) == 0 {
		j.in.standard = true
	}
	l.added = append(l.added, op)
	return nil
}

// bandLevel is the level a float bound v maps to, as QLevels computes it.
func bandLevel(v, scale float32, zp int32, levels int) int32 {
	r := float64(ops.RoundHalfEven(v/scale)) + float64(zp)
	return int32(math.Min(math.Max(r, 0), float64(levels-1)))
}

// finish replaces every quantizer whose levels exist by QLevels (unless
// an integer operator writes them) and QDequantize (for float readers;
// removed below when there are none), sets the layouts, and removes what
// is dead.
func (l *lowerer) finish() {
	// The levels of a fused LeakyRelu that only float operators read
	// (through QDequantize) are stored channel-major: the dequantization
	// of standard levels is contiguous, that of channels-last ones a
	// transposition.
	tied := map[*actQuant]bool{} // read or written by a QAdd or a QLut
	for _, j := range l.adds {
		tied[j.a], tied[j.b], tied[j.out] = true, true, true
	}
	for _, j := range l.luts {
		tied[j.in], tied[j.out] = true, true
	}
	for _, j := range l.jobs {
		if j.leaky != nil && j.out != nil && len(j.out.consumers) == 0 && !tied[j.out] {
			j.out.standard = true
		}
	}
	// A QAdd reads and writes one layout: standard if any of its three
	// tensors must be.
	// So does a QLut (its input and output).
	for changed := true; changed; {
		changed = false
		for _, j := range l.adds {
			if (j.a.standard || j.b.standard || j.out.standard) && !(j.a.standard && j.b.standard && j.out.standard) {
				j.a.standard, j.b.standard, j.out.standard, changed = true, true, true, true
			}
		}
		for _, j := range l.luts {
			if j.in.standard != j.out.standard {
				j.in.standard, j.out.standard, changed = true, true, true
			}
		}
	}
	for _, j := range l.adds {
		cl := int64(1)
		if j.out.standard {
			cl = 0
		}
		j.op.Attributes = append(j.op.Attributes, graph.IntAttr("channels_last", cl))
	}
	for _, q := range l.order {
		if q.levelsName == "" {
			continue
		}
		cl := int64(1)
		if q.standard {
			cl = 0
		}
		for _, n := range q.nodes {
			l.drop[n] = true
		}
		axis := graph.IntAttr("axis", 1)
		zp := l.addInit(q.out+"/zero_point", tensor.From([]int{len(q.zp)}, append([]int32(nil), q.zp...)))
		if q.producedBy == nil {
			s := l.addInit(q.out+"/scale", tensor.From([]int{len(q.scale)}, append([]float32(nil), q.scale...)))
			l.added = append(l.added, &potv1.Node{Name: l.names.Name(q.out + "/QLevels"), OpType: "QLevels", Domain: ops.DomainPot,
				Inputs: []string{q.in, s, zp}, Outputs: []string{q.levelsName},
				Attributes: []*potv1.Attribute{graph.IntAttr("levels", int64(q.levels)), axis, graph.IntAttr("channels_last", cl)}})
		} else if q.producedBy.GetOpType() != "QAdd" {
			q.producedBy.Attributes = append(q.producedBy.Attributes, graph.IntAttr("y_channels_last", cl))
		}
		for _, c := range q.consumers {
			c.Attributes = append(c.Attributes, graph.IntAttr("x_channels_last", cl))
		}
		os := l.addInit(q.out+"/out_scale", tensor.From([]int{len(q.outScale)}, append([]float32(nil), q.outScale...)))
		l.added = append(l.added, &potv1.Node{Name: l.names.Name(q.out + "/QDequantize"), OpType: "QDequantize", Domain: ops.DomainPot,
			Inputs: []string{q.levelsName, zp, os}, Outputs: []string{q.out},
			Attributes: []*potv1.Attribute{axis, graph.IntAttr("channels_last", cl)}})
	}
	kept := l.g.Nodes[:0]
	for _, n := range l.g.Nodes {
		if !l.drop[n] {
			kept = append(kept, n)
		}
	}
	l.g.Nodes = append(kept, l.added...)
	hasPot := false
	for _, o := range l.root.Opsets {
		hasPot = hasPot || o.GetDomain() == ops.DomainPot
	}
	if !hasPot {
		l.root.Opsets = append(l.root.Opsets, &potv1.OpsetImport{Domain: ops.DomainPot, Version: 1})
	}
	graph.RemoveUnused(l.g, func(name string) bool { return l.outputs[name] })
}
