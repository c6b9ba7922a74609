package gna

import (
	"fmt"
	"math"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
)

// Lowering turns a graph and a plan into the graph GNA executes.
type Lowering struct {
	// Warn, when set, receives once per plan the nodes that stay in
	// float32 because the plan leaves them unquantized.
	Warn func(msg string, nodes []string)
}

// passThrough ops keep their input's grid: GNA moves data through them
// without arithmetic.
var passThrough = map[string]bool{
	"Reshape": true, "Flatten": true, "Squeeze": true, "Unsqueeze": true, "Transpose": true, "Identity": true,
	"Dropout": true, "MaxPool": true, "GlobalMaxPool": true, "Slice": true, "Split": true,
}

// Lower applies a plan for GNA. Without quantizers the graph runs in
// float32 (the float model measured on the same target). With a plan:
//
//   - every FakeQuantize is fitted to its GNA container — int8/int16 for
//     weights, int16 for activations, int32 for the inputs of activation
//     functions — by dropping low bits when the plan's grid has more
//     levels than the container holds; grids of more than 2^24 levels
//     run as GnaQuantize (float64);
//   - Gemm and MatMul with quantized input and weights become GnaAffine,
//     Conv GnaConv, Add/Sub/Mul GnaEltwise (a constant operand the plan
//     leaves in float gets GNA's int16 weight grid), the activation
//     functions GnaActivation (PWL from the input grid to the grid of
//     their output quantizer, or an int16 grid covering the function's
//     range), and average pooling / ReduceMean are followed by GnaRound
//     onto their input's int16 grid;
//   - nodes without quantized inputs stay in float32 (reported to Warn).
//
// g is not modified.
func (l Lowering) Lower(g *potv1.Graph, p *potv1.QuantizationPlan) (*plan.Applied, error) {
	a, err := plan.Apply(g, p)
	if err != nil {
		return nil, err
	}
	if len(p.GetQuantizers()) == 0 {
		return a, nil
	}
	lw := newLowerer(a.Graph)
	if err := lw.fitQuantizers(); err != nil {
		return nil, fmt.Errorf("gna: %w", err)
	}
	if err := lw.lowerNodes(); err != nil {
		return nil, fmt.Errorf("gna: %w", err)
	}
	if len(lw.float) > 0 && l.Warn != nil {
		l.Warn("nodes left in float32 by the plan (GNA runs them only when quantized)", lw.float)
	}
	return a, nil
}

// lowerer rewrites g. x indexes g as it was: what the lowering adds (the
// refitted quantizer parameters, the quantizers of constant operands) is
// never looked up.
type lowerer struct {
	g     *potv1.Graph
	x     *graph.Index
	grids map[string]*Grid // FakeQuantize outputs
	float []string
	added []*potv1.Node
}

func newLowerer(g *potv1.Graph) *lowerer {
	return &lowerer{g: g, x: graph.NewScopeIndex(g), grids: map[string]*Grid{}}
}

func isFQ(n *potv1.Node) bool {
	return n.GetDomain() == plan.FakeQuantizeDomain && n.GetOpType() == plan.FakeQuantizeOp
}

// fitQuantizers fits every FakeQuantize to its container and records the
// grid of its output.
func (lw *lowerer) fitQuantizers() error {
	for _, n := range lw.g.GetNodes() {
		if !isFQ(n) {
			continue
		}
		q, err := readFQ(n, lw.x)
		if err != nil {
			return err
		}
		lo, hi := int64(Int16Lo), int64(Int16Hi)
		weight := lw.x.Initializer(n.GetInputs()[0]) != nil
		if !weight && lw.allActivations(n.GetOutputs()[0]) {
			lo, hi = Int32Lo, Int32Hi
		}
		f, err := q.fit(lo, hi)
		if err != nil {
			return err
		}
		if f != 1 {
			lw.setParams(q)
		}
		if weight {
			// int8 weights when the grid fits.
			in8 := true
			for _, z := range q.zp {
				in8 = in8 && -z >= Int8Lo && float64(q.levels-1)-z <= Int8Hi
			}
			if in8 {
				lo, hi = Int8Lo, Int8Hi
			}
		}
		if q.levels > 1<<24 {
			if len(q.zp) != 1 {
				return fmt.Errorf("quantizer %q: per-channel grid of %d levels", n.GetName(), q.levels)
			}
			n.OpType = "GnaQuantize"
		}
		lw.grids[n.GetOutputs()[0]] = &Grid{Scale: roundTrip(q.outStep), Axis: q.axis, Lo: lo, Hi: hi}
	}
	return nil
}

