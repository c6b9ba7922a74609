package interp_test

import (
	"context"
	"math"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/onnx/backendtest"
	"github.com/potgo/pot/sdk/opset"
	"github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// Builders of small old-opset graphs.

func un(op string, ins, outs []string, attrs ...*potv1.Attribute) *potv1.Node {
	return &potv1.Node{Name: op + "_" + outs[0], OpType: op, Inputs: ins, Outputs: outs, Attributes: attrs}
}

var ai = graph.IntAttr

func ais(name string, v ...int64) *potv1.Attribute { return graph.IntsAttr(name, v) }

var af = graph.FloatAttr

func afs(name string, v ...float32) *potv1.Attribute { return graph.FloatsAttr(name, v) }

var as = graph.StringAttr

// ramp is a float tensor of the shape holding (i*7 mod 11) - 5 + i/10,
// varied values of both signs.
func ramp(shape ...int) *tensor.Tensor {
	v := make([]float32, tensor.NumElements(shape))
	for i := range v {
		v[i] = float32(i*7%11) - 5 + float32(i)/10
	}
	return tensor.From(shape, v)
}

func f32(shape []int, v ...float32) *tensor.Tensor { return tensor.From(shape, v) }

// adapterGraph is a graph of opset v over float inputs (shapes declared
// when declare is set), constant initializers and the given nodes, whose
// outputs are outs.
func adapterGraph(v int64, declare bool, in map[string]*tensor.Tensor, inits map[string]*tensor.Tensor, outs []string, nodes ...*potv1.Node) *potv1.Graph {
	g := &potv1.Graph{Name: "adapter", IrVersion: 3, Opsets: []*potv1.OpsetImport{{Version: v}}, Nodes: nodes}
	for _, name := range sortedKeys(in) {
		vi := &potv1.ValueInfo{Name: name, Dtype: potv1.DataType(in[name].DType)}
		if declare {
			vi.HasShape = true
			for _, d := range in[name].Shape {
				vi.Shape = append(vi.Shape, &potv1.Dim{Value: &potv1.Dim_Size{Size: int64(d)}})
			}
		}
		g.Inputs = append(g.Inputs, vi)
	}
	for _, name := range sortedKeys(inits) {
		g.Initializers = append(g.Initializers, interp.ToProto(name, inits[name]))
	}
	for _, o := range outs {
		g.Outputs = append(g.Outputs, &potv1.ValueInfo{Name: o})
	}
	return g
}

func sortedKeys(m map[string]*tensor.Tensor) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	for i := range k {
		for j := i + 1; j < len(k); j++ {
			if k[j] < k[i] {
				k[i], k[j] = k[j], k[i]
			}
		}
	}
	return k
}

func runGraph(t *testing.T, g *potv1.Graph, in map[string]*tensor.Tensor) map[string]*tensor.Tensor {
	t.Helper()
	p, err := interp.Compile(g, interp.Options{Threads: 1})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	defer p.Close()
	out, err := p.Run(context.Background(), in)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	res := map[string]*tensor.Tensor{}
	for k, v := range out {
		res[k] = v.Clone()
	}
	return res
}

