package fp16

import (
	"context"
	"math"
	"reflect"
	"sort"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// n builds a node named after its first output.
func n(op string, in []string, out ...string) *potv1.Node {
	return &potv1.Node{Name: out[0], OpType: op, Inputs: in, Outputs: out}
}

func withAttr(nd *potv1.Node, a *potv1.Attribute) *potv1.Node {
	nd.Attributes = append(nd.Attributes, a)
	return nd
}

func scalar(name string, v float32) *potv1.Tensor { return graph.FloatTensor(name, nil, []float32{v}) }

// testGraph is a float graph X -> nodes -> Y with initializers.
func testGraph(nodes []*potv1.Node, inits ...*potv1.Tensor) *potv1.Graph {
	return &potv1.Graph{
		Opsets:       []*potv1.OpsetImport{{Version: 13}},
		Inputs:       []*potv1.ValueInfo{{Name: "X", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Outputs:      []*potv1.ValueInfo{{Name: "Y", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Initializers: inits,
		Nodes:        nodes,
	}
}

// layerNorm is LayerNorm as PyTorch exports it (the openWakeWord heads),
// between two Gemms: Gemm, ReduceMean, Sub, Pow 2, ReduceMean, Add eps,
// Sqrt, Div, Mul gamma, Add beta, Relu, Gemm.
func layerNorm(eps float32) *potv1.Graph {
	return testGraph([]*potv1.Node{
		n("Gemm", []string{"X", "W1", "B1"}, "h"),
		n("ReduceMean", []string{"h"}, "mean"),
		n("Sub", []string{"h", "mean"}, "d"),
		n("Pow", []string{"d", "two"}, "d2"),
		n("ReduceMean", []string{"d2"}, "var"),
		n("Add", []string{"var", "eps"}, "vare"),
		n("Sqrt", []string{"vare"}, "std"),
		n("Div", []string{"d", "std"}, "norm"),
		n("Mul", []string{"norm", "gamma"}, "scaled"),
		n("Add", []string{"scaled", "beta"}, "ln"),
		n("Relu", []string{"ln"}, "r"),
		n("Gemm", []string{"r", "W2", "B2"}, "Y"),
	},
		graph.FloatTensor("W1", []int64{4, 4}, []float32{1.1, 0.3, -0.7, 0.2, 0.5, -1.3, 0.9, 0.1, -0.2, 0.8, 1.7, -0.6, 0.4, 0.6, -0.9, 1.2}),
		graph.FloatTensor("B1", []int64{4}, []float32{0.1, -0.2, 0.3, -0.4}),
		scalar("two", 2), scalar("eps", eps),
		graph.FloatTensor("gamma", []int64{4}, []float32{1.01, 0.99, 1.1, 0.9}),
		graph.FloatTensor("beta", []int64{4}, []float32{0.01, -0.02, 0.03, 0.1}),
		graph.FloatTensor("W2", []int64{4, 1}, []float32{0.7, -0.3, 0.2, 0.9}),
		graph.FloatTensor("B2", []int64{1}, []float32{0.05}),
	)
}

// softmax is softmax written out between two MatMuls.
func softmax() *potv1.Graph {
	return testGraph([]*potv1.Node{
		n("MatMul", []string{"X", "W1"}, "h"),
		n("ReduceMax", []string{"h"}, "max"),
		n("Sub", []string{"h", "max"}, "s"),
		n("Exp", []string{"s"}, "e"),
		n("ReduceSum", []string{"e"}, "sum"),
		n("Div", []string{"e", "sum"}, "p"),
		n("MatMul", []string{"p", "W2"}, "Y"),
	}, graph.FloatTensor("W1", []int64{2, 2}, []float32{1, 2, 3, 4}), graph.FloatTensor("W2", []int64{2, 2}, []float32{1, 2, 3, 4}))
}

// guarded is a / f(b) between MatMuls, the divisor built by the nodes
// given (reading "b" and the constants, writing "den").
func guarded(root *potv1.Node, divisor ...*potv1.Node) *potv1.Graph {
	nodes := []*potv1.Node{
		n("MatMul", []string{"X", "W"}, "a"),
		n("MatMul", []string{"X", "W"}, "b"),
	}
	nodes = append(nodes, divisor...)
	nodes = append(nodes, root, n("MatMul", []string{"q", "W"}, "Y"))
	return testGraph(nodes, graph.FloatTensor("W", []int64{2, 2}, []float32{1, 2, 3, 4}),
		scalar("eps", 1e-6), scalar("big", 1e-3), scalar("neg", -0.5), scalar("pos", 0.5))
}

func TestMarkKeepFP32(t *testing.T) {
	quantizedVar := layerNorm(1e-5)
	// pot's gpu plan quantizes the variance, an input of the Add.
	quantizedVar.Nodes[5].Inputs[0] = "var/fq"
	quantizedVar.Nodes = append(quantizedVar.Nodes, &potv1.Node{Name: "fq", OpType: plan.FakeQuantizeOp, Domain: plan.FakeQuantizeDomain,
		Inputs: []string{"var", "lo", "hi", "lo", "hi"}, Outputs: []string{"var/fq"}})
	quantizedNum := layerNorm(1e-5)
	quantizedNum.Nodes[7].Inputs[0] = "d/fq"
	quantizedNum.Nodes = append(quantizedNum.Nodes, &potv1.Node{Name: "fq", OpType: plan.FakeQuantizeOp, Domain: plan.FakeQuantizeDomain,
		Inputs: []string{"d", "lo", "hi", "lo", "hi"}, Outputs: []string{"d/fq"}})
	castEps := guarded(n("Div", []string{"a", "den"}, "q"), n("Cast", []string{"eps64"}, "epsf"), n("Add", []string{"b", "epsf"}, "den"))
	castEps.Initializers = append(castEps.Initializers, &potv1.Tensor{Name: "eps64", Dtype: potv1.DataType_DATA_TYPE_DOUBLE, Data: make([]byte, 8)})
	castEps.Nodes[2] = withAttr(castEps.Nodes[2], graph.IntAttr("to", 1))

	for _, tc := range []struct {
		name  string
		g     *potv1.Graph
		nodes []string // marked, by name
		inits []string // float initializers kept in float32
	}{
		{
			name:  "LayerNorm decomposition, eps 1e-5",
			g:     layerNorm(1e-5),
			nodes: []string{"mean", "d", "d2", "var", "vare", "std", "norm", "scaled", "ln", "r"},
			inits: []string{"two", "eps", "gamma", "beta"},
		},
		{
			// OpenVINO protects eps up to the smallest normal half only.
			name: "LayerNorm decomposition, eps 1e-3",
			g:    layerNorm(1e-3),
		},
		{
			// Up from the Add the marking stops at the FakeQuantize: the
			// variance is computed in half.
			name:  "LayerNorm, variance quantized",
			g:     quantizedVar,
			nodes: []string{"mean", "d", "vare", "std", "norm", "scaled", "ln", "r"},
			inits: []string{"eps", "gamma", "beta"},
		},
		{
			// The Div's first input is quantized: it stays in half, and so
			// does what only it would have marked.
			name: "LayerNorm, numerator quantized",
			g:    quantizedNum,
		},
		{
			name:  "softmax decomposition",
			g:     softmax(),
			nodes: []string{"s", "e", "sum", "p"},
		},
		{
			name: "Exp into no reduction",
			g:    testGraph([]*potv1.Node{n("MatMul", []string{"X", "W"}, "h"), n("Exp", []string{"h"}, "e"), n("MatMul", []string{"e", "W"}, "Y")}, graph.FloatTensor("W", []int64{2, 2}, []float32{1, 2, 3, 4})),
		},
		{
			name:  "a / (b + eps)",
			g:     guarded(n("Div", []string{"a", "den"}, "q"), n("Add", []string{"b", "eps"}, "den")),
			nodes: []string{"den", "q"},
			inits: []string{"eps"},
		},
		{
			name:  "a / max(eps, b)",
			g:     guarded(n("Div", []string{"a", "den"}, "q"), n("Max", []string{"eps", "b"}, "den")),
			nodes: []string{"den", "q"},
			inits: []string{"eps"},
		},
		{
			name:  "a / sqrt(b + eps)",
			g:     guarded(n("Div", []string{"a", "den"}, "q"), n("Add", []string{"b", "eps"}, "s"), n("Sqrt", []string{"s"}, "den")),
			nodes: []string{"s", "den", "q"},
			inits: []string{"eps"},
		},
		{
			name:  "a / (b + Cast(eps))",
			g:     castEps,
			nodes: []string{"epsf", "den", "q"},
			inits: []string{"eps64"},
		},
		{
			name:  "a * pow(b + eps, -0.5)",
			g:     guarded(n("Mul", []string{"den", "a"}, "q"), n("Add", []string{"b", "eps"}, "s"), n("Pow", []string{"s", "neg"}, "den")),
			nodes: []string{"s", "den", "q"},
			inits: []string{"eps", "neg"},
		},
		{
			name:  "1 / (b + eps)",
			g:     guarded(n("Reciprocal", []string{"den"}, "q"), n("Add", []string{"b", "eps"}, "den")),
			nodes: []string{"den", "q"},
			inits: []string{"eps"},
		},
		{
			name: "a * pow(b + eps, 0.5)",
			g:    guarded(n("Mul", []string{"den", "a"}, "q"), n("Add", []string{"b", "eps"}, "s"), n("Pow", []string{"s", "pos"}, "den")),
		},
		{
			name: "a / (b + 1e-3)",
			g:    guarded(n("Div", []string{"a", "den"}, "q"), n("Add", []string{"b", "big"}, "den")),
		},
		{
			name: "a / (b + c), c computed",
			g:    guarded(n("Div", []string{"a", "den"}, "q"), n("Add", []string{"b", "a"}, "den")),
		},
		{
			name:  "LpNormalization",
			g:     testGraph([]*potv1.Node{n("MatMul", []string{"X", "W"}, "h"), n("LpNormalization", []string{"h"}, "l"), n("Mul", []string{"l", "W"}, "m"), n("MatMul", []string{"m", "W"}, "Y")}, graph.FloatTensor("W", []int64{2, 2}, []float32{1, 2, 3, 4})),
			nodes: []string{"l", "m"},
			inits: []string{"W"},
		},
		{
			name: "Conv and Relu",
			g: testGraph([]*potv1.Node{n("Conv", []string{"X", "W", "B"}, "c"), n("Relu", []string{"c"}, "r"), n("Conv", []string{"r", "W", "B"}, "Y")},
				graph.FloatTensor("W", []int64{1, 1, 1, 1}, []float32{0.3}), graph.FloatTensor("B", []int64{1}, []float32{0.1})),
		},
		{
			// A shape computed in float: Shape, Cast, Mul, Cast into a
			// Reshape; the Shape itself and the data path are not marked.
			name: "shape subgraph",
			g: testGraph([]*potv1.Node{
				n("Relu", []string{"X"}, "r"),
				n("Shape", []string{"r"}, "shape"),
				withAttr(n("Cast", []string{"shape"}, "fshape"), graph.IntAttr("to", 1)),
				n("Mul", []string{"fshape", "one"}, "scaled"),
				withAttr(n("Cast", []string{"scaled"}, "ishape"), graph.IntAttr("to", 7)),
				n("Reshape", []string{"r", "ishape"}, "Y"),
			}, scalar("one", 1)),
			nodes: []string{"fshape", "scaled", "ishape"},
			inits: []string{"one"},
		},
		{
			name: "floating-point Range",
			g: testGraph([]*potv1.Node{
				n("Range", []string{"zero", "four", "one"}, "rng"),
				n("Unsqueeze", []string{"rng", "axes"}, "u"),
				n("Mul", []string{"X", "u"}, "Y"),
			}, scalar("zero", 0), scalar("four", 4), scalar("one", 1), &potv1.Tensor{Name: "axes", Dtype: potv1.DataType_DATA_TYPE_INT64, Dims: []int64{1}, Data: make([]byte, 8)}),
			nodes: []string{"rng", "u", "Y"},
			inits: []string{"zero", "four", "one"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScope(tc.g)
			m := markKeepFP32(s)
			var nodes, inits []string
			for nd := range m.nodes {
				nodes = append(nodes, nd.GetName())
			}
			for name := range m.inits {
				if s.real[name] {
					inits = append(inits, name)
				}
			}
			sort.Strings(nodes)
			sort.Strings(inits)
			want := append([]string(nil), tc.nodes...)
			sort.Strings(want)
			if !reflect.DeepEqual(nodes, want) && (len(nodes) > 0 || len(want) > 0) {
				t.Errorf("marked nodes %v, want %v", nodes, want)
			}
			wantInits := append([]string(nil), tc.inits...)
			sort.Strings(wantInits)
			if !reflect.DeepEqual(inits, wantInits) && (len(inits) > 0 || len(wantInits) > 0) {
				t.Errorf("kept initializers %v, want %v", inits, wantInits)
			}
		})
	}
}

// The marking inside the branches of an If: each branch is marked on its
// own, and an outer value kept in float32 reaches the branch in half.
func TestKeepFloat32Subgraphs(t *testing.T) {
	body := layerNorm(1e-5)
	body.Inputs = nil
	body.Nodes[11].Outputs[0] = "yb"
	body.Outputs = []*potv1.ValueInfo{{Name: "yb", Dtype: potv1.DataType_DATA_TYPE_FLOAT}}
	// The branch reads the outer Div's output.
	body.Nodes[0].Inputs[0] = "outer"
	g := testGraph([]*potv1.Node{
		n("MatMul", []string{"X", "W"}, "a"),
		n("Add", []string{"a", "eps"}, "den"),
		n("Div", []string{"a", "den"}, "outer"),
		n("Greater", []string{"X", "W"}, "c"),
		withAttr(n("If", []string{"c"}, "Y"), &potv1.Attribute{Name: "then_branch", Type: potv1.Attribute_TYPE_GRAPH, G: body}),
	}, graph.FloatTensor("W", []int64{4, 4}, make([]float32, 16)), scalar("eps", 1e-6))
	a, err := Lower(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	var lowered *potv1.Graph
	outer := map[string]bool{}
	for _, nd := range a.Graph.GetNodes() {
		outer[nd.GetName()] = KeepsFloat32(nd)
		if nd.GetOpType() == "If" {
			lowered = nd.GetAttributes()[0].GetG()
		}
	}
	if !outer["den"] || !outer["outer"] || outer["a"] || outer["Y"] {
		t.Errorf("outer marks %v", outer)
	}
	var marked []string
	for _, nd := range lowered.GetNodes() {
		if KeepsFloat32(nd) {
			marked = append(marked, nd.GetName())
		}
		if nd.GetName() == "h" && nd.GetInputs()[0] != "outer"+ConvertSuffix {
			t.Errorf("the branch reads %q, want the half copy", nd.GetInputs()[0])
		}
	}
	sort.Strings(marked)
	want := []string{"d", "d2", "ln", "mean", "norm", "r", "scaled", "std", "var", "vare"}
	if !reflect.DeepEqual(marked, want) {
		t.Errorf("marked in the branch %v, want %v", marked, want)
	}
	// The caller's graph is untouched.
	for _, nd := range append(g.GetNodes(), body.GetNodes()...) {
		if KeepsFloat32(nd) {
			t.Fatalf("Lower marked node %q of its input graph", nd.GetName())
		}
	}
	if body.Nodes[0].Inputs[0] != "outer" {
		t.Error("Lower renamed an input of its input graph's branch")
	}
}

// Lower keeps the marked subgraph's constants exact, makes the unmarked
// reader of a kept value read a half copy, and the policy leaves the
// marked outputs unrounded: the LayerNorm's output (a graph output too)
// is the float32 computation from the Gemm's half output, and the last
// Gemm's output is half.
func TestLowerKeepsLayerNormInFloat32(t *testing.T) {
	g := layerNorm(1e-5)
	g.Outputs = append(g.Outputs, &potv1.ValueInfo{Name: "ln", Dtype: potv1.DataType_DATA_TYPE_FLOAT})
	a, err := Lower(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	inits := map[string][]float32{}
	for _, in := range a.Graph.GetInitializers() {
		inits[in.GetName()], _ = graph.Float32s(in)
	}
	if inits["eps"][0] != 1e-5 || inits["gamma"][0] != 1.01 || inits["beta"][0] != 0.01 {
		t.Errorf("kept constants rounded: eps %v gamma %v beta %v", inits["eps"], inits["gamma"], inits["beta"])
	}
	if inits["W1"][0] != Round(1.1) || inits["W2"][0] != Round(0.7) {
		t.Errorf("Gemm weights not rounded: %v %v", inits["W1"][0], inits["W2"][0])
	}
	var reads string
	for _, nd := range a.Graph.GetNodes() {
		if nd.GetName() == "Y" {
			reads = nd.GetInputs()[0]
		}
	}
	if reads != "r"+ConvertSuffix {
		t.Errorf("the last Gemm reads %q, want %q", reads, "r"+ConvertSuffix)
	}
	if KeepsFloat32(g.GetNodes()[7]) || g.GetNodes()[11].GetInputs()[0] != "r" {
		t.Error("Lower modified its input graph")
	}

	prog, err := rt.Compile(a.Graph, rt.Options{Policy: Policy{}})
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{0.37, -1.21, 2.5, 0.013}
	res, err := prog.Run(context.Background(), map[string]*tensor.Tensor{"X": tensor.From([]int{1, 4}, x)})
	if err != nil {
		t.Fatal(err)
	}
	// By hand: the first Gemm in half (rounded input, weights, bias and
	// output, float32 sums), the LayerNorm in float32.
	W1, _ := graph.Float32s(g.GetInitializers()[0])
	B1, _ := graph.Float32s(g.GetInitializers()[1])
	h := make([]float32, 4)
	for j := range h {
		var s float32
		for i := range x {
			s += Round(x[i]) * Round(W1[i*4+j])
		}
		h[j] = Round(s + Round(B1[j]))
	}
	mean := (h[0] + h[1] + h[2] + h[3]) / 4
	var v float32
	d := make([]float32, 4)
	for j := range h {
		d[j] = h[j] - mean
		v += d[j] * d[j]
	}
	std := float32(math.Sqrt(float64(v/4 + 1e-5)))
	gamma, beta, w2 := []float32{1.01, 0.99, 1.1, 0.9}, []float32{0.01, -0.02, 0.03, 0.1}, []float32{0.7, -0.3, 0.2, 0.9}
	ln := res["ln"].F32()
	y := Round(0.05)
	inHalf := false // some LayerNorm output is no half: the check tells float32 from half
	for j := range h {
		want := d[j]/std*gamma[j] + beta[j]
		if math.Abs(float64(ln[j]-want)) > 1e-5 {
			t.Errorf("ln[%d] = %.7g, want %.7g (float32)", j, ln[j], want)
		}
		inHalf = inHalf || math.Abs(float64(Round(want)-want)) > 1e-4
		y += Round(max(want, 0)) * Round(w2[j])
	}
	if !inHalf {
		t.Fatal("every LayerNorm output is a half: pick other inputs")
	}
	got := res["Y"].F32()[0]
	if got != Round(got) || math.Abs(float64(got-Round(y))) > math.Abs(float64(y))/1024 {
		t.Errorf("Y = %.7g, want the half %.7g", got, Round(y))
	}
}

func TestPolicyKeepsMarkedOutputs(t *testing.T) {
	kept := &potv1.Node{OpType: "Div", Attributes: []*potv1.Attribute{graph.IntAttr(KeepAttr, 1)}}
	out := []*tensor.Tensor{tensor.From([]int{1}, []float32{0.1})}
	Policy{}.Output(kept, out)
	if out[0].F32()[0] != 0.1 {
		t.Errorf("kept output rounded to %.9g", out[0].F32()[0])
	}
	if !KeepsFloat32(kept) || KeepsFloat32(&potv1.Node{OpType: "Div"}) {
		t.Error("KeepsFloat32 misreads the attribute")
	}
}