// roundTrip returns the steps as the float32 values the graph stores.
func roundTrip(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(float32(x))
	}
	return out
}

// setParams writes a refitted quantizer's parameters as new initializers.
func (lw *lowerer) setParams(q *fq) {
	n := q.node
	vals := [][]float64{q.scale, q.zp, q.outStep}
	for i, suffix := range []string{"scale", "zero_point", "out_scale"} {
		name := n.GetName() + "/gna/" + suffix
		var dims []int64
		if len(vals[i]) > 1 {
			dims = []int64{int64(len(vals[i]))}
		}
		t := graph.FloatTensor(name, dims, float32s(vals[i]))
		lw.g.Initializers = append(lw.g.Initializers, t)
		n.Inputs[i+1] = name
	}
	attrs := make([]*potv1.Attribute, 0, len(n.GetAttributes()))
	for _, at := range n.GetAttributes() {
		if at.GetName() == "levels" {
			at = graph.IntAttr("levels", q.levels)
		}
		attrs = append(attrs, at)
	}
	n.Attributes = attrs
}

// allActivations reports whether every reader of a tensor is an
// activation function (which takes GNA's 32-bit accumulator).
func (lw *lowerer) allActivations(t string) bool {
	cs := lw.x.Consumers(t)
	for _, p := range cs {
		if c := p.Node; !graph.IsONNX(c) || !IsActivation(c.GetOpType()) || c.GetInputs()[0] != t {
			return false
		}
	}
	if len(cs) == 0 {
		return false
	}
	for _, o := range lw.g.GetOutputs() {
		if o.GetName() == t {
			return false
		}
	}
	return true
}

// gridOf is the grid a tensor is on: a quantizer's output, or moved
// through operations that only move data.
func (lw *lowerer) gridOf(t string) *Grid {
	if g, ok := lw.grids[t]; ok {
		return g
	}
	p := lw.x.Producer(t)
	if p == nil || !graph.IsONNX(p) || len(p.GetInputs()) == 0 {
		return nil
	}
	switch {
	case passThrough[p.GetOpType()]:
		if g := lw.gridOf(p.GetInputs()[0]); g != nil && g.PerTensor() {
			return g
		}
	case p.GetOpType() == "Concat":
		var first *Grid
		for _, in := range p.GetInputs() {
			g := lw.gridOf(in)
			if g == nil || !g.PerTensor() || first != nil && (g.Scale[0] != first.Scale[0] || g.Lo != first.Lo || g.Hi != first.Hi) {
				return nil
			}
			first = g
		}
		return first
	}
	return nil
}

// weightGrid is the grid of a constant operand: its quantizer's, when
// the quantizer reads a constant.
func (lw *lowerer) weightGrid(t string) *Grid {
	p := lw.x.Producer(t)
	if p == nil || !isFQ(p) {
		return nil
	}
	if lw.x.Initializer(p.GetInputs()[0]) == nil {
		return nil
	}
	return lw.grids[t]
}

func (lw *lowerer) lowerNodes() error {
	nodes := lw.g.GetNodes()
	for i, n := range nodes {
		if !graph.IsONNX(n) {
			continue
		}
		var repl []*potv1.Node
		var err error
		switch op := n.GetOpType(); {
		case op == "Gemm" || op == "MatMul":
			repl, err = lw.affine(n)
		case op == "Conv":
			repl, err = lw.conv(n)
		case op == "Add" || op == "Sub" || op == "Mul":
			repl, err = lw.eltwise(n)
		case IsActivation(op):
			repl, err = lw.activation(n)
		case op == "AveragePool" || op == "GlobalAveragePool" || op == "ReduceMean":
			repl, err = lw.mean(n)
		default:
			continue
		}
		if err != nil {
			return fmt.Errorf("node %q (%s): %w", n.GetName(), n.GetOpType(), err)
		}
		if repl == nil {
			lw.float = append(lw.float, fmt.Sprintf("%s (%s)", n.GetName(), n.GetOpType()))
			continue
		}
		nodes[i] = repl[0]
		lw.added = append(lw.added, repl[1:]...)
	}
	lw.g.Nodes = append(nodes, lw.added...)
	return nil
}

