package opset

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

func TestUpgradeArguments(t *testing.T) {
	simple := func(v int64) *potv1.Graph {
		return model(v, []*potv1.ValueInfo{vi("x", 2)}, []*potv1.ValueInfo{vi("y", 2)}, nd("Relu", "r", []string{"x"}, []string{"y"}))
	}
	noDefault := simple(9)
	noDefault.Opsets[0].Domain = "ai.onnx.ml"
	for _, tc := range []struct {
		name string
		g    *potv1.Graph
		to   int64
		want string // error text; "" for success
	}{
		{"nil graph", nil, 13, "nil graph"},
		{"no default opset", noDefault, 13, "imports no default ONNX opset"},
		{"target too new", simple(9), 14, "opsets 7 to 13, not 14"},
		{"target too old", simple(1), 6, "opsets 7 to 13, not 6"},
		{"downgrade", simple(13), 11, "opset 13, newer than 11"},
		{"opset 1", simple(1), 13, ""},
		{"to 11", simple(9), 11, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, rep, err := Upgrade(tc.g, tc.to)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want one with %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if graph.Opset(out) != tc.to || rep.To != tc.to || rep.From != graph.Opset(tc.g) || rep.Nodes != 1 {
				t.Errorf("opset %d, report %+v", graph.Opset(out), rep)
			}
		})
	}
}

func TestUpgradeSameOpsetReturnsGraph(t *testing.T) {
	g := model(13, []*potv1.ValueInfo{vi("x", 2)}, []*potv1.ValueInfo{vi("y", 2)}, nd("Relu", "r", []string{"x"}, []string{"y"}))
	out, rep, err := Upgrade(g, 13)
	if err != nil || out != g || rep.From != 13 || rep.To != 13 || len(rep.Changes) != 0 {
		t.Fatalf("Upgrade = %p, %+v, %v; want the graph itself and an empty report", out, rep, err)
	}
	if s := rep.Summary(); !strings.Contains(s, "nothing to upgrade") {
		t.Errorf("summary %q", s)
	}
}

// TestUpgradeRefusesBeforeWork: every node that cannot be brought
// forward is named, with its operator and both opsets, and the input
// graph is left as it was.
func TestUpgradeRefusesBeforeWork(t *testing.T) {
	g := model(9, []*potv1.ValueInfo{vi("x", 1, 3, 4, 4)}, []*potv1.ValueInfo{vi("z")},
		nd("Slice", "convertible", []string{"x"}, []string{"s"}, aInts("starts", 0), aInts("ends", 2)),
		nd("Resize", "too_new", []string{"s", "sc"}, []string{"r"}),
		nd("Crop", "experimental", []string{"r"}, []string{"c"}),
		nd("NoSuchOp", "unknown", []string{"c"}, []string{"u"}),
		nd("Scan", "scan8", []string{"", "u"}, []string{"z"}, aInt("num_scan_inputs", 1)),
	)
	g.Opsets[0].Version = 8
	before := proto.Clone(g)
	_, _, err := Upgrade(g, 13)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{
		"from ONNX opset 8 to 13",
		`node "too_new" (Resize): Resize is not an operator of ONNX opset 8 (it came in opset 10)`,
		`node "experimental" (Crop): Crop is an experimental operator of opset 8 that opset 10 removed`,
		`node "unknown" (NoSuchOp): NoSuchOp is not an operator of ONNX opset 8 that pot knows, so pot cannot bring it to opset 13`,
		`node "scan8" (Scan): Scan-8 loops over a batch axis`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "convertible") {
		t.Errorf("error names a node that converts: %s", msg)
	}
	if !proto.Equal(before, g) {
		t.Error("the input graph changed")
	}
}

// TestUpgradeLeavesInput: a successful upgrade does not touch its input.
func TestUpgradeLeavesInput(t *testing.T) {
	g := model(9, []*potv1.ValueInfo{vi("x", 1, 3, 4, 4)}, []*potv1.ValueInfo{vi("y")},
		nd("Slice", "s", []string{"x"}, []string{"a"}, aInts("starts", 0), aInts("ends", 2), aInts("axes", 1)),
		nd("Upsample", "u", []string{"a", "scales"}, []string{"b"}, aString("mode", "nearest")),
		nd("Softmax", "sm", []string{"b"}, []string{"y"}, aInt("axis", 1)),
	)
	g.Initializers = []*potv1.Tensor{floatInit("scales", []int64{4}, 1, 1, 2, 2)}
	before := proto.Clone(g)
	out, rep, err := Upgrade(g, 13)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(before, g) {
		t.Error("the input graph changed")
	}
	if got := opsOf(out); got != "Slice Resize Flatten Shape Softmax Reshape" {
		t.Errorf("nodes %s", got)
	}
	if len(rep.Changes) != 3 || rep.Nodes != 3 {
		t.Errorf("report %+v", rep)
	}
	if s := rep.Summary(); s != "upgraded ONNX opset 9 to 13: 3 of 3 nodes converted (Slice 1, Softmax 1, Upsample 1)" {
		t.Errorf("summary %q", s)
	}
}

