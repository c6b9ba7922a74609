package qdq

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

var update = flag.Bool("update", false, "update golden files")

// smallGraph is x -> Conv(w, b) -> Relu -> Flatten -> Gemm(w2, b2) -> y,
// with 2 output channels and 2 classes.
func smallGraph(opset int64) *potv1.Graph {
	return &potv1.Graph{
		Name:    "small",
		Opsets:  []*potv1.OpsetImport{{Version: opset}},
		Inputs:  []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Outputs: []*potv1.ValueInfo{{Name: "y", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Initializers: []*potv1.Tensor{
			graph.FloatTensor("w", []int64{2, 1, 1, 1}, []float32{0.5, -0.25}),
			graph.FloatTensor("b", []int64{2}, []float32{0.1, -0.2}),
			graph.FloatTensor("w2", []int64{2, 2}, []float32{1, -1, 0.5, 0.25}),
			graph.FloatTensor("b2", []int64{2}, []float32{0, 1}),
		},
		Nodes: []*potv1.Node{
			{Name: "conv", OpType: "Conv", Inputs: []string{"x", "w", "b"}, Outputs: []string{"c"}},
			{Name: "relu", OpType: "Relu", Inputs: []string{"c"}, Outputs: []string{"r"}},
			{Name: "flat", OpType: "Flatten", Inputs: []string{"r"}, Outputs: []string{"f"}},
			{Name: "fc", OpType: "Gemm", Inputs: []string{"f", "w2", "b2"}, Outputs: []string{"y"},
				Attributes: []*potv1.Attribute{{Name: "transB", Type: potv1.Attribute_TYPE_INT, I: 1}}},
		},
	}
}

func f32(v ...float32) []float32 { return v }

// smallPlan quantizes x (signed, symmetric: range [-1.28·(128/127)... ]),
// the weights per channel, and r (unsigned) before the Gemm.
func smallPlan() *potv1.QuantizationPlan {
	return &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{
		// Signed symmetric activation: scale 0.01, zero at level 128.
		{Id: "a:x", Location: &potv1.Location{Tensor: "x"}, Consumers: []string{"conv"}, Bits: 8, Levels: 256, LevelLow: -128, LevelHigh: 127,
			InputLow: f32(-1.28), InputHigh: f32(1.27), OutputLow: f32(-1.28), OutputHigh: f32(1.27)},
		// Narrow-range weights per output channel: scales 0.5/127, 0.25/127.
		{Id: "w:conv:1", Location: &potv1.Location{Tensor: "w", Node: "conv", Input: 1}, Weights: true, Bits: 8, Levels: 255,
			LevelLow: -127, LevelHigh: 127, Granularity: potv1.Granularity_GRANULARITY_PER_CHANNEL, Axis: 0,
			InputLow: f32(-0.5, -0.25), InputHigh: f32(0.5, 0.25), OutputLow: f32(-0.5, -0.25), OutputHigh: f32(0.5, 0.25)},
		// Unsigned activation: scale 2/255.
		{Id: "a:r", Location: &potv1.Location{Tensor: "r"}, Consumers: []string{"fc"}, Bits: 8, Levels: 256, LevelLow: 0, LevelHigh: 255,
			InputLow: f32(0), InputHigh: f32(2), OutputLow: f32(0), OutputHigh: f32(2)},
		{Id: "w:fc:1", Location: &potv1.Location{Tensor: "w2", Node: "fc", Input: 1}, Consumers: []string{"fc"}, Weights: true, Bits: 8, Levels: 255,
			LevelLow: -127, LevelHigh: 127, Granularity: potv1.Granularity_GRANULARITY_PER_CHANNEL, Axis: 0,
			InputLow: f32(-1, -0.5), InputHigh: f32(1, 0.5), OutputLow: f32(-1, -0.5), OutputHigh: f32(1, 0.5)},
	}}
}

func ints(t *testing.T, x *graph.Index, name string) []int64 {
	t.Helper()
	c := x.Constant(name)
	if c == nil {
		t.Fatalf("no initializer %q", name)
	}
	var out []int64
	switch c.GetDtype() {
	case potv1.DataType_DATA_TYPE_INT8:
		for _, b := range c.GetData() {
			out = append(out, int64(int8(b)))
		}
	case potv1.DataType_DATA_TYPE_UINT8:
		for _, b := range c.GetData() {
			out = append(out, int64(b))
		}
	case potv1.DataType_DATA_TYPE_INT32:
		for i := 0; i < len(c.GetData()); i += 4 {
			out = append(out, int64(int32(binary.LittleEndian.Uint32(c.GetData()[i:]))))
		}
	default:
		t.Fatalf("%q has type %v", name, c.GetDtype())
	}
	return out
}

func floats(t *testing.T, x *graph.Index, name string) []float32 {
	t.Helper()
	v, err := graph.Float32s(x.Constant(name))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestExportValues(t *testing.T) {
	g := smallGraph(13)
	out, stats, err := Export(g, smallPlan())
	if err != nil {
		t.Fatal(err)
	}
	if stats.Activations != 2 || stats.Weights != 2 || stats.Biases != 2 {
		t.Errorf("stats = %+v, want 2 activations, 2 weights, 2 biases", stats)
	}
	x := graph.NewIndex(out)
	conv, fc := x.Node("conv"), x.Node("fc")
	// Inputs of the quantized ops come from DequantizeLinear nodes.
	for _, n := range []*potv1.Node{conv, fc} {
		for i, in := range n.GetInputs() {
			if p := x.Producer(in); p == nil || p.GetOpType() != "DequantizeLinear" {
				t.Errorf("%s input %d (%s) is not dequantized", n.GetName(), i, in)
			}
		}
	}
	// Activation x: int8, zero point 0, scale 0.01.
	q := x.Producer(x.Producer(conv.GetInputs()[0]).GetInputs()[0])
	if q.GetOpType() != "QuantizeLinear" || q.GetInputs()[0] != "x" {
		t.Fatalf("conv input is not Q/DQ of x: %v", q)
	}
	if s := floats(t, x, q.GetInputs()[1]); len(s) != 1 || math.Abs(float64(s[0]-0.01)) > 1e-7 {
		t.Errorf("x scale = %v, want 0.01", s)
	}
	if z := ints(t, x, q.GetInputs()[2]); !slices.Equal(z, []int64{0}) || x.Constant(q.GetInputs()[2]).GetDtype() != potv1.DataType_DATA_TYPE_INT8 {
		t.Errorf("x zero point = %v (%v), want int8 0", z, x.Constant(q.GetInputs()[2]).GetDtype())
	}
	// r is unsigned: uint8 with zero point 0; it sits before Flatten's consumer.
	fdq := x.Producer(fc.GetInputs()[0])
	fq := x.Producer(fdq.GetInputs()[0])
	if fq.GetInputs()[0] != "f" && fq.GetInputs()[0] != "r" {
		t.Errorf("gemm input quantizes %q", fq.GetInputs()[0])
	}
	if x.Constant(fq.GetInputs()[2]).GetDtype() != potv1.DataType_DATA_TYPE_UINT8 {
		t.Errorf("unsigned activation stored as %v", x.Constant(fq.GetInputs()[2]).GetDtype())
	}
	// Conv weights: w/scale = [0.5/(0.5/127), -0.25/(0.25/127)] = [127, -127].
	wdq := x.Producer(conv.GetInputs()[1])
	if got := ints(t, x, wdq.GetInputs()[0]); !slices.Equal(got, []int64{127, -127}) {
		t.Errorf("conv weights = %v, want [127 -127]", got)
	}
	if graph.AttrInt(wdq, "axis", -1) != 0 || len(floats(t, x, wdq.GetInputs()[1])) != 2 {
		t.Errorf("conv weights are not per-axis 0")
	}
	// Conv bias: b / (0.01 · w_scale) = 0.1/(0.01·0.5/127) = 2540, -0.2/(0.01·0.25/127) = -10160.
	bdq := x.Producer(conv.GetInputs()[2])
	if got := ints(t, x, bdq.GetInputs()[0]); !slices.Equal(got, []int64{2540, -10160}) {
		t.Errorf("conv bias = %v, want [2540 -10160]", got)
	}
	// Gemm weights [[1 -1] [0.5 0.25]] with scales 1/127, 0.5/127.
	w2 := ints(t, x, x.Producer(fc.GetInputs()[1]).GetInputs()[0])
	if !slices.Equal(w2, []int64{127, -127, 127, 64}) {
		t.Errorf("gemm weights = %v, want [127 -127 127 64]", w2)
	}
	// The float weights are gone.
	for _, name := range []string{"w", "w2", "b", "b2"} {
		if x.Initializer(name) != nil {
			t.Errorf("float initializer %q is still in the graph", name)
		}
	}
}

// TestExportGolden pins the structure of the exported graph.
// TestExportConstantWeights: with the weights and biases in Constant
// nodes (as paddle2onnx writes them), the export quantizes them as it
// does initializers and leaves no Constant of float weights behind.
func TestExportConstantWeights(t *testing.T) {
	g := smallGraph(13)
	var consts []*potv1.Node
	for _, init := range g.Initializers {
		consts = append(consts, &potv1.Node{Name: "const_" + init.GetName(), OpType: "Constant", Outputs: []string{init.GetName()},
			Attributes: []*potv1.Attribute{{Name: "value", Type: potv1.Attribute_TYPE_TENSOR, T: init}}})
	}
	g.Initializers = nil
	g.Nodes = append(consts, g.Nodes...)
	out, stats, err := Export(g, smallPlan())
	if err != nil {
		t.Fatal(err)
	}
	if stats.Weights != 2 || stats.Biases != 2 {
		t.Errorf("stats = %+v, want 2 weights, 2 biases", stats)
	}
	for _, n := range out.GetNodes() {
		if n.GetOpType() == "Constant" {
			t.Errorf("Constant %q (output %v) is left in the QDQ graph", n.GetName(), n.GetOutputs())
		}
	}
	x := graph.NewIndex(out)
	if z := ints(t, x, x.Producer(x.Node("conv").GetInputs()[1]).GetInputs()[0]); !slices.Equal(z, []int64{127, -127}) {
		t.Errorf("conv weights %v, want [127 -127]", z)
	}
}

func TestExportGolden(t *testing.T) {
	for _, opset := range []int64{13, 11} {
		t.Run(fmt.Sprint("opset", opset), func(t *testing.T) {
			out, _, err := Export(smallGraph(opset), smallPlan())
			if err != nil {
				t.Fatal(err)
			}
			got := dump(out)
			path := filepath.Join("testdata", fmt.Sprintf("small_opset%d.golden", opset))
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("exported graph differs from %s (run with -update to accept):\n%s", path, got)
			}
		})
	}
}

// dump prints nodes and initializer types, one per line.
func dump(g *potv1.Graph) string {
	var b strings.Builder
	for _, n := range g.GetNodes() {
		fmt.Fprintf(&b, "%s %s %v -> %v", n.GetOpType(), n.GetName(), n.GetInputs(), n.GetOutputs())
		for _, a := range n.GetAttributes() {
			fmt.Fprintf(&b, " %s=%d", a.GetName(), a.GetI())
		}
		b.WriteString("\n")
	}
	for _, t := range g.GetInitializers() {
		fmt.Fprintf(&b, "init %s %v %v\n", t.GetName(), t.GetDtype(), t.GetDims())
	}
	return b.String()
}

func TestExportSkipsFloatNodes(t *testing.T) {
	p := smallPlan()
	p.Precisions = []*potv1.NodePrecision{{Node: "fc", Precision: potv1.Precision_PRECISION_FLOAT}}
	out, stats, err := Export(smallGraph(13), p)
	if err != nil {
		t.Fatal(err)
	}
	x := graph.NewIndex(out)
	fc := x.Node("fc")
	for i, in := range fc.GetInputs() {
		if p := x.Producer(in); p != nil && p.GetOpType() == "DequantizeLinear" {
			t.Errorf("reverted node fc still reads a dequantized input %d", i)
		}
	}
	if stats.Activations != 1 || stats.Weights != 1 {
		t.Errorf("stats = %+v", stats)
	}
}

func TestExportErrors(t *testing.T) {
	tests := map[string]func(g *potv1.Graph, p *potv1.QuantizationPlan){
		"old opset": func(g *potv1.Graph, p *potv1.QuantizationPlan) { g.Opsets[0].Version = 9 },
		"no node":   func(g *potv1.Graph, p *potv1.QuantizationPlan) { p.Quantizers[1].Location.Node = "nope" },
		"empty range": func(g *potv1.Graph, p *potv1.QuantizationPlan) {
			p.Quantizers[0].InputHigh = p.Quantizers[0].InputLow
		},
		"weights not constant": func(g *potv1.Graph, p *potv1.QuantizationPlan) { p.Quantizers[1].Location.Input = 0 },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			g, p := smallGraph(13), smallPlan()
			mutate(g, p)
			if _, _, err := Export(g, p); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestExportWideTypes(t *testing.T) {
	// 16-bit activations before opset 21 use ONNX Runtime's com.microsoft
	// Q/DQ; 32-bit ones (finer than float32) are left out.
	p := smallPlan()
	p.Quantizers[0].LevelLow, p.Quantizers[0].LevelHigh, p.Quantizers[0].Levels = -32768, 32767, 65536
	p.Quantizers[2].LevelLow, p.Quantizers[2].LevelHigh, p.Quantizers[2].Levels = -1<<31, 1<<31-1, 1<<32
	out, stats, err := Export(smallGraph(13), p)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Omitted != 1 || stats.Activations != 1 {
		t.Errorf("stats = %+v", stats)
	}
	x := graph.NewIndex(out)
	q := x.Producer(x.Producer(x.Node("conv").GetInputs()[0]).GetInputs()[0])
	if q.GetDomain() != "com.microsoft" || x.Constant(q.GetInputs()[2]).GetDtype() != potv1.DataType_DATA_TYPE_INT16 {
		t.Errorf("16-bit quantizer: %v", q)
	}
	found := false
	for _, o := range out.GetOpsets() {
		found = found || o.GetDomain() == "com.microsoft"
	}
	if !found {
		t.Error("com.microsoft is not imported")
	}
	// At opset 21 the ONNX domain has int16.
	out, _, err = Export(smallGraph(21), p)
	if err != nil {
		t.Fatal(err)
	}
	x = graph.NewIndex(out)
	if q := x.Producer(x.Producer(x.Node("conv").GetInputs()[0]).GetInputs()[0]); q.GetDomain() != "" {
		t.Errorf("opset 21: %v", q)
	}
}