func gridAttributes(prefix string, g *Grid) []*potv1.Attribute {
	return []*potv1.Attribute{
		graph.FloatsAttr(prefix+"_scale", float32s(g.Scale)),
		graph.IntAttr(prefix+"_lo", g.Lo),
		graph.IntAttr(prefix+"_hi", g.Hi),
	}
}

func potNode(n *potv1.Node, op string, inputs []string, attrs []*potv1.Attribute) *potv1.Node {
	return &potv1.Node{Name: n.GetName(), OpType: op, Domain: plan.FakeQuantizeDomain, Inputs: inputs,
		Outputs: append([]string(nil), n.GetOutputs()...), Attributes: attrs}
}

// layerGrids returns a weighted node's inputs with the grids of its
// activation (per-tensor) and its constant weights; nil grids when either
// is not quantized.
func (lw *lowerer) layerGrids(n *potv1.Node) ([]string, *Grid, *Grid, error) {
	in := n.GetInputs()
	if len(in) < 2 {
		return nil, nil, nil, fmt.Errorf("%d inputs", len(in))
	}
	gx, gw := lw.gridOf(in[0]), lw.weightGrid(in[1])
	if gx == nil || gw == nil || !gx.PerTensor() {
		return in, nil, nil, nil
	}
	return in, gx, gw, nil
}

// affine lowers Gemm and MatMul with a quantized input and constant
// quantized weights.
func (lw *lowerer) affine(n *potv1.Node) ([]*potv1.Node, error) {
	in, gx, gw, err := lw.layerGrids(n)
	if gx == nil || err != nil {
		return nil, err
	}
	matmul := n.GetOpType() == "MatMul"
	transB := !matmul && graph.AttrInt(n, "transB", 0) != 0
	if !gw.PerTensor() {
		want := 1
		if transB {
			want = 0
		}
		if gw.Axis != want {
			return nil, fmt.Errorf("weights quantized per channel of axis %d, not the output axis %d", gw.Axis, want)
		}
	}
	attrs := append(gridAttributes("x", gx), gridAttributes("w", gw)...)
	if matmul {
		attrs = append(attrs, graph.IntAttr("matmul", 1))
	} else {
		attrs = append(attrs, graph.IntAttr("trans_a", graph.AttrInt(n, "transA", 0)), graph.IntAttr("trans_b", graph.AttrInt(n, "transB", 0)),
			graph.FloatAttr("alpha", graph.AttrFloat(n, "alpha", 1)), graph.FloatAttr("beta", graph.AttrFloat(n, "beta", 1)))
	}
	return []*potv1.Node{potNode(n, "GnaAffine", append([]string(nil), in...), attrs)}, nil
}

// conv lowers Conv with a quantized input and constant quantized weights.
func (lw *lowerer) conv(n *potv1.Node) ([]*potv1.Node, error) {
	in, gx, gw, err := lw.layerGrids(n)
	if gx == nil || err != nil {
		return nil, err
	}
	if !gw.PerTensor() && gw.Axis != 0 {
		return nil, fmt.Errorf("weights quantized per channel of axis %d, not 0", gw.Axis)
	}
	attrs := append(gridAttributes("x", gx), gridAttributes("w", gw)...)
	for _, at := range n.GetAttributes() {
		switch at.GetName() {
		case "auto_pad", "dilations", "group", "kernel_shape", "pads", "strides":
			attrs = append(attrs, at)
		}
	}
	return []*potv1.Node{potNode(n, "GnaConv", append([]string(nil), in...), attrs)}, nil
}

// eltwise lowers Add, Sub and Mul of two per-tensor int16 operands; a
// constant operand without a quantizer is put on GNA's int16 weight grid.
func (lw *lowerer) eltwise(n *potv1.Node) ([]*potv1.Node, error) {
	in := append([]string(nil), n.GetInputs()...)
	if len(in) != 2 {
		return nil, fmt.Errorf("%d inputs", len(in))
	}
	var grids [2]*Grid
	var extra []*potv1.Node
	activations := 0
	for i, t := range in {
		if c := lw.x.Initializer(t); c != nil {
			if c.GetDtype() != potv1.DataType_DATA_TYPE_FLOAT {
				return nil, nil
			}
			fqNode, name, err := lw.weightQuantizer(n, i, c)
			if err != nil {
				return nil, err
			}
			extra = append(extra, fqNode)
			in[i] = name
			grids[i] = lw.grids[name]
			continue
		}
		activations++
		grids[i] = lw.gridOf(t)
		if grids[i] == nil || !grids[i].PerTensor() {
			return nil, nil
		}
	}
	if activations == 0 {
		return nil, nil
	}
	attrs := []*potv1.Attribute{graph.StringAttr("op", n.GetOpType())}
	attrs = append(attrs, gridAttributes("a", grids[0])...)
	attrs = append(attrs, gridAttributes("b", grids[1])...)
	return append([]*potv1.Node{potNode(n, "GnaEltwise", in, attrs)}, extra...), nil
}