// TestUpgradeOpsetImports: the default domain's import (either spelling)
// becomes the target, other domains stay, the IR version is raised.
func TestUpgradeOpsetImports(t *testing.T) {
	g := model(9, []*potv1.ValueInfo{vi("x", 2)}, []*potv1.ValueInfo{vi("y", 2)},
		nd("Relu", "r", []string{"x"}, []string{"t"}),
		&potv1.Node{Name: "c", OpType: "Custom", Domain: "com.example", Inputs: []string{"t"}, Outputs: []string{"y"}, Attributes: []*potv1.Attribute{aInts("axes", 0)}},
	)
	g.Opsets = []*potv1.OpsetImport{{Domain: "ai.onnx", Version: 9}, {Domain: "com.example", Version: 2}}
	out, rep, err := Upgrade(g, 13)
	if err != nil {
		t.Fatal(err)
	}
	if out.Opsets[0].GetDomain() != "ai.onnx" || out.Opsets[0].GetVersion() != 13 || out.Opsets[1].GetVersion() != 2 {
		t.Errorf("opsets %v", out.Opsets)
	}
	if out.GetIrVersion() != 7 {
		t.Errorf("IR version %d, want 7", out.GetIrVersion())
	}
	if rep.Nodes != 1 || graph.Attr(out.Nodes[1], "axes") == nil {
		t.Errorf("the custom-domain node was touched or counted: %v, %+v", out.Nodes[1], rep)
	}
	g.IrVersion = 9
	if out, _, _ = Upgrade(g, 13); out.GetIrVersion() != 9 {
		t.Errorf("IR version lowered to %d", out.GetIrVersion())
	}
}

// TestUpgradeSubgraphs: nodes inside If branches and nested bodies are
// converted, with their new constants in their own graph, names unique
// across the model, and the subgraph named in the report.
func TestUpgradeSubgraphs(t *testing.T) {
	inner := &potv1.Graph{Name: "inner", Outputs: []*potv1.ValueInfo{vi("in_y")},
		Nodes: []*potv1.Node{nd("Unsqueeze", "uq", []string{"x"}, []string{"in_y"}, aInts("axes", 0))}}
	then := &potv1.Graph{Name: "then", Outputs: []*potv1.ValueInfo{vi("then_y")}, Nodes: []*potv1.Node{
		nd("Slice", "s", []string{"x"}, []string{"then_y"}, aInts("starts", 1), aInts("ends", 3)),
		nd("If", "nested", []string{"cond"}, []string{"n_y"}, aGraph("then_branch", inner), aGraph("else_branch", proto.CloneOf(inner))),
	}}
	els := &potv1.Graph{Name: "else", Outputs: []*potv1.ValueInfo{vi("else_y")}, Nodes: []*potv1.Node{
		nd("Identity", "id", []string{"x"}, []string{"else_y"}),
	}}
	g := model(9, []*potv1.ValueInfo{vi("x", 4), {Name: "cond", Dtype: potv1.DataType_DATA_TYPE_BOOL, HasShape: true}}, []*potv1.ValueInfo{vi("y")},
		// A name the converter would pick for Slice's starts is taken.
		nd("Identity", "s_starts", []string{"x"}, []string{"s_starts_out"}),
		nd("If", "if", []string{"cond"}, []string{"y"}, aGraph("then_branch", then), aGraph("else_branch", els)),
	)
	out, rep, err := Upgrade(g, 13)
	if err != nil {
		t.Fatal(err)
	}
	// Identity at the top and in else, If ×2, Slice, Unsqueeze ×2.
	if rep.Nodes != 7 || len(rep.Changes) != 3 {
		t.Fatalf("report %+v", rep)
	}
	paths := map[string]bool{}
	for _, c := range rep.Changes {
		paths[c.Graph+" "+c.Node] = true
	}
	for _, p := range []string{"if/then_branch s", "if/then_branch/nested/then_branch uq", "if/then_branch/nested/else_branch uq"} {
		if !paths[p] {
			t.Errorf("no change at %q: %v", p, rep.Changes)
		}
	}
	thenOut := graph.Attr(out.Nodes[1], "then_branch").GetG()
	slice := find(thenOut, "Slice")[0]
	if len(slice.Inputs) != 3 || slice.Inputs[1] == "s_starts" || initializer(thenOut, slice.Inputs[1]) == nil || len(out.Initializers) != 0 {
		t.Errorf("Slice inputs %v; then-branch initializers %v; main graph initializers %v", slice.Inputs, thenOut.Initializers, out.Initializers)
	}
	nested := find(thenOut, "If")[0]
	a := find(graph.Attr(nested, "then_branch").GetG(), "Unsqueeze")[0]
	b := find(graph.Attr(nested, "else_branch").GetG(), "Unsqueeze")[0]
	if len(a.Inputs) != 2 || len(b.Inputs) != 2 || a.Inputs[1] == b.Inputs[1] {
		t.Errorf("Unsqueeze axes inputs %v and %v: want two distinct names", a.Inputs, b.Inputs)
	}
	// The original branches are untouched.
	if len(find(then, "Slice")[0].Inputs) != 1 {
		t.Error("the input's subgraph changed")
	}
}

