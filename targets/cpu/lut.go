package cpu

import (
	"context"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// lutOps enables the lowering of element-wise operators between two
// quantizers to QLut; tests turn it off to compare with the unlowered
// graph.
var lutOps = true

// lutOpTypes are the element-wise ONNX operators planLut lowers: each
// output element is a function of the same element of the one variable
// input (the others being constant scalars).
var lutOpTypes = map[string]bool{
	"Max": true, "Min": true, "Relu": true, "LeakyRelu": true, "Clip": true,
	"Add": true, "Sub": true, "Mul": true, "Div": true,
}

// planLut lowers n to a QLut when it is an element-wise operator of one
// variable input, the output of a per-tensor quantizer whose levels an
// integer operator writes and which only n reads, with its output going
// into another per-tensor quantizer: the 256 input levels take 256
// output levels, which the interpreter computes once through the same
// QDequantize, operator and QLevels kernels that the graph would run.
func (l *lowerer) planLut(n *potv1.Node) {
	if !graph.IsONNX(n) || !lutOpTypes[n.GetOpType()] || len(n.GetOutputs()) != 1 || len(graph.Subgraphs(n)) > 0 {
		return
	}
	x := -1
	for i, in := range n.GetInputs() {
		switch c, ok := l.lutConst(in); {
		case in == "":
		case ok:
			if len(c) == 0 {
				return
			}
		case x >= 0:
			return
		default:
			x = i
		}
	}
	if x < 0 || l.single(n.Inputs[x]) != n {
		return
	}
	in := l.actQuant(n.Inputs[x])
	if in == nil || in.perChannel() || in.producedBy == nil || in.levels > 256 {
		return
	}
	out := l.quantAfter(n.Outputs[0])
	if out == nil || out.perChannel() {
		return
	}
	table, ok := l.lutTable(n, x, in, out)
	if !ok {
		return
	}
	op := &potv1.Node{Name: l.names.Name(n.GetName() + "/lut"), OpType: "QLut", Domain: ops.DomainPot,
		Inputs:  []string{l.levelsOf(in), l.addInit(n.GetName()+"/q/table", tensor.From([]int{256}, table))},
		Outputs: []string{l.levelsOf(out)}}
	out.producedBy = op
	in.consumers = append(in.consumers, op)
	l.drop[n] = true
	l.luts = append(l.luts, lutJob{in: in, out: out})
	l.added = append(l.added, op)
}

// lutConst returns what makes t a constant scalar: its initializer, or
// a DequantizeLinear of initializers and that initializer (a quantized
// constant, as QDQ exports have), with the producing node first; ok
// reports that t is constant, the slice being empty when t has more
// than one element.
func (l *lowerer) lutConst(t string) (c []any, ok bool) {
	if t == "" {
		return nil, false
	}
	if init := l.ix.Initializer(t); init != nil {
		if tensorLen(init) != 1 {
			return nil, true
		}
		return []any{init}, true
	}
	p := l.ix.Producer(t)
	if p == nil || !graph.IsONNX(p) || p.GetOpType() != "DequantizeLinear" || len(p.GetOutputs()) != 1 {
		return nil, false
	}
	c = []any{p}
	for _, in := range p.GetInputs() {
		if in == "" {
			continue
		}
		init := l.ix.Initializer(in)
		if init == nil {
			return nil, false
		}
		c = append(c, init)
	}
	if tensorLen(c[1].(*potv1.Tensor)) != 1 {
		return nil, true
	}
	return c, true
}

func tensorLen(t *potv1.Tensor) int {
	n := 1
	for _, d := range t.GetDims() {
		n *= int(d)
	}
	return n
}

// lutTable runs the levels 0..255 through QDequantize with in's
// parameters, n (its input x replaced), and QLevels with out's.
func (l *lowerer) lutTable(n *potv1.Node, x int, in, out *actQuant) ([]uint8, bool) {
	g := &potv1.Graph{Name: "lut", Opsets: append(append([]*potv1.OpsetImport(nil), l.root.Opsets...), &potv1.OpsetImport{Domain: ops.DomainPot, Version: 1})}
	g.Inputs = []*potv1.ValueInfo{{Name: "l", Dtype: potv1.DataType_DATA_TYPE_UINT8}}
	g.Outputs = []*potv1.ValueInfo{{Name: "y", Dtype: potv1.DataType_DATA_TYPE_UINT8}}
	add := func(name string, t *tensor.Tensor) { g.Initializers = append(g.Initializers, rt.ToProto(name, t)) }
	add("in_zp", tensor.From([]int{1}, []int32{in.zp[0]}))
	add("in_scale", tensor.From([]int{1}, []float32{in.outScale[0]}))
	add("out_scale", tensor.From([]int{1}, []float32{out.scale[0]}))
	add("out_zp", tensor.From([]int{1}, []int32{out.zp[0]}))
	inputs := append([]string(nil), n.Inputs...)
	inputs[x] = "v"
	var consts []*potv1.Node
	seen := map[string]bool{}
	for i, name := range inputs {
		if i == x || name == "" || seen[name] {
			continue
		}
		seen[name] = true
		c, ok := l.lutConst(name)
		if !ok || len(c) == 0 {
			return nil, false
		}
		for _, v := range c {
			switch v := v.(type) {
			case *potv1.Tensor:
				g.Initializers = append(g.Initializers, v)
			case *potv1.Node:
				consts = append(consts, v)
			}
		}
	}
	layout := []*potv1.Attribute{graph.IntAttr("axis", 1), graph.IntAttr("channels_last", 0)}
	g.Nodes = append(consts, []*potv1.Node{
		{Name: "dq", OpType: "QDequantize", Domain: ops.DomainPot, Inputs: []string{"l", "in_zp", "in_scale"}, Outputs: []string{"v"}, Attributes: layout},
		{Name: "op", OpType: n.GetOpType(), Domain: n.GetDomain(), Inputs: inputs, Outputs: []string{"f"}, Attributes: n.GetAttributes()},
		{Name: "q", OpType: "QLevels", Domain: ops.DomainPot, Inputs: []string{"f", "out_scale", "out_zp"}, Outputs: []string{"y"},
			Attributes: append([]*potv1.Attribute{graph.IntAttr("levels", int64(out.levels))}, layout...)},
	}...)
	p, err := rt.Compile(g, rt.Options{Threads: 1})
	if err != nil {
		return nil, false
	}
	defer p.Close()
	levels := make([]uint8, 256)
	for i := range levels {
		levels[i] = uint8(i)
	}
	res, err := p.Run(context.Background(), map[string]*tensor.Tensor{"l": tensor.From([]int{256}, levels)}, "y")
	if err != nil {
		return nil, false
	}
	y, ok := res["y"].Data.([]uint8)
	if !ok || len(y) != 256 {
		return nil, false
	}
	return append([]uint8(nil), y...), true
}