// weightQuantizer adds a FakeQuantize putting a float constant on a
// symmetric per-tensor int16 grid (GNA's q16_w).
func (lw *lowerer) weightQuantizer(n *potv1.Node, input int, c *potv1.Tensor) (*potv1.Node, string, error) {
	v, err := graph.Float32s(c)
	if err != nil {
		return nil, "", err
	}
	m := 0.0
	for _, x := range v {
		m = max(m, math.Abs(float64(x)))
	}
	if m == 0 || math.IsInf(m, 0) || m != m {
		m = 1
	}
	step := float32(m / Int16Hi)
	base := fmt.Sprintf("gna/fq/%s/%d", n.GetName(), input)
	inits := []*potv1.Tensor{
		graph.FloatTensor(base+"/scale", nil, []float32{step}),
		graph.FloatTensor(base+"/zero_point", nil, []float32{Int16Hi}),
		graph.FloatTensor(base+"/out_scale", nil, []float32{step}),
	}
	out := base + "/out"
	fqNode := &potv1.Node{Name: base, OpType: plan.FakeQuantizeOp, Domain: plan.FakeQuantizeDomain,
		Inputs:     []string{c.GetName(), inits[0].GetName(), inits[1].GetName(), inits[2].GetName()},
		Outputs:    []string{out},
		Attributes: []*potv1.Attribute{graph.IntAttr("levels", 2*Int16Hi+1), graph.IntAttr("axis", 1)}}
	lw.g.Initializers = append(lw.g.Initializers, inits...)
	lw.grids[out] = &Grid{Scale: []float64{float64(step)}, Axis: 1, Lo: Int16Lo, Hi: Int16Hi}
	return fqNode, out, nil
}

// activation lowers an activation function with a quantized input to a
// PWL.
func (lw *lowerer) activation(n *potv1.Node) ([]*potv1.Node, error) {
	in := n.GetInputs()
	gi := lw.gridOf(in[0])
	if gi == nil || !gi.PerTensor() {
		return nil, nil
	}
	params, axis, err := lw.activationParams(n)
	if err != nil {
		return nil, err
	}
	out := n.GetOutputs()[0]
	var gout *Grid
	if cs := lw.x.Consumers(out); len(cs) == 1 && isFQ(cs[0].Node) {
		gout = lw.grids[cs[0].Node.GetOutputs()[0]]
	}
	if gout == nil || !gout.PerTensor() {
		gout, err = rangeGrid(n.GetOpType(), params, gi)
		if err != nil {
			return nil, err
		}
	} else {
		gout = int16Grid(gout)
	}
	attrs := []*potv1.Attribute{graph.StringAttr("func", n.GetOpType()), graph.IntAttr("axis", int64(axis))}
	attrs = append(attrs, gridAttributes("in", gi)...)
	attrs = append(attrs, gridAttributes("out", gout)...)
	if len(params) > 0 {
		attrs = append(attrs, graph.FloatsAttr("params", float32s(params)))
	}
	return []*potv1.Node{potNode(n, "GnaActivation", []string{in[0]}, attrs)}, nil
}

// int16Grid is g, coarsened by a power of two to fit int16 (a PWL output
// read by a 32-bit quantizer).
func int16Grid(g *Grid) *Grid {
	out := &Grid{Scale: append([]float64(nil), g.Scale...), Axis: g.Axis, Lo: g.Lo, Hi: g.Hi}
	for out.Lo < Int16Lo || out.Hi > Int16Hi {
		out.Scale[0] *= 2
		out.Lo = int64(math.Ceil(float64(out.Lo) / 2))
		out.Hi = int64(math.Floor(float64(out.Hi) / 2))
	}
	return out
}