// TestUpgradeAdapters checks the rewritten nodes of each adapter (the
// runtime's tests check what the rewritten graphs compute).
func TestUpgradeAdapters(t *testing.T) {
	x4 := []*potv1.ValueInfo{vi("x", 2, 3, 4, 5)}
	y := []*potv1.ValueInfo{vi("y")}
	for _, tc := range []struct {
		name  string
		g     *potv1.Graph
		inits []*potv1.Tensor
		ops   string // the upgraded graph's operators
		check func(t *testing.T, g *potv1.Graph)
	}{
		{
			name:  "Add-6 broadcast axis with a constant B",
			g:     model(6, x4, y, nd("Add", "add", []string{"x", "b"}, []string{"y"}, aInt("broadcast", 1), aInt("axis", 1))),
			inits: []*potv1.Tensor{floatInit("b", []int64{3}, 1, 2, 3)},
			ops:   "Add",
			check: func(t *testing.T, g *potv1.Graph) {
				// B, read by this node only, is reshaped where it is.
				n := g.Nodes[0]
				b := initializer(g, n.Inputs[1])
				if len(n.Attributes) != 0 || n.Inputs[1] != "b" || len(g.Initializers) != 1 || !slices.Equal(b.Dims, []int64{3, 1, 1}) {
					t.Errorf("node %v, initializers %v", n, g.Initializers)
				}
			},
		},
		{
			name: "Add-6 broadcast axis with a constant B read twice",
			g: model(6, x4, y, nd("Add", "add", []string{"x", "b"}, []string{"a"}, aInt("broadcast", 1), aInt("axis", 1)),
				nd("Sub", "sub", []string{"a", "b"}, []string{"y"}, aInt("broadcast", 1), aInt("axis", 1))),
			inits: []*potv1.Tensor{floatInit("b", []int64{3}, 1, 2, 3)},
			ops:   "Add Sub",
			check: func(t *testing.T, g *potv1.Graph) {
				b1, b2 := initializer(g, g.Nodes[0].Inputs[1]), initializer(g, g.Nodes[1].Inputs[1])
				if len(g.Initializers) != 3 || b1 == b2 || !slices.Equal(b1.Dims, []int64{3, 1, 1}) || !slices.Equal(b2.Dims, []int64{3, 1, 1}) ||
					!slices.Equal(initializer(g, "b").Dims, []int64{3}) {
					t.Errorf("initializers %v", g.Initializers)
				}
			},
		},
		{
			name: "Mul-6 broadcast axis with a computed B",
			g: model(6, []*potv1.ValueInfo{vi("x", 2, 3, 4), vi("b", 2, 3)}, y,
				nd("Mul", "mul", []string{"x", "b"}, []string{"y"}, aInt("broadcast", 1), aInt("axis", 0))),
			ops: "Unsqueeze Mul",
			check: func(t *testing.T, g *potv1.Graph) {
				u := g.Nodes[0]
				if u.Inputs[0] != "b" || !slices.Equal(intsOf(t, g, u.Inputs[1]), []int64{2}) || g.Nodes[1].Inputs[1] != u.Outputs[0] {
					t.Errorf("Unsqueeze %v, Mul %v", u, g.Nodes[1])
				}
			},
		},
		{
			name: "Sub-6 suffix broadcast",
			g:    model(6, []*potv1.ValueInfo{vi("x", 2, 3), vi("b", 3)}, y, nd("Sub", "sub", []string{"x", "b"}, []string{"y"}, aInt("broadcast", 1))),
			ops:  "Sub",
			check: func(t *testing.T, g *potv1.Graph) {
				if len(g.Nodes[0].Attributes) != 0 || g.Nodes[0].Inputs[1] != "b" {
					t.Errorf("node %v", g.Nodes[0])
				}
			},
		},
		{
			name: "Relu-1 consumed_inputs",
			g:    model(1, x4, y, nd("Relu", "r", []string{"x"}, []string{"y"}, aInts("consumed_inputs", 0))),
			ops:  "Relu",
			check: func(t *testing.T, g *potv1.Graph) {
				if len(g.Nodes[0].Attributes) != 0 {
					t.Errorf("node %v", g.Nodes[0])
				}
			},
		},
		{
			name: "Gemm-6 broadcast",
			g:    model(6, []*potv1.ValueInfo{vi("x", 2, 3), vi("w", 3, 4), vi("c", 4)}, y, nd("Gemm", "gemm", []string{"x", "w", "c"}, []string{"y"}, aInt("broadcast", 1), aInt("transA", 0))),
			ops:  "Gemm",
			check: func(t *testing.T, g *potv1.Graph) {
				if graph.Attr(g.Nodes[0], "broadcast") != nil || graph.Attr(g.Nodes[0], "transA") == nil {
					t.Errorf("node %v", g.Nodes[0])
				}
			},
		},
		{
			name: "BatchNormalization-6 is_test, spatial=1",
			g: model(6, x4, y, nd("BatchNormalization", "bn", []string{"x", "s", "b", "m", "v"}, []string{"y"},
				aInt("is_test", 1), aInt("spatial", 1), aFloat("epsilon", 1e-3))),
			ops: "BatchNormalization",
			check: func(t *testing.T, g *potv1.Graph) {
				n := g.Nodes[0]
				if len(n.Attributes) != 1 || graph.Attr(n, "epsilon") == nil {
					t.Errorf("node %v", n)
				}
			},
		},
		{
			name: "BatchNormalization-7 spatial=0",
			g: model(7, x4, y, nd("BatchNormalization", "bn", []string{"x", "s", "b", "m", "v"}, []string{"y"},
				aInt("spatial", 0), aFloat("epsilon", 0.25))),
			inits: []*potv1.Tensor{floatInit("s", []int64{3, 4, 5}), floatInit("b", []int64{3, 4, 5}), floatInit("m", []int64{3, 4, 5}), floatInit("v", []int64{3, 4, 5})},
			ops:   "Sub Add Sqrt Div Mul Add",
			check: func(t *testing.T, g *potv1.Graph) {
				add := g.Nodes[5]
				if add.Outputs[0] != "y" || add.Inputs[1] != "b" || len(add.Attributes) != 0 {
					t.Errorf("last node %v", add)
				}
				eps := initializer(g, g.Nodes[1].Inputs[1])
				if v, _ := numbers(eps); len(v) != 1 || v[0] != 0.25 || len(eps.Dims) != 0 {
					t.Errorf("epsilon %v", eps)
				}
			},
		},
		{
			name: "Upsample-7 nearest",
			g:    model(7, x4, y, nd("Upsample", "up", []string{"x"}, []string{"y"}, &potv1.Attribute{Name: "scales", Type: potv1.Attribute_TYPE_FLOATS, Floats: []float32{1, 1, 2, 3}})),
			ops:  "Resize",
			check: func(t *testing.T, g *potv1.Graph) {
				n := g.Nodes[0]
				wantResize(t, g, n, "nearest", "floor")
				if s := floatsOf(t, g, n.Inputs[2]); !slices.Equal(s, []float64{1, 1, 2, 3}) {
					t.Errorf("scales %v", s)
				}
			},
		},
		{
			name: "Upsample-1 bilinear",
			g: model(1, x4, y, nd("Upsample", "up", []string{"x"}, []string{"y"}, aString("mode", "bilinear"),
				aFloat("height_scale", 2), aFloat("width_scale", 4))),
			ops: "Resize",
			check: func(t *testing.T, g *potv1.Graph) {
				n := g.Nodes[0]
				wantResize(t, g, n, "linear", "")
				if s := floatsOf(t, g, n.Inputs[2]); !slices.Equal(s, []float64{1, 1, 2, 4}) {
					t.Errorf("scales %v", s)
				}
			},
		},
		{
			name:  "Resize-10 nearest downsampling",
			g:     model(10, x4, y, nd("Resize", "rs", []string{"x", "sc"}, []string{"y"})),
			inits: []*potv1.Tensor{floatInit("sc", []int64{4}, 1, 1, 0.6, 0.6)},
			ops:   "Resize",
			check: func(t *testing.T, g *potv1.Graph) { wantResize(t, g, g.Nodes[0], "nearest", "ceil") },
		},
		{
			name:  "Resize-10 nearest by halves",
			g:     model(10, x4, y, nd("Resize", "rs", []string{"x", "sc"}, []string{"y"})),
			inits: []*potv1.Tensor{floatInit("sc", []int64{4}, 1, 1, 0.5, 2)},
			ops:   "Resize",
			check: func(t *testing.T, g *potv1.Graph) { wantResize(t, g, g.Nodes[0], "nearest", "floor") },
		},
		{
			name: "Slice-1",
			g:    model(9, x4, y, nd("Slice", "sl", []string{"x"}, []string{"y"}, aInts("starts", 0, 1), aInts("ends", -1, 1000), aInts("axes", 1, 3))),
			ops:  "Slice",
			check: func(t *testing.T, g *potv1.Graph) {
				n := g.Nodes[0]
				if len(n.Attributes) != 0 || len(n.Inputs) != 4 || !slices.Equal(intsOf(t, g, n.Inputs[1]), []int64{0, 1}) ||
					!slices.Equal(intsOf(t, g, n.Inputs[2]), []int64{-1, 1000}) || !slices.Equal(intsOf(t, g, n.Inputs[3]), []int64{1, 3}) {
					t.Errorf("node %v", n)
				}
			},
		},
		{
			name: "Pad-2 constant",
			g:    model(2, x4, y, nd("Pad", "pad", []string{"x"}, []string{"y"}, aInts("pads", 0, 0, 1, 2, 0, 0, 3, 4), aFloat("value", 1.5))),
			ops:  "Pad",
			check: func(t *testing.T, g *potv1.Graph) {
				n := g.Nodes[0]
				if len(n.Inputs) != 3 || !slices.Equal(intsOf(t, g, n.Inputs[1]), []int64{0, 0, 1, 2, 0, 0, 3, 4}) ||
					!slices.Equal(floatsOf(t, g, n.Inputs[2]), []float64{1.5}) || graph.Attr(n, "value") != nil || graph.Attr(n, "pads") != nil {
					t.Errorf("node %v", n)
				}
			},
		},
		{
			name: "Pad-1 reflect",
			g:    model(1, x4, y, nd("Pad", "pad", []string{"x"}, []string{"y"}, aInts("paddings", 0, 0, 1, 1, 0, 0, 1, 1), aString("mode", "reflect"), aFloat("value", 2))),
			ops:  "Pad",
			check: func(t *testing.T, g *potv1.Graph) {
				n := g.Nodes[0]
				if len(n.Inputs) != 2 || graph.Attr(n, "mode") == nil || len(n.Attributes) != 1 {
					t.Errorf("node %v", n)
				}
			},
		},
		{
			name: "Clip-6 max only",
			g:    model(6, x4, y, nd("Clip", "clip", []string{"x"}, []string{"y"}, aFloat("max", 6))),
			ops:  "Clip",
			check: func(t *testing.T, g *potv1.Graph) {
				n := g.Nodes[0]
				if len(n.Inputs) != 3 || n.Inputs[1] != "" || !slices.Equal(floatsOf(t, g, n.Inputs[2]), []float64{6}) || len(n.Attributes) != 0 {
					t.Errorf("node %v", n)
				}
			},
		},
		{
			name: "Split-2 lengths",
			g:    model(2, x4, []*potv1.ValueInfo{vi("y"), vi("z")}, nd("Split", "split", []string{"x"}, []string{"y", "z"}, aInt("axis", 1), aInts("split", 1, 2))),
			ops:  "Split",
			check: func(t *testing.T, g *potv1.Graph) {
				n := g.Nodes[0]
				if len(n.Inputs) != 2 || !slices.Equal(intsOf(t, g, n.Inputs[1]), []int64{1, 2}) || graph.Attr(n, "split") != nil {
					t.Errorf("node %v", n)
				}
			},
		},
		{
			name:  "Split-1 lengths input",
			g:     model(1, x4, []*potv1.ValueInfo{vi("y"), vi("z")}, nd("Split", "split", []string{"x", "len"}, []string{"y", "z"}, aInt("axis", 1))),
			inits: []*potv1.Tensor{floatInit("len", []int64{2}, 2, 1)},
			ops:   "Split",
			check: func(t *testing.T, g *potv1.Graph) {
				n := g.Nodes[0]
				if len(n.Inputs) != 2 || !slices.Equal(intsOf(t, g, n.Inputs[1]), []int64{2, 1}) {
					t.Errorf("node %v", n)
				}
			},
		},
		{
			name: "Squeeze, Unsqueeze and ReduceSum-11 axes; ReduceMean keeps its attribute",
			g: model(11, x4, y,
				nd("ReduceSum", "rs", []string{"x"}, []string{"a"}, aInts("axes", 2), aInt("keepdims", 1)),
				nd("Squeeze", "sq", []string{"a"}, []string{"b"}, aInts("axes", 2)),
				nd("Unsqueeze", "uq", []string{"b"}, []string{"c"}, aInts("axes", 0)),
				nd("ReduceMean", "rm", []string{"c"}, []string{"y"}, aInts("axes", 0))),
			ops: "ReduceSum Squeeze Unsqueeze ReduceMean",
			check: func(t *testing.T, g *potv1.Graph) {
				for i, want := range [][]int64{{2}, {2}, {0}} {
					n := g.Nodes[i]
					if len(n.Inputs) != 2 || !slices.Equal(intsOf(t, g, n.Inputs[1]), want) || graph.Attr(n, "axes") != nil {
						t.Errorf("node %v", n)
					}
				}
				if rm := g.Nodes[3]; len(rm.Inputs) != 1 || graph.Attr(rm, "axes") == nil {
					t.Errorf("ReduceMean %v", rm)
				}
			},
		},
		{
			name: "Dropout-7 mask read",
			g: model(7, x4, []*potv1.ValueInfo{vi("y"), vi("mask")},
				nd("Dropout", "do", []string{"x"}, []string{"y", "mask"}, aFloat("ratio", 0.25))),
			ops: "Dropout Cast",
			check: func(t *testing.T, g *potv1.Graph) {
				d, c := g.Nodes[0], g.Nodes[1]
				if len(d.Inputs) != 2 || !slices.Equal(floatsOf(t, g, d.Inputs[1]), []float64{0.25}) || d.Outputs[1] != c.Inputs[0] ||
					c.Outputs[0] != "mask" || graph.Attr(c, "to").GetI() != int64(potv1.DataType_DATA_TYPE_FLOAT) {
					t.Errorf("Dropout %v, Cast %v", d, c)
				}
			},
		},
		{
			name: "Dropout-6 mask unread",
			g:    model(6, x4, y, nd("Dropout", "do", []string{"x"}, []string{"y", "mask"}, aInt("is_test", 1))),
			ops:  "Dropout",
			check: func(t *testing.T, g *potv1.Graph) {
				if d := g.Nodes[0]; len(d.Outputs) != 1 || len(d.Attributes) != 0 || len(d.Inputs) != 1 {
					t.Errorf("Dropout %v", d)
				}
			},
		},
		{
			name: "TopK-1",
			g:    model(9, x4, []*potv1.ValueInfo{vi("y"), vi("i")}, nd("TopK", "tk", []string{"x"}, []string{"y", "i"}, aInt("k", 3))),
			ops:  "TopK",
			check: func(t *testing.T, g *potv1.Graph) {
				if n := g.Nodes[0]; !slices.Equal(intsOf(t, g, n.Inputs[1]), []int64{3}) || graph.Attr(n, "k") != nil {
					t.Errorf("node %v", n)
				}
			},
		},
		{
			name: "Softmax-11 on the last axis",
			g:    model(11, x4, y, nd("Softmax", "sm", []string{"x"}, []string{"y"}, aInt("axis", -1))),
			ops:  "Softmax",
		},
		{
			name: "LogSoftmax-1 default axis on a matrix",
			g:    model(1, []*potv1.ValueInfo{vi("x", 2, 3)}, y, nd("LogSoftmax", "sm", []string{"x"}, []string{"y"})),
			ops:  "LogSoftmax",
			check: func(t *testing.T, g *potv1.Graph) {
				if a := graph.Attr(g.Nodes[0], "axis"); a == nil || a.GetI() != 1 {
					t.Errorf("axis %v", a)
				}
			},
		},
		{
			name: "Hardmax-11 rank unknown",
			g:    model(11, []*potv1.ValueInfo{vi("x")}, y, nd("Hardmax", "hm", []string{"x"}, []string{"y"}, aInt("axis", 2))),
			ops:  "Flatten Shape Hardmax Reshape",
			check: func(t *testing.T, g *potv1.Graph) {
				f, s, h, r := g.Nodes[0], g.Nodes[1], g.Nodes[2], g.Nodes[3]
				if graph.Attr(f, "axis").GetI() != 2 || graph.Attr(h, "axis").GetI() != 1 || h.Inputs[0] != f.Outputs[0] ||
					s.Inputs[0] != "x" || r.Inputs[0] != h.Outputs[0] || r.Inputs[1] != s.Outputs[0] || r.Outputs[0] != "y" {
					t.Errorf("nodes %v", g.Nodes)
				}
			},
		},
		{
			name: "Scatter-9",
			g:    model(9, []*potv1.ValueInfo{vi("x", 3, 3), vi("i", 1, 3), vi("u", 1, 3)}, y, nd("Scatter", "sc", []string{"x", "i", "u"}, []string{"y"}, aInt("axis", 1))),
			ops:  "ScatterElements",
		},
		{
			name: "Reshape-1, Concat-1, Cast-1",
			g: model(1, x4, y,
				nd("Reshape", "rs", []string{"x"}, []string{"a"}, aInts("shape", 2, -1), aInts("consumed_inputs", 0)),
				nd("Concat", "cc", []string{"a", "a"}, []string{"b"}),
				nd("Cast", "cast", []string{"b"}, []string{"y"}, aString("to", "DOUBLE"))),
			ops: "Reshape Concat Cast",
			check: func(t *testing.T, g *potv1.Graph) {
				rs, cc, cast := g.Nodes[0], g.Nodes[1], g.Nodes[2]
				if len(rs.Attributes) != 0 || !slices.Equal(intsOf(t, g, rs.Inputs[1]), []int64{2, -1}) || graph.Attr(cc, "axis").GetI() != 1 ||
					graph.Attr(cast, "to").GetType() != potv1.Attribute_TYPE_INT || graph.Attr(cast, "to").GetI() != int64(potv1.DataType_DATA_TYPE_DOUBLE) {
					t.Errorf("nodes %v", g.Nodes)
				}
			},
		},
		{
			name:  "Tile-1",
			g:     model(1, x4, y, nd("Tile", "tile", []string{"x", "tiles", "axis"}, []string{"y"})),
			inits: []*potv1.Tensor{floatInit("tiles", nil, 3), floatInit("axis", nil, 2)},
			ops:   "Tile",
			check: func(t *testing.T, g *potv1.Graph) {
				if n := g.Nodes[0]; len(n.Inputs) != 2 || !slices.Equal(intsOf(t, g, n.Inputs[1]), []int64{1, 1, 3, 1}) {
					t.Errorf("node %v", n)
				}
			},
		},
		{
			name:  "PRelu-6 channel slope",
			g:     model(6, x4, y, nd("PRelu", "pr", []string{"x", "slope"}, []string{"y"})),
			inits: []*potv1.Tensor{floatInit("slope", []int64{3}, 0.1, 0.2, 0.3)},
			ops:   "PRelu",
			check: func(t *testing.T, g *potv1.Graph) {
				if s := initializer(g, g.Nodes[0].Inputs[1]); s == nil || !slices.Equal(s.Dims, []int64{3, 1, 1}) {
					t.Errorf("slope %v", s)
				}
			},
		},
		{
			name: "GlobalLpPool-1 float p",
			g:    model(1, x4, y, nd("GlobalLpPool", "lp", []string{"x"}, []string{"y"}, aFloat("p", 3))),
			ops:  "GlobalLpPool",
			check: func(t *testing.T, g *potv1.Graph) {
				if p := graph.Attr(g.Nodes[0], "p"); p.GetType() != potv1.Attribute_TYPE_INT || p.GetI() != 3 {
					t.Errorf("p %v", p)
				}
			},
		},
		{
			name: "experimental ImageScaler",
			g:    model(8, x4, y, nd("ImageScaler", "is", []string{"x"}, []string{"y"}, aFloat("scale", 0.5), &potv1.Attribute{Name: "bias", Type: potv1.Attribute_TYPE_FLOATS, Floats: []float32{1, 2, 3}})),
			ops:  "Mul Add",
			check: func(t *testing.T, g *potv1.Graph) {
				m, a := g.Nodes[0], g.Nodes[1]
				b := initializer(g, a.Inputs[1])
				if !slices.Equal(floatsOf(t, g, m.Inputs[1]), []float64{0.5}) || a.Inputs[0] != m.Outputs[0] || !slices.Equal(b.Dims, []int64{3, 1, 1}) {
					t.Errorf("nodes %v", g.Nodes)
				}
			},
		},
		{
			name: "GRU-1 output_sequence",
			g: model(1, []*potv1.ValueInfo{vi("x", 1, 2, 3), vi("w", 1, 6, 3), vi("r", 1, 6, 2)}, y,
				nd("GRU", "gru", []string{"x", "w", "r"}, []string{"y"}, aInt("hidden_size", 2), aInt("output_sequence", 1))),
			ops: "GRU",
			check: func(t *testing.T, g *potv1.Graph) {
				if n := g.Nodes[0]; graph.Attr(n, "output_sequence") != nil || graph.Attr(n, "hidden_size") == nil {
					t.Errorf("node %v", n)
				}
			},
		},
		{
			name: "experimental ThresholdedRelu",
			g:    model(9, x4, y, nd("ThresholdedRelu", "tr", []string{"x"}, []string{"y"}, aFloat("alpha", 0.5))),
			ops:  "ThresholdedRelu",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.g.Initializers = tc.inits
			out, rep, err := Upgrade(tc.g, 13)
			if err != nil {
				t.Fatal(err)
			}
			if got := opsOf(out); got != tc.ops {
				t.Fatalf("nodes %s, want %s", got, tc.ops)
			}
			if tc.check != nil {
				tc.check(t, out)
				if len(rep.Changes) == 0 {
					t.Errorf("no change reported")
				}
			}
			for _, n := range out.Nodes {
				if versionAt(n.GetOpType(), 13) == 0 {
					t.Errorf("node %v is not an opset-13 operator", n)
				}
			}
		})
	}
}

