package cpu

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// layer is a test graph: x -> Conv/Gemm/MatMul (-> act) -> y, with a
// plan quantizing x, the weights and y.
type layer struct {
	name   string
	op     string // Conv, Gemm, MatMul
	C, M   int
	H, W   int // input size (Conv)
	k      int // kernel size
	stride int
	pad    int
	group  int
	act    string // "", Relu, Clip, HardSwish (HardSigmoid and Mul), LeakyRelu
	flat   bool   // Gemm/MatMul input through Flatten of [N, C, 1, 1]
	// Activation ranges: x in [xlo, xhi]; y quantized (levels 256) over
	// its float range, or left float when yFloat.
	xlo, xhi float32
	xLevels  int64
	xPerCh   bool // per-channel x quantizer (depthwise)
	yFloat   bool
	wLim     int // weight levels used: 127 (full) or 64 (saturation fix)
}

func tensorProto(name string, shape []int, v any) *potv1.Tensor {
	var t *tensor.Tensor
	switch d := v.(type) {
	case []float32:
		t = tensor.From(shape, d)
	case []int64:
		t = tensor.From(shape, d)
	default:
		panic(fmt.Sprintf("tensorProto: %T", v))
	}
	return rt.ToProto(name, t)
}

func randFloats(r *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * scale)
	}
	return v
}

// build returns the float graph, an input batch and the weights.
func (l layer) build(r *rand.Rand, n int) (*potv1.Graph, *tensor.Tensor) {
	g := &potv1.Graph{Name: l.name, Opsets: []*potv1.OpsetImport{{Domain: "", Version: 13}}}
	var xShape, wShape []int
	in := "x"
	switch l.op {
	case "Conv":
		xShape = []int{n, l.C, l.H, l.W}
		wShape = []int{l.M, l.C / l.group, l.k, l.k}
	case "Gemm":
		xShape = []int{n, l.C}
		wShape = []int{l.M, l.C}
	case "MatMul":
		xShape = []int{n, l.C}
		wShape = []int{l.C, l.M}
	}
	if l.flat {
		xShape = []int{n, l.C, 1, 1}
		g.Nodes = append(g.Nodes, &potv1.Node{Name: "flatten", OpType: "Flatten", Inputs: []string{"x"}, Outputs: []string{"xf"}})
		in = "xf"
	}
	g.Inputs = []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT}}
	fan := tensor.NumElements(wShape) / l.M
	w := randFloats(r, tensor.NumElements(wShape), 1/math.Sqrt(float64(fan)))
	b := randFloats(r, l.M, 0.3)
	g.Initializers = append(g.Initializers, tensorProto("w", wShape, w), tensorProto("b", []int{l.M}, b))
	node := &potv1.Node{Name: "op", OpType: l.op, Inputs: []string{in, "w", "b"}, Outputs: []string{"c"}}
	switch l.op {
	case "Conv":
		node.Attributes = []*potv1.Attribute{
			{Name: "kernel_shape", Type: potv1.Attribute_TYPE_INTS, Ints: []int64{int64(l.k), int64(l.k)}},
			{Name: "strides", Type: potv1.Attribute_TYPE_INTS, Ints: []int64{int64(l.stride), int64(l.stride)}},
			{Name: "pads", Type: potv1.Attribute_TYPE_INTS, Ints: []int64{int64(l.pad), int64(l.pad), int64(l.pad), int64(l.pad)}},
			graph.IntAttr("group", int64(l.group)),
		}
	case "Gemm":
		node.Attributes = []*potv1.Attribute{graph.IntAttr("transB", 1), {Name: "alpha", Type: potv1.Attribute_TYPE_FLOAT, F: 0.5}}
	case "MatMul":
		node.Inputs = node.Inputs[:2]
	}
	g.Nodes = append(g.Nodes, node)
	out := "c"
	switch l.act {
	case "Relu":
		g.Nodes = append(g.Nodes, &potv1.Node{Name: "act", OpType: "Relu", Inputs: []string{"c"}, Outputs: []string{"y"}})
		out = "y"
	case "Clip":
		g.Initializers = append(g.Initializers, tensorProto("lo", nil, []float32{-0.25}), tensorProto("hi", nil, []float32{0.75}))
		g.Nodes = append(g.Nodes, &potv1.Node{Name: "act", OpType: "Clip", Inputs: []string{"c", "lo", "hi"}, Outputs: []string{"y"}})
		out = "y"
	case "HardSwish":
		g.Nodes = append(g.Nodes,
			&potv1.Node{Name: "hs", OpType: "HardSigmoid", Inputs: []string{"c"}, Outputs: []string{"s"},
				Attributes: []*potv1.Attribute{{Name: "alpha", Type: potv1.Attribute_TYPE_FLOAT, F: 1.0 / 6}}},
			&potv1.Node{Name: "act", OpType: "Mul", Inputs: []string{"c", "s"}, Outputs: []string{"y"}})
		out = "y"
	case "LeakyRelu":
		g.Nodes = append(g.Nodes, &potv1.Node{Name: "act", OpType: "LeakyRelu", Inputs: []string{"c"}, Outputs: []string{"y"},
			Attributes: []*potv1.Attribute{{Name: "alpha", Type: potv1.Attribute_TYPE_FLOAT, F: 0.2}}})
		out = "y"
	}
	g.Outputs = []*potv1.ValueInfo{{Name: out, Dtype: potv1.DataType_DATA_TYPE_FLOAT}}
	x := tensor.From(xShape, make([]float32, tensor.NumElements(xShape)))
	for i := range x.F32() {
		x.F32()[i] = l.xlo + (l.xhi-l.xlo)*float32(r.Float64())
	}
	// Some exact zeros and clipped values.
	for i := 0; i < x.Len(); i += 17 {
		x.F32()[i] = 0
	}
	return g, x
}