// rangeGrid is the int16 grid of an activation without an output
// quantizer: symmetric, covering the function over the input range.
func rangeGrid(op string, params []float64, gi *Grid) (*Grid, error) {
	sets := [][]float64{params}
	if op == "PRelu" {
		sets = sets[:0]
		for _, p := range params {
			sets = append(sets, []float64{p})
		}
	}
	m := 0.0
	for _, ps := range sets {
		f, err := NewFunc(op, ps)
		if err != nil {
			return nil, err
		}
		const samples = 1 << 12
		for i := 0; i <= samples; i++ {
			x := float64(gi.Lo) + float64(gi.Hi-gi.Lo)*float64(i)/samples
			v := math.Abs(f.F(x * gi.Scale[0]))
			if !math.IsInf(v, 0) && v == v {
				m = max(m, v)
			}
		}
	}
	if m == 0 {
		m = 1
	}
	return &Grid{Scale: []float64{float64(float32(m / Int16Hi))}, Axis: 1, Lo: Int16Lo, Hi: Int16Hi}, nil
}

// activationParams reads the constants of PRelu (slope, and the axis of
// a per-channel slope), Clip (min, max) and Pow (exponent).
func (lw *lowerer) activationParams(n *potv1.Node) ([]float64, int, error) {
	in := n.GetInputs()
	constant := func(i int) ([]float32, error) {
		if i >= len(in) || in[i] == "" {
			return nil, nil
		}
		t := lw.x.Initializer(in[i])
		if t == nil {
			return nil, fmt.Errorf("input %d (%q) is not a constant, which GNA's PWL needs", i, in[i])
		}
		return graph.Float32s(t)
	}
	switch n.GetOpType() {
	case "PRelu":
		v, err := constant(1)
		if err != nil || v == nil {
			return nil, 0, fmt.Errorf("slope: %w", err)
		}
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		if len(v) == 1 {
			return out, 1, nil
		}
		// The channel axis is where the slope's one non-unit dimension
		// lands under right-aligned broadcasting.
		dims := lw.x.Initializer(in[1]).GetDims()
		axis := -1
		for i, d := range dims {
			if d != 1 {
				axis = i - len(dims)
			}
		}
		return out, axis, nil
	case "Clip":
		lo, hi := math.Inf(-1), math.Inf(1)
		if graph.HasAttr(n, "min") || graph.HasAttr(n, "max") {
			lo, hi = float64(graph.AttrFloat(n, "min", float32(math.Inf(-1)))), float64(graph.AttrFloat(n, "max", float32(math.Inf(1))))
		}
		for i, dst := range []*float64{&lo, &hi} {
			v, err := constant(i + 1)
			if err != nil {
				return nil, 0, err
			}
			if len(v) == 1 {
				*dst = float64(v[0])
			}
		}
		return []float64{lo, hi}, 1, nil
	case "Pow":
		v, err := constant(1)
		if err != nil {
			return nil, 0, err
		}
		if len(v) != 1 {
			return nil, 0, fmt.Errorf("the exponent must be one constant, is %d values", len(v))
		}
		return []float64{float64(v[0])}, 1, nil
	}
	return nil, 1, nil
}

// mean lowers average pooling and ReduceMean: the float mean of int16
// values, rounded back onto the input's grid as GNA's integer pooling
// does.
func (lw *lowerer) mean(n *potv1.Node) ([]*potv1.Node, error) {
	g := lw.gridOf(n.GetInputs()[0])
	if g == nil || !g.PerTensor() {
		return nil, nil
	}
	out := n.GetOutputs()[0]
	sum := out + "/gna_mean"
	c := &potv1.Node{Name: n.GetName(), OpType: n.GetOpType(), Domain: n.GetDomain(), Inputs: n.GetInputs(),
		Outputs: append([]string{sum}, n.GetOutputs()[1:]...), Attributes: n.GetAttributes()}
	r := &potv1.Node{Name: n.GetName() + "/gna_round", OpType: "GnaRound", Domain: plan.FakeQuantizeDomain,
		Inputs: []string{sum}, Outputs: []string{out},
		Attributes: []*potv1.Attribute{graph.FloatAttr("scale", float32(g.Scale[0])), graph.IntAttr("lo", Int16Lo), graph.IntAttr("hi", Int16Hi)}}
	return []*potv1.Node{c, r}, nil
}