// TestUpgradeAdapterRefusals: cases an adapter cannot convert exactly
// fail with the node, the operator and the reason.
func TestUpgradeAdapterRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		g    *potv1.Graph
		want string
	}{
		{"broadcast axis, rank unknown", model(6, []*potv1.ValueInfo{vi("x"), vi("b", 3)}, nil,
			nd("Add", "add", []string{"x", "b"}, []string{"y"}, aInt("broadcast", 1), aInt("axis", 1))),
			`node "add" (Add): Add-6 to 7: broadcast=1 with axis=1 needs the ranks of both inputs`},
		{"broadcast axis past the end", model(6, []*potv1.ValueInfo{vi("x", 2, 3), vi("b", 3, 4)}, nil,
			nd("Add", "add", []string{"x", "b"}, []string{"y"}, aInt("broadcast", 1), aInt("axis", 1))),
			"B (rank 2) does not fit in A (rank 2) at axis 1"},
		{"Tile-1 computed tiles", model(1, []*potv1.ValueInfo{vi("x", 2), vi("n"), vi("a")}, nil,
			nd("Tile", "tile", []string{"x", "n", "a"}, []string{"y"})),
			"tiles and axis are computed at run time"},
		{"Resize-10 mixed nearest rounding", withInit(model(10, []*potv1.ValueInfo{vi("x", 1, 1, 4, 4)}, nil,
			nd("Resize", "rs", []string{"x", "sc"}, []string{"y"})), floatInit("sc", []int64{4}, 1, 1, 0.6, 2)),
			"no single nearest_mode"},
		{"BatchNormalization spatial=0 with training outputs", model(7, []*potv1.ValueInfo{vi("x", 2, 3, 4)}, nil,
			nd("BatchNormalization", "bn", []string{"x", "s", "b", "m", "v"}, []string{"y", "mean"}, aInt("spatial", 0))),
			"spatial=0 with training outputs"},
		{"Clip-6 on a model of two float types", withInit(model(6, []*potv1.ValueInfo{{Name: "x"}, {Name: "d", Dtype: potv1.DataType_DATA_TYPE_DOUBLE}}, nil,
			nd("Clip", "clip", []string{"x"}, []string{"y"}, aFloat("min", 0))), floatInit("unused", []int64{1}, 0)),
			"cannot tell the element type"},
		{"LpPool-1 fractional p", model(1, []*potv1.ValueInfo{vi("x", 1, 1, 4, 4)}, nil,
			nd("LpPool", "lp", []string{"x"}, []string{"y"}, aFloat("p", 1.5), aInts("kernel_shape", 2, 2))),
			"p = 1.5 is not a positive integer"},
		{"experimental MeanVarianceNormalization to 9", to9(8, []*potv1.ValueInfo{vi("x", 1, 3, 2, 2)}, nil,
			nd("MeanVarianceNormalization", "mvn", []string{"x"}, []string{"y"}, aInt("across_channels", 1))),
			"MeanVarianceNormalization is an experimental operator of opset 8"},
		{"Softmax without inputs", model(11, nil, nil, nd("Softmax", "sm", nil, []string{"y"})),
			"0 inputs and 1 outputs, want at least 1 and 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			to := int64(13)
			if tc.g.GetName() == "to9" {
				to = 9
			}
			_, _, err := Upgrade(tc.g, to)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), fmt.Sprintf("to %d", to)) {
				t.Fatalf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}