func run(t *testing.T, g *potv1.Graph, x *tensor.Tensor) *tensor.Tensor {
	t.Helper()
	p, err := rt.Compile(g, rt.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	out := g.Outputs[0].GetName()
	res, err := p.Run(context.Background(), map[string]*tensor.Tensor{"x": x}, out)
	if err != nil {
		t.Fatal(err)
	}
	return res[out]
}

// plan quantizes x, the weights (per channel, symmetric, 255 levels on
// [-wLim, wLim] of the grid) and, unless yFloat, the output over yRange.
func (l layer) plan(g *potv1.Graph, yMax, yMin float32) *potv1.QuantizationPlan {
	p := &potv1.QuantizationPlan{}
	levels := l.xLevels
	if levels == 0 {
		levels = 256
	}
	xq := &potv1.Quantizer{Id: "x", Location: &potv1.Location{Tensor: "x"}, Levels: levels, LevelLow: 0, LevelHigh: levels - 1,
		InputLow: []float32{l.xlo}, InputHigh: []float32{l.xhi}, OutputLow: []float32{l.xlo}, OutputHigh: []float32{l.xhi}}
	if l.xPerCh {
		xq.Axis = 1
		xq.InputLow, xq.InputHigh, xq.OutputLow, xq.OutputHigh = nil, nil, nil, nil
		for c := 0; c < l.C; c++ {
			f := 1 + float32(c)/float32(l.C)
			xq.InputLow = append(xq.InputLow, l.xlo*f)
			xq.InputHigh = append(xq.InputHigh, l.xhi*f)
		}
		xq.OutputLow, xq.OutputHigh = xq.InputLow, xq.InputHigh
	}
	p.Quantizers = append(p.Quantizers, xq)
	var w []float32
	var wShape []int
	for _, t := range g.Initializers {
		if t.GetName() == "w" {
			wt, _ := rt.FromProto(t)
			w, wShape = wt.F32(), wt.Shape
		}
	}
	axis, ch := 0, wShape[0]
	if l.op == "MatMul" {
		axis, ch = 1, wShape[1]
	}
	absMax := make([]float32, ch)
	inner := tensor.NumElements(wShape[axis+1:])
	for i, v := range w {
		c := (i / inner) % ch
		absMax[c] = max(absMax[c], float32(math.Abs(float64(v))))
	}
	wq := &potv1.Quantizer{Id: "w", Weights: true, Location: &potv1.Location{Node: "op", Input: 1}, Levels: 255, LevelLow: -127, LevelHigh: 127, Axis: int32(axis)}
	for _, a := range absMax {
		hi := a * 127 / float32(l.wLim)
		wq.InputLow, wq.InputHigh = append(wq.InputLow, -hi), append(wq.InputHigh, hi)
	}
	wq.OutputLow, wq.OutputHigh = wq.InputLow, wq.InputHigh
	p.Quantizers = append(p.Quantizers, wq)
	if !l.yFloat {
		y := g.Outputs[0].GetName()
		p.Quantizers = append(p.Quantizers, &potv1.Quantizer{Id: "y", Location: &potv1.Location{Tensor: y}, Levels: 256, LevelHigh: 255,
			InputLow: []float32{yMin}, InputHigh: []float32{yMax}, OutputLow: []float32{yMin}, OutputHigh: []float32{yMax}})
	}
	return p
}

var layers = []layer{
	{name: "conv3x3 relu uint8", op: "Conv", C: 16, M: 16, H: 12, W: 12, k: 3, stride: 1, pad: 1, group: 1, act: "Relu", xlo: 0, xhi: 2, wLim: 127},
	{name: "stem 1 channel", op: "Conv", C: 1, M: 16, H: 14, W: 14, k: 3, stride: 1, pad: 1, group: 1, act: "Relu", xlo: -1, xhi: 3, wLim: 64},
	{name: "conv stride 2 int8", op: "Conv", C: 16, M: 32, H: 14, W: 14, k: 3, stride: 2, pad: 1, group: 1, xlo: -2, xhi: 2, wLim: 127},
	{name: "conv 1x1 clip", op: "Conv", C: 32, M: 24, H: 7, W: 7, k: 1, stride: 1, pad: 0, group: 1, act: "Clip", xlo: -1, xhi: 1.5, wLim: 127},
	{name: "conv 5x5 float out", op: "Conv", C: 3, M: 8, H: 10, W: 10, k: 5, stride: 1, pad: 2, group: 1, xlo: 0, xhi: 1, yFloat: true, wLim: 127},
	{name: "conv 7-bit activations", op: "Conv", C: 8, M: 16, H: 9, W: 9, k: 3, stride: 1, pad: 0, group: 1, act: "Relu", xlo: 0, xhi: 1, xLevels: 128, wLim: 127},
	{name: "depthwise per-channel", op: "Conv", C: 16, M: 16, H: 10, W: 10, k: 3, stride: 1, pad: 1, group: 16, act: "Relu", xlo: -1, xhi: 2, xPerCh: true, wLim: 127},
	{name: "depthwise stride 2", op: "Conv", C: 8, M: 16, H: 9, W: 9, k: 3, stride: 2, pad: 1, group: 8, xlo: 0, xhi: 2, wLim: 127},
	{name: "gemm flatten", op: "Gemm", C: 64, M: 10, flat: true, xlo: 0, xhi: 4, yFloat: true, wLim: 127},
	{name: "gemm relu", op: "Gemm", C: 30, M: 20, act: "Relu", xlo: -1, xhi: 1, wLim: 127},
	{name: "matmul", op: "MatMul", C: 48, M: 33, xlo: -3, xhi: 1, wLim: 127},
	{name: "conv hard-swish", op: "Conv", C: 16, M: 40, H: 9, W: 9, k: 3, stride: 1, pad: 1, group: 1, act: "HardSwish", xlo: -1, xhi: 2, wLim: 127},
	{name: "depthwise hard-swish", op: "Conv", C: 32, M: 32, H: 8, W: 8, k: 3, stride: 1, pad: 1, group: 32, act: "HardSwish", xlo: -2, xhi: 3, wLim: 127},
	{name: "gemm hard-swish", op: "Gemm", C: 30, M: 20, act: "HardSwish", xlo: -1, xhi: 1, wLim: 127},
	{name: "conv leaky-relu", op: "Conv", C: 16, M: 40, H: 9, W: 9, k: 3, stride: 1, pad: 1, group: 1, act: "LeakyRelu", xlo: -1, xhi: 2, wLim: 127},
	{name: "depthwise leaky-relu", op: "Conv", C: 32, M: 32, H: 8, W: 8, k: 3, stride: 1, pad: 1, group: 32, act: "LeakyRelu", xlo: -2, xhi: 3, wLim: 127},
	{name: "gemm leaky-relu", op: "Gemm", C: 30, M: 20, act: "LeakyRelu", xlo: -1, xhi: 1, wLim: 127},
}

// TestLayersMatchSimulation runs random layers in integer arithmetic and
// in FakeQuantize simulation: every quantized output is within one step
// of the simulation (and almost all equal); float outputs differ by
// float rounding only.
func TestLayersMatchSimulation(t *testing.T) {
	for _, l := range layers {
		for _, isa := range []string{ISAVNNI, ISAAVX2} {
			if isa == ISAAVX2 {
				// Full 8-bit weights may saturate on avx2 (see
				// TestSaturation); with 7-bit weights it is exact.
				l.wLim = 64
			}
			t.Run(l.name+"/"+isa, func(t *testing.T) {
				r := rand.New(rand.NewPCG(11, uint64(len(l.name))))
				g, x := l.build(r, 5)
				yf := run(t, g, x).F32()
				yMin, yMax := float32(0), float32(0)
				for _, v := range yf {
					yMin, yMax = min(yMin, v), max(yMax, v)
				}
				p := l.plan(g, yMax*0.9, yMin*0.9)
				sim, err := plan.Apply(g, p)
				if err != nil {
					t.Fatal(err)
				}
				low, err := Lowering{ISA: isa}.Lower(g, p)
				if err != nil {
					t.Fatal(err)
				}
				requireLowered(t, low.Graph, l)
				want := run(t, sim.Graph, x).F32()
				got := run(t, low.Graph, x).F32()
				step := float64(0)
				if !l.yFloat {
					pr, _ := plan.ParamsOf(p.Quantizers[2])
					step = float64(pr.OutScale[0])
				}
				// Float outputs: float32 rounding of sums of terms as large
				// as the outputs, and the bias rounded to accumulator units.
				eps := 0.0
				for _, v := range want {
					eps = max(eps, 1e-4*math.Abs(float64(v)))
				}
				diffs := 0
				for i := range want {
					d := math.Abs(float64(got[i] - want[i]))
					tol := step*1.001 + eps
					if d > tol {
						t.Fatalf("output %d: %g, simulation %g (step %g)", i, got[i], want[i], step)
					}
					if d > eps {
						diffs++
					}
				}
				t.Logf("%d of %d outputs off the simulation", diffs, len(want))
				if diffs*50 > len(want) {
					t.Errorf("%d of %d outputs one step off the simulation", diffs, len(want))
				}
			})
		}
	}
}

// requireLowered checks that the layer's operator became integer.
func requireLowered(t *testing.T, g *potv1.Graph, l layer) {
	t.Helper()
	want := "QConv"
	if l.op != "Conv" {
		want = "QMatMul"
	}
	for _, n := range g.Nodes {
		if n.GetOpType() == l.op {
			t.Fatalf("%s left in float", l.op)
		}
		if l.act != "" && n.GetName() == "act" {
			t.Fatalf("activation %s left in float", l.act)
		}
		if n.GetOpType() == "FakeQuantize" {
			t.Errorf("FakeQuantize %s left", n.GetName())
		}
	}
	for _, n := range g.Nodes {
		if n.GetOpType() == want {
			return
		}
	}
	t.Fatalf("no %s in the lowered graph", want)
}

func TestFloatGraphUnchanged(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	g, _ := layers[0].build(r, 1)
	low, err := Lowering{ISA: ISAVNNI}.Lower(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(low.Graph.Nodes) != len(g.Nodes) {
		t.Fatalf("float graph changed: %d nodes, had %d", len(low.Graph.Nodes), len(g.Nodes))
	}
	for i, n := range low.Graph.Nodes {
		if n.GetOpType() != g.Nodes[i].GetOpType() {
			t.Errorf("node %d: %s, was %s", i, n.GetOpType(), g.Nodes[i].GetOpType())
		}
	}
}

// TestKeepIntermediate: a request that reads the conv output before its
// Relu (as full bias correction does) gets it in float, close to the
// simulation, while the quantized output still matches.
func TestKeepIntermediate(t *testing.T) {
	l := layers[0]
	r := rand.New(rand.NewPCG(5, 5))
	g, x := l.build(r, 2)
	p := l.plan(g, 3, 0)
	sim, err := plan.Apply(g, p)
	if err != nil {
		t.Fatal(err)
	}
	low, err := Lowering{ISA: ISAVNNI}.LowerKeeping(g, p, []string{"c"})
	if err != nil {
		t.Fatal(err)
	}
	// The output quantizer stays a FakeQuantize: no integer operator reads it.
	if countOps(low.Graph, "QConv") != 1 || countOps(low.Graph, "Conv") != 0 {
		t.Fatalf("conv not lowered: %d QConv", countOps(low.Graph, "QConv"))
	}
	for _, gr := range []*potv1.Graph{sim.Graph, low.Graph} {
		gr.Outputs = append(gr.Outputs, &potv1.ValueInfo{Name: "c"})
	}
	want, got := runAll(t, sim.Graph, x), runAll(t, low.Graph, x)
	for i, name := range []string{"y", "c"} {
		w, g := want[i].F32(), got[i].F32()
		for j := range w {
			if d := math.Abs(float64(w[j] - g[j])); d > 0.02 {
				t.Fatalf("%s[%d]: %g, simulation %g", name, j, g[j], w[j])
			}
		}
	}
	// Without keep, the conv output is fused away.
	fused, err := Lowering{ISA: ISAVNNI}.Lower(g, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range fused.Graph.Nodes {
		for _, o := range n.GetOutputs() {
			if o == "c" {
				t.Errorf("%s (%s) still computes c", n.GetName(), n.GetOpType())
			}
		}
	}
}

func runAll(t *testing.T, g *potv1.Graph, x *tensor.Tensor) []*tensor.Tensor {
	t.Helper()
	p, err := rt.Compile(g, rt.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var names []string
	for _, o := range g.Outputs {
		names = append(names, o.GetName())
	}
	res, err := p.Run(context.Background(), map[string]*tensor.Tensor{"x": x}, names...)
	if err != nil {
		t.Fatal(err)
	}
	var out []*tensor.Tensor
	for _, n := range names {
		out = append(out, res[n])
	}
	return out
}

func countOps(g *potv1.Graph, op string) int {
	n := 0
	for _, nd := range g.Nodes {
		if nd.GetOpType() == op {
			n++
		}
	}
	return n
}

// TestQDQGraph lowers a QDQ graph (no plan), as pot writes and ONNX
// Runtime reads: int8 (or uint8) activations in, int8 per-axis weights,
// an int32 bias, uint8 after the Relu. On vnni its output is the QDQ graph's run
// in float (within one step; here equal). On avx2 int8 activations are
// centred (zero point 128 as levels) and sum exactly too; uint8 ones near
// 255 show the int16 saturation of VPMADDUBSW.
func TestQDQGraph(t *testing.T) {
	for _, signed := range []bool{true, false} {
		t.Run(map[bool]string{true: "int8", false: "uint8"}[signed], func(t *testing.T) { testQDQGraph(t, signed) })
	}
}

func testQDQGraph(t *testing.T, signed bool) {
	r := rand.New(rand.NewPCG(8, 8))
	const C, M, H = 8, 16, 9
	g := &potv1.Graph{Name: "qdq", Opsets: []*potv1.OpsetImport{{Domain: "", Version: 13}}}
	g.Inputs = []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT}}
	g.Outputs = []*potv1.ValueInfo{{Name: "y", Dtype: potv1.DataType_DATA_TYPE_FLOAT}}
	w8 := make([]int8, M*C*9)
	for i := range w8 {
		w8[i] = int8(r.IntN(255) - 127)
	}
	ws := make([]float32, M)
	b32 := make([]int32, M)
	const sy = 0.05
	sx := float32(0.02)
	if !signed {
		sx = 0.006 // levels up to 250
	}
	for m := range ws {
		ws[m] = float32(0.001 + 0.01*r.Float64())
		b32[m] = int32(r.IntN(2001) - 1000)
	}
	bs := make([]float32, M)
	for m := range bs {
		bs[m] = sx * ws[m]
	}
	add := func(name string, t *tensor.Tensor) { g.Initializers = append(g.Initializers, rt.ToProto(name, t)) }
	add("w_q", tensor.From([]int{M, C, 3, 3}, w8))
	add("w_s", tensor.From([]int{M}, ws))
	add("w_z", tensor.From([]int{M}, make([]int8, M)))
	add("b_q", tensor.From([]int{M}, b32))
	add("b_s", tensor.From([]int{M}, bs))
	add("x_s", tensor.From([]int{}, []float32{sx}))
	if signed {
		add("x_z", tensor.From([]int{}, []int8{0}))
	} else {
		add("x_z", tensor.From([]int{}, []uint8{0}))
	}
	add("y_s", tensor.From([]int{}, []float32{sy}))
	add("y_z", tensor.From([]int{}, []uint8{0}))
	node := func(name, op string, in []string, out string, attrs ...*potv1.Attribute) {
		g.Nodes = append(g.Nodes, &potv1.Node{Name: name, OpType: op, Inputs: in, Outputs: []string{out}, Attributes: attrs})
	}
	node("qx", "QuantizeLinear", []string{"x", "x_s", "x_z"}, "xq")
	node("dqx", "DequantizeLinear", []string{"xq", "x_s", "x_z"}, "xd")
	node("dqw", "DequantizeLinear", []string{"w_q", "w_s", "w_z"}, "wd", graph.IntAttr("axis", 0))
	node("dqb", "DequantizeLinear", []string{"b_q", "b_s"}, "bd", graph.IntAttr("axis", 0))
	node("conv", "Conv", []string{"xd", "wd", "bd"}, "c",
		&potv1.Attribute{Name: "pads", Type: potv1.Attribute_TYPE_INTS, Ints: []int64{1, 1, 1, 1}})
	node("relu", "Relu", []string{"c"}, "r")
	node("qy", "QuantizeLinear", []string{"r", "y_s", "y_z"}, "yq")
	node("dqy", "DequantizeLinear", []string{"yq", "y_s", "y_z"}, "y")
	x := tensor.From([]int{3, C, H, H}, randFloats(r, 3*C*H*H, 1.5))
	for _, isa := range []string{ISAVNNI, ISAAVX2} {
		low, err := Lowering{ISA: isa}.Lower(g, nil)
		if err != nil {
			t.Fatal(err)
		}
		if countOps(low.Graph, "QConv") != 1 || countOps(low.Graph, "Conv")+countOps(low.Graph, "QuantizeLinear")+countOps(low.Graph, "DequantizeLinear") != 0 {
			t.Fatalf("%s: not lowered: %v", isa, low.Graph.Nodes)
		}
		want, got := run(t, g, x).F32(), run(t, low.Graph, x).F32()
		exact := 0
		for i := range want {
			d := math.Abs(float64(got[i] - want[i]))
			if d > sy*1.001 && isa == ISAVNNI {
				t.Fatalf("%s: output %d: %g, QDQ %g", isa, i, got[i], want[i])
			}
			if d == 0 {
				exact++
			}
		}
		t.Logf("%s: %d of %d outputs equal to the QDQ graph's", isa, exact, len(want))
		if isa == ISAVNNI && exact*100 < 99*len(want) {
			t.Errorf("%s: only %d of %d outputs equal", isa, exact, len(want))
		}
		// Full 8-bit weights and uint8 activations: adjacent products
		// overflow int16 on avx2; centred int8 ones do not.
		if isa == ISAAVX2 && !signed && exact == len(want) {
			t.Errorf("%s: no output shows saturation", isa)
		}
		if isa == ISAAVX2 && signed && exact != len(want) {
			t.Errorf("%s: %d of %d outputs differ with centred activations", isa, len(want)-exact, len(want))
		}
	}
}
