package onnx

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

func pnode(name, op string, in, out []string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	n := &onnxpb.NodeProto{OpType: strPtr(op), Input: in, Output: out, Attribute: attrs}
	if name != "" {
		n.Name = strPtr(name)
	}
	return n
}

func pgraphAttr(name string, g *onnxpb.GraphProto) *onnxpb.AttributeProto {
	t := onnxpb.AttributeProto_GRAPH
	return &onnxpb.AttributeProto{Name: strPtr(name), Type: &t, G: g}
}

func pvalue(name string) *onnxpb.ValueInfoProto {
	et := int32(onnxpb.TensorProto_FLOAT)
	return &onnxpb.ValueInfoProto{Name: strPtr(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: &et}}}}
}

// scopedModel: the main graph defines x, a and an If; the then branch
// defines a again (shadowing the main graph's), reads it, and holds a
// Loop whose body reads the branch's a and the main graph's x; the else
// branch defines t, and so does the then branch. Several nodes are
// unnamed or share names across scopes.
func scopedModel() *onnxpb.ModelProto {
	body := &onnxpb.GraphProto{Name: strPtr("body"),
		Input:  []*onnxpb.ValueInfoProto{pvalue("i"), pvalue("c"), pvalue("v")},
		Output: []*onnxpb.ValueInfoProto{pvalue("c_out"), pvalue("v_out")},
		Node: []*onnxpb.NodeProto{
			pnode("", "Identity", []string{"c"}, []string{"c_out"}),
			pnode("add", "Add", []string{"v", "a"}, []string{"w"}),
			pnode("", "Add", []string{"w", "x"}, []string{"v_out"}),
		}}
	then := &onnxpb.GraphProto{Name: strPtr("then"),
		Output: []*onnxpb.ValueInfoProto{pvalue("t")},
		Node: []*onnxpb.NodeProto{
			pnode("neg", "Neg", []string{"x"}, []string{"a"}),
			pnode("", "Loop", []string{"m", "", "a"}, []string{"t"}, pgraphAttr("body", body)),
		}}
	els := &onnxpb.GraphProto{Name: strPtr("else"),
		Output: []*onnxpb.ValueInfoProto{pvalue("t")},
		Node:   []*onnxpb.NodeProto{pnode("neg", "Abs", []string{"a"}, []string{"t"})}}
	return &onnxpb.ModelProto{IrVersion: int64Ptr(8), OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: strPtr(""), Version: int64Ptr(16)}},
		Graph: &onnxpb.GraphProto{Name: strPtr("main"),
			Input:  []*onnxpb.ValueInfoProto{pvalue("x"), pvalue("m"), pvalue("cond")},
			Output: []*onnxpb.ValueInfoProto{pvalue("y")},
			Node: []*onnxpb.NodeProto{
				pnode("", "Relu", []string{"x"}, []string{"a"}),
				pnode("add", "If", []string{"cond"}, []string{"y"}, pgraphAttr("then_branch", then), pgraphAttr("else_branch", els)),
			}}}
}

// TestToGraphUniqueNames: after ToGraph, node names and value
// definitions are unique model-wide, the main graph keeps its names, and
// each read still names the value it read (the shadowing a inside the
// then branch and its Loop body, the main graph's a in the else branch).
func TestToGraphUniqueNames(t *testing.T) {
	g, err := ToGraph(scopedModel())
	if err != nil {
		t.Fatal(err)
	}
	nodes := map[string]bool{}
	values := map[string]bool{}
	var visit func(g *potv1.Graph)
	visit = func(g *potv1.Graph) {
		for _, d := range definitions(g) {
			if values[d] {
				t.Errorf("value %q defined twice", d)
			}
			values[d] = true
		}
		for _, n := range g.GetNodes() {
			if nodes[n.GetName()] {
				t.Errorf("node name %q used twice", n.GetName())
			}
			nodes[n.GetName()] = true
			for _, sg := range graph.Subgraphs(n) {
				visit(sg)
			}
		}
	}
	visit(g)
	main := g.GetNodes()
	if main[0].GetName() != "Relu_0" || main[0].GetOutputs()[0] != "a" || main[1].GetName() != "add" {
		t.Errorf("main graph renamed: %v %v", main[0], main[1])
	}
	then := main[1].GetAttributes()[0].GetG()
	els := main[1].GetAttributes()[1].GetG()
	body := then.GetNodes()[1].GetAttributes()[0].GetG()
	a2 := then.GetNodes()[0].GetOutputs()[0]
	if a2 == "a" {
		t.Fatal("the then branch's a shadows the main graph's")
	}
	for what, got := range map[string]string{
		"then Loop reads":     then.GetNodes()[1].GetInputs()[2],
		"body Add reads":      body.GetNodes()[1].GetInputs()[1],
		"then branch outputs": then.GetOutputs()[0].GetName(),
		"then Loop writes":    then.GetNodes()[1].GetOutputs()[0],
	} {
		want := a2
		if what == "then branch outputs" || what == "then Loop writes" {
			want = "t" // the first definition of t keeps its name
		}
		if got != want {
			t.Errorf("%s %q, want %q", what, got, want)
		}
	}
	if got := els.GetNodes()[0].GetInputs()[0]; got != "a" {
		t.Errorf("else branch reads %q, want the main graph's a", got)
	}
	if got := body.GetNodes()[2].GetInputs()[1]; got != "x" {
		t.Errorf("body reads %q, want the main graph's x", got)
	}
	if got := els.GetOutputs()[0].GetName(); got == "t" || got != els.GetNodes()[0].GetOutputs()[0] {
		t.Errorf("else branch writes %q and outputs %q", els.GetNodes()[0].GetOutputs()[0], got)
	}
	// Conversion is deterministic, and FromGraph gives the model back.
	g2, _ := ToGraph(scopedModel())
	if !proto.Equal(g, g2) {
		t.Error("two conversions differ")
	}
	m := scopedModel()
	back, err := FromGraph(g, m)
	if err != nil {
		t.Fatal(err)
	}
	// The main graph's unnamed node is written with its name; the
	// subgraphs, unchanged, come back as they were.
	m.GetGraph().GetNode()[0].Name = strPtr("Relu_0")
	if !proto.Equal(back.GetGraph(), m.GetGraph()) {
		t.Errorf("FromGraph(ToGraph(m), m) is not m:\n got %v\nwant %v", back.GetGraph(), m.GetGraph())
	}
}