// TestUpgradeFloat16Constants: constants that become inputs take the
// data's element type.
func TestUpgradeFloat16Constants(t *testing.T) {
	g := model(6, []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT16}}, nil,
		nd("Clip", "clip", []string{"x"}, []string{"y"}, aFloat("min", -1.5), aFloat("max", 65504)))
	out, _, err := Upgrade(g, 13)
	if err != nil {
		t.Fatal(err)
	}
	n := out.Nodes[0]
	for i, want := range []uint16{0xbe00, 0x7bff} {
		c := initializer(out, n.Inputs[i+1])
		if c.GetDtype() != potv1.DataType_DATA_TYPE_FLOAT16 || len(c.Data) != 2 || uint16(c.Data[0])|uint16(c.Data[1])<<8 != want {
			t.Errorf("input %d: %v, want float16 bits %#x", i+1, c, want)
		}
	}
}

func TestFloat16Bits(t *testing.T) {
	for _, tc := range []struct {
		f    float32
		want uint16
	}{
		{0, 0}, {1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff}, {65520, 0x7c00}, {1e-8, 0}, {float32(math.Inf(-1)), 0xfc00},
		{5.960464477539063e-08, 0x0001}, {6.103515625e-05, 0x0400}, {1.0009765625, 0x3c01}, {1.00048828125, 0x3c00},
	} {
		if got := float16Bits(tc.f); got != tc.want {
			t.Errorf("float16Bits(%g) = %#x, want %#x", tc.f, got, tc.want)
		}
	}
	if got := float16Bits(float32(math.NaN())); got&0x7c00 != 0x7c00 || got&0x3ff == 0 {
		t.Errorf("NaN gives %#x", got)
	}
}