// TestUpgradeAdaptersCompute upgrades small graphs of old opsets, one or
// two per adapter, and checks that the upgraded graph computes what the
// old one computes on the runtime (which implements the old versions)
// and, where given, the values worked out by hand from the old
// operator's definition.
func TestUpgradeAdaptersCompute(t *testing.T) {
	x4 := ramp(2, 3, 2, 2)
	img := f32([]int{1, 1, 2, 4}, 1, 2, 3, 4, 5, 6, 7, 8)
	for _, tc := range []struct {
		name    string
		v       int64
		undecl  bool // leave the input shapes undeclared
		in      map[string]*tensor.Tensor
		inits   map[string]*tensor.Tensor
		nodes   []*potv1.Node
		outs    []string
		want    map[string]*tensor.Tensor
		noOld   bool // the runtime lacks the old operator
		changes int
	}{
		{name: "Add-6 broadcast axis=1, constant B", v: 6, in: map[string]*tensor.Tensor{"x": ramp(2, 3, 2)},
			inits: map[string]*tensor.Tensor{"b": f32([]int{3}, 10, 20, 30)},
			nodes: []*potv1.Node{un("Add", []string{"x", "b"}, []string{"y"}, ai("broadcast", 1), ai("axis", 1))},
			outs:  []string{"y"}, changes: 1,
			want: map[string]*tensor.Tensor{"y": func() *tensor.Tensor {
				y := ramp(2, 3, 2)
				for i, v := range y.F32() {
					y.F32()[i] = v + float32(10*(1+i/2%3))
				}
				return y
			}()}},
		{name: "Mul-6 broadcast axis=0, computed B", v: 6, in: map[string]*tensor.Tensor{"x": ramp(2, 3, 2), "b": f32([]int{2, 3}, 1, 2, 3, 4, 5, 6)},
			nodes: []*potv1.Node{un("Mul", []string{"x", "b"}, []string{"y"}, ai("broadcast", 1), ai("axis", 0))},
			outs:  []string{"y"}, changes: 1},
		{name: "Pow-1 suffix broadcast", v: 1, in: map[string]*tensor.Tensor{"x": ramp(2, 3)},
			inits: map[string]*tensor.Tensor{"e": f32([]int{3}, 1, 2, 3)},
			nodes: []*potv1.Node{un("Pow", []string{"x", "e"}, []string{"y"}, ai("broadcast", 1))},
			outs:  []string{"y"}, changes: 1},
		{name: "Greater-6 broadcast axis=1", v: 6, in: map[string]*tensor.Tensor{"x": ramp(2, 3, 2)},
			inits: map[string]*tensor.Tensor{"b": f32([]int{3, 2}, 0, 1, -1, 2, 0, 0)},
			nodes: []*potv1.Node{un("Greater", []string{"x", "b"}, []string{"y"}, ai("broadcast", 1), ai("axis", 1))},
			outs:  []string{"y"}, changes: 1},
		{name: "Gemm-6 broadcast C", v: 6, in: map[string]*tensor.Tensor{"a": ramp(2, 3)},
			inits: map[string]*tensor.Tensor{"b": ramp(4, 3), "c": f32([]int{4}, 1, 2, 3, 4)},
			nodes: []*potv1.Node{un("Gemm", []string{"a", "b", "c"}, []string{"y"}, ai("broadcast", 1), ai("transB", 1), af("alpha", 0.5))},
			outs:  []string{"y"}, changes: 1},
		{name: "BatchNormalization-6 is_test, consumed_inputs", v: 5, in: map[string]*tensor.Tensor{"x": x4},
			inits: map[string]*tensor.Tensor{"s": f32([]int{3}, 1, 2, 3), "b": f32([]int{3}, 0, 1, 2), "m": f32([]int{3}, 0.5, -1, 0), "v": f32([]int{3}, 1, 4, 0.25)},
			nodes: []*potv1.Node{un("BatchNormalization", []string{"x", "s", "b", "m", "v"}, []string{"y"}, ai("is_test", 1), ais("consumed_inputs", 0, 0, 0, 1, 1))},
			outs:  []string{"y"}, changes: 1},
		{name: "BatchNormalization-7 spatial=0", v: 7, in: map[string]*tensor.Tensor{"x": x4},
			inits: map[string]*tensor.Tensor{"s": ramp(3, 2, 2), "b": ramp(3, 2, 2), "m": ramp(3, 2, 2), "v": f32([]int{3, 2, 2}, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)},
			nodes: []*potv1.Node{un("BatchNormalization", []string{"x", "s", "b", "m", "v"}, []string{"y"}, ai("spatial", 0), af("epsilon", 0.5))},
			outs:  []string{"y"}, changes: 1},
		{name: "Upsample-7 nearest", v: 7, in: map[string]*tensor.Tensor{"x": f32([]int{1, 1, 2, 2}, 1, 2, 3, 4)},
			nodes: []*potv1.Node{un("Upsample", []string{"x"}, []string{"y"}, afs("scales", 1, 1, 2, 3))},
			outs:  []string{"y"}, changes: 1,
			want: map[string]*tensor.Tensor{"y": f32([]int{1, 1, 4, 6}, 1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4)}},
		{name: "Upsample-9 linear", v: 9, in: map[string]*tensor.Tensor{"x": f32([]int{1, 1, 2, 2}, 1, 2, 3, 4)},
			inits: map[string]*tensor.Tensor{"sc": f32([]int{4}, 1, 1, 2, 2)},
			nodes: []*potv1.Node{un("Upsample", []string{"x", "sc"}, []string{"y"}, as("mode", "linear"))},
			outs:  []string{"y"}, changes: 1,
			want: map[string]*tensor.Tensor{"y": f32([]int{1, 1, 4, 4}, 1, 1.5, 2, 2, 2, 2.5, 3, 3, 3, 3.5, 4, 4, 3, 3.5, 4, 4)}},
		{name: "Upsample-1 bilinear", v: 1, in: map[string]*tensor.Tensor{"x": img},
			nodes: []*potv1.Node{un("Upsample", []string{"x"}, []string{"y"}, as("mode", "bilinear"), af("height_scale", 2), af("width_scale", 1.5))},
			outs:  []string{"y"}, changes: 1},
		{name: "Resize-10 nearest downsampling", v: 10, in: map[string]*tensor.Tensor{"x": img},
			inits: map[string]*tensor.Tensor{"sc": f32([]int{4}, 1, 1, 0.6, 0.6)},
			nodes: []*potv1.Node{un("Resize", []string{"x", "sc"}, []string{"y"})},
			outs:  []string{"y"}, changes: 1,
			// ONNX's Resize-10 test (resize_downsample_nearest): [[1, 3]].
			want: map[string]*tensor.Tensor{"y": f32([]int{1, 1, 1, 2}, 1, 3)}},
		{name: "Resize-10 linear downsampling", v: 10, in: map[string]*tensor.Tensor{"x": img},
			inits: map[string]*tensor.Tensor{"sc": f32([]int{4}, 1, 1, 0.6, 0.6)},
			nodes: []*potv1.Node{un("Resize", []string{"x", "sc"}, []string{"y"}, as("mode", "linear"))},
			outs:  []string{"y"}, changes: 1,
			// ONNX's Resize-10 test (resize_downsample_linear): [[1, 2.6666665]].
			want: map[string]*tensor.Tensor{"y": f32([]int{1, 1, 1, 2}, 1, 2.6666665)}},
		{name: "Slice-1", v: 1, in: map[string]*tensor.Tensor{"x": x4},
			nodes: []*potv1.Node{un("Slice", []string{"x"}, []string{"y"}, ais("starts", 1, -1), ais("ends", 1000, 2), ais("axes", 1, 3))},
			outs:  []string{"y"}, changes: 1},
		{name: "Pad-2 constant and Pad-1 edge", v: 1, in: map[string]*tensor.Tensor{"x": x4},
			nodes: []*potv1.Node{
				un("Pad", []string{"x"}, []string{"p"}, ais("paddings", 0, 0, 1, 0, 0, 1, 0, 2), af("value", 1.5)),
				un("Pad", []string{"p"}, []string{"y"}, ais("paddings", 0, 0, 0, 1, 0, 0, 1, 0), as("mode", "edge"))},
			outs: []string{"y"}, changes: 2},
		{name: "Clip-6 min and max, max only", v: 6, in: map[string]*tensor.Tensor{"x": x4},
			nodes: []*potv1.Node{un("Clip", []string{"x"}, []string{"c"}, af("min", -2), af("max", 3)), un("Clip", []string{"c"}, []string{"y"}, af("max", 1))},
			outs:  []string{"y"}, changes: 2,
			want: map[string]*tensor.Tensor{"y": func() *tensor.Tensor {
				y := x4.Clone()
				for i, v := range y.F32() {
					y.F32()[i] = min(max(v, -2), 1)
				}
				return y
			}()}},
		{name: "Split-2 lengths, Split-1 lengths input", v: 1, in: map[string]*tensor.Tensor{"x": x4},
			inits: map[string]*tensor.Tensor{"len": f32([]int{2}, 1, 1)},
			nodes: []*potv1.Node{
				un("Split", []string{"x"}, []string{"a", "b"}, ai("axis", 1), ais("split", 1, 2)),
				un("Split", []string{"b", "len"}, []string{"c", "d"}, ai("axis", 1))},
			outs: []string{"a", "c", "d"}, changes: 2},
		{name: "Squeeze, Unsqueeze, ReduceSum axes", v: 11, in: map[string]*tensor.Tensor{"x": x4},
			nodes: []*potv1.Node{
				un("ReduceSum", []string{"x"}, []string{"r"}, ais("axes", 2, -1), ai("keepdims", 1)),
				un("Squeeze", []string{"r"}, []string{"s"}, ais("axes", 3, 2)),
				un("Unsqueeze", []string{"s"}, []string{"y"}, ais("axes", 0, 3))},
			outs: []string{"y"}, changes: 3},
		{name: "Dropout-7 mask returned", v: 7, in: map[string]*tensor.Tensor{"x": x4},
			nodes: []*potv1.Node{un("Dropout", []string{"x"}, []string{"y", "mask"}, af("ratio", 0.3))},
			outs:  []string{"y", "mask"}, changes: 1,
			want: map[string]*tensor.Tensor{"y": x4, "mask": func() *tensor.Tensor {
				m := x4.Clone()
				for i := range m.F32() {
					m.F32()[i] = 1
				}
				return m
			}()}},
		{name: "TopK-1", v: 9, in: map[string]*tensor.Tensor{"x": x4},
			nodes: []*potv1.Node{un("TopK", []string{"x"}, []string{"y", "i"}, ai("k", 2), ai("axis", 1))},
			outs:  []string{"y", "i"}, changes: 1},
		{name: "Softmax-1 axis=1 of a 4-D input", v: 1, in: map[string]*tensor.Tensor{"x": x4},
			nodes: []*potv1.Node{un("Softmax", []string{"x"}, []string{"y"})},
			outs:  []string{"y"}, changes: 1,
			want: map[string]*tensor.Tensor{"y": func() *tensor.Tensor {
				// One softmax over the 12 values of each sample.
				y := x4.Clone()
				v := y.F32()
				for b := 0; b < 2; b++ {
					row := v[12*b : 12*b+12]
					var sum float64
					for _, e := range row {
						sum += math.Exp(float64(e))
					}
					for i, e := range row {
						row[i] = float32(math.Exp(float64(e)) / sum)
					}
				}
				return y
			}()}},
		{name: "LogSoftmax-11 axis=0, Hardmax-11 axis=-2, shapes undeclared", v: 11, undecl: true, in: map[string]*tensor.Tensor{"x": x4},
			nodes: []*potv1.Node{un("LogSoftmax", []string{"x"}, []string{"y"}, ai("axis", 0)), un("Hardmax", []string{"x"}, []string{"h"}, ai("axis", -2))},
			outs:  []string{"y", "h"}, changes: 2},
		{name: "Softmax-11 last axis", v: 11, in: map[string]*tensor.Tensor{"x": x4},
			nodes: []*potv1.Node{un("Softmax", []string{"x"}, []string{"y"}, ai("axis", 3))},
			outs:  []string{"y"}},
		{name: "Scatter-9", v: 9, in: map[string]*tensor.Tensor{"x": ramp(3, 3)},
			inits: map[string]*tensor.Tensor{"i": tensor.From([]int{1, 2}, []int64{2, 0}), "u": f32([]int{1, 2}, 100, 200)},
			nodes: []*potv1.Node{un("Scatter", []string{"x", "i", "u"}, []string{"y"}, ai("axis", 1))},
			outs:  []string{"y"}, changes: 1},
		{name: "Reshape-1, Concat-1, Cast-1", v: 1, in: map[string]*tensor.Tensor{"x": x4},
			nodes: []*potv1.Node{
				un("Reshape", []string{"x"}, []string{"r"}, ais("shape", 4, -1)),
				un("Concat", []string{"r", "r"}, []string{"c"}),
				un("Cast", []string{"c"}, []string{"y"}, as("to", "INT32"))},
			outs: []string{"y"}, changes: 3},
		{name: "Tile-1", v: 1, in: map[string]*tensor.Tensor{"x": ramp(2, 3)},
			inits: map[string]*tensor.Tensor{"n": f32([]int{}, 3), "a": f32([]int{}, 1)},
			nodes: []*potv1.Node{un("Tile", []string{"x", "n", "a"}, []string{"y"})},
			outs:  []string{"y"}, changes: 1},
		{name: "PRelu-6 per-channel slope", v: 6, in: map[string]*tensor.Tensor{"x": x4},
			inits: map[string]*tensor.Tensor{"s": f32([]int{3}, 0.1, 0.2, 0.3)},
			nodes: []*potv1.Node{un("PRelu", []string{"x", "s"}, []string{"y"})},
			outs:  []string{"y"}, changes: 1},
		{name: "GlobalLpPool-1 float p", v: 1, in: map[string]*tensor.Tensor{"x": x4},
			nodes: []*potv1.Node{un("GlobalLpPool", []string{"x"}, []string{"y"}, af("p", 3))},
			outs:  []string{"y"}, changes: 1},
		{name: "ThresholdedRelu experimental", v: 9, in: map[string]*tensor.Tensor{"x": x4},
			nodes: []*potv1.Node{un("ThresholdedRelu", []string{"x"}, []string{"y"}, af("alpha", 0.5))},
			outs:  []string{"y"}, changes: 1},
		{name: "ImageScaler experimental", v: 8, in: map[string]*tensor.Tensor{"x": ramp(1, 2, 1, 2)},
			nodes: []*potv1.Node{un("ImageScaler", []string{"x"}, []string{"y"}, af("scale", 2), afs("bias", 10, -10))},
			outs:  []string{"y"}, changes: 1, noOld: true,
			// ramp(1, 2, 1, 2) is -5, 2.1, -1.8, 5.3.
			want: map[string]*tensor.Tensor{"y": f32([]int{1, 2, 1, 2}, 0, 14.2, -13.6, 0.6)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := adapterGraph(tc.v, !tc.undecl, tc.in, tc.inits, tc.outs, tc.nodes...)
			up, rep, err := opset.Upgrade(g, 13)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Changes) != tc.changes {
				t.Errorf("%d changes, want %d: %v", len(rep.Changes), tc.changes, rep.Changes)
			}
			got := runGraph(t, up, tc.in)
			var old map[string]*tensor.Tensor
			if !tc.noOld {
				old = runGraph(t, g, tc.in)
			}
			tol := backendtest.Tolerance{Rtol: 1e-5, Atol: 1e-6}
			for _, o := range tc.outs {
				if old != nil {
					if err := backendtest.Compare(interp.ToProto(o, got[o]), interp.ToProto(o, old[o]), tol); err != nil {
						t.Errorf("%s: upgraded vs original: %v", o, err)
					}
				}
				if w := tc.want[o]; w != nil {
					if err := backendtest.Compare(interp.ToProto(o, got[o]), interp.ToProto(o, w), tol); err != nil {
						t.Errorf("%s: upgraded vs expected: %v", o, err)
					}
				}
			}
		})
	}
}