// to9 is a model to upgrade to opset 9 only.
func to9(opset int64, inputs []*potv1.ValueInfo, outputs []*potv1.ValueInfo, nodes ...*potv1.Node) *potv1.Graph {
	g := model(opset, inputs, outputs, nodes...)
	g.Name = "to9"
	return g
}

func withInit(g *potv1.Graph, ts ...*potv1.Tensor) *potv1.Graph {
	g.Initializers = append(g.Initializers, ts...)
	return g
}

func wantResize(t *testing.T, g *potv1.Graph, n *potv1.Node, mode, nearest string) {
	t.Helper()
	m, _ := attrString(n, "mode", "nearest")
	c, _ := attrString(n, "coordinate_transformation_mode", "")
	nm, _ := attrString(n, "nearest_mode", "")
	if n.GetOpType() != "Resize" || len(n.Inputs) != 3 || n.Inputs[1] != "" || initializer(g, n.Inputs[2]) == nil ||
		m != mode || c != "asymmetric" || nm != nearest {
		t.Errorf("Resize %v: want mode %s, asymmetric, nearest_mode %q, inputs (x, \"\", scales)", n, mode, nearest)
	}
}

func intsOf(t *testing.T, g *potv1.Graph, name string) []int64 {
	t.Helper()
	c := initializer(g, name)
	if c == nil || c.GetDtype() != potv1.DataType_DATA_TYPE_INT64 {
		t.Fatalf("%q is not an int64 initializer: %v", name, c)
	}
	v, err := integers(c)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func floatsOf(t *testing.T, g *potv1.Graph, name string) []float64 {
	t.Helper()
	c := initializer(g, name)
	if c == nil || c.GetDtype() != potv1.DataType_DATA_TYPE_FLOAT {
		t.Fatalf("%q is not a float initializer: %v", name, c)
	}
	v, err := numbers(c)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
