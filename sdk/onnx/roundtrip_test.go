package onnx

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/proto/potv1"
)

// cycle is read → ToGraph → FromGraph → Encode → Decode.
func cycle(t *testing.T, m *onnxpb.ModelProto) (*potv1.Graph, []byte, *onnxpb.ModelProto) {
	t.Helper()
	g, err := ToGraph(m)
	if err != nil {
		t.Fatalf("ToGraph: %v", err)
	}
	out, err := FromGraph(g, m)
	if err != nil {
		t.Fatalf("FromGraph: %v", err)
	}
	b := mustEncode(t, out)
	back, err := Decode(b)
	if err != nil {
		t.Fatalf("Decode of FromGraph output: %v", err)
	}
	return g, b, back
}

func TestRoundTripExamples(t *testing.T) {
	for _, path := range exampleModels(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			m, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			orig := proto.Clone(m)
			g1, b1, m1 := cycle(t, m)
			g2, b2, m2 := cycle(t, m1)
			g3, b3, _ := cycle(t, m2)
			if !proto.Equal(m, orig) {
				t.Error("ToGraph/FromGraph modified the input model")
			}
			if !bytes.Equal(b2, b3) {
				t.Errorf("second and third encodings differ (%d and %d bytes)", len(b2), len(b3))
			}
			// The example models name every node, so even the first
			// encoding is stable.
			if !bytes.Equal(b1, b2) {
				t.Errorf("first and second encodings differ (%d and %d bytes)", len(b1), len(b2))
			}
			if !proto.Equal(g1, g2) || !proto.Equal(g2, g3) {
				t.Error("graphs differ across round trips")
			}
			// Nothing changed, so the output is the input model.
			if !proto.Equal(m1, m) {
				t.Error("FromGraph(ToGraph(m), m) differs from m")
			}
			if len(g1.GetNodes()) != len(m.GetGraph().GetNode()) || len(g1.GetInitializers()) != len(m.GetGraph().GetInitializer()) {
				t.Errorf("graph has %d nodes, %d initializers; model %d, %d", len(g1.GetNodes()), len(g1.GetInitializers()), len(m.GetGraph().GetNode()), len(m.GetGraph().GetInitializer()))
			}
		})
	}
}

// richModel has what pot does not model: doc strings, a function,
// training info, a sequence-typed value, denotations, an If with
// subgraphs, a Constant, metadata and an unnamed node.
func richModel() *onnxpb.ModelProto {
	m := smallModel()
	m.DocString = proto.String("model doc")
	m.Domain = proto.String("ai.pot.test")
	m.ModelVersion = proto.Int64(3)
	m.ProducerVersion = proto.String("1.0")
	m.MetadataProps = []*onnxpb.StringStringEntryProto{
		{Key: proto.String("zeta"), Value: proto.String("1")},
		{Key: proto.String("alpha"), Value: proto.String("2")},
	}
	m.OpsetImport = append(m.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: proto.String("com.microsoft"), Version: proto.Int64(1)})
	m.Functions = []*onnxpb.FunctionProto{{Name: proto.String("F"), Domain: proto.String("local"), Input: []string{"a"}, Output: []string{"b"},
		Node: []*onnxpb.NodeProto{node("", "Identity", []string{"a"}, []string{"b"})}}}
	m.TrainingInfo = []*onnxpb.TrainingInfoProto{{UpdateBinding: []*onnxpb.StringStringEntryProto{{Key: proto.String("w"), Value: proto.String("w2")}}}}
	g := m.Graph
	g.DocString = proto.String("graph doc")
	g.Node[0].DocString = proto.String("add doc")
	g.Node[0].Domain = proto.String("")
	g.Initializer[0].DocString = proto.String("weight doc")
	g.QuantizationAnnotation = []*onnxpb.TensorAnnotation{{TensorName: proto.String("w")}}
	g.Input[0].DocString = proto.String("input doc")
	g.Input[0].Type.Denotation = proto.String("TENSOR")
	g.Input[0].Type.GetTensorType().Shape.Dim[0] = &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}, Denotation: proto.String("DATA_BATCH")}
	g.ValueInfo = []*onnxpb.ValueInfoProto{
		tensorVI("s", onnxpb.TensorProto_FLOAT, 2, 3),
		{Name: proto.String("seq"), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_SequenceType{SequenceType: &onnxpb.TypeProto_Sequence{ElemType: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(1)}}}}}}},
	}
	branch := func(name string, v float32) *onnxpb.GraphProto {
		return &onnxpb.GraphProto{Name: proto.String(name), DocString: proto.String(name + " doc"),
			Node: []*onnxpb.NodeProto{node("", "Constant", nil, []string{name + "_out"}, &onnxpb.AttributeProto{
				Name: proto.String("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(),
				T: &onnxpb.TensorProto{DataType: proto.Int32(1), Dims: []int64{1}, FloatData: []float32{v}}})},
			Output: []*onnxpb.ValueInfoProto{tensorVI(name+"_out", onnxpb.TensorProto_FLOAT, 1)}}
	}
	g.Node = append(g.Node,
		node("", "Constant", nil, []string{"cond"}, &onnxpb.AttributeProto{Name: proto.String("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(),
			T: rawTensor("", onnxpb.TensorProto_BOOL, nil, []byte{1})}),
		node("if", "If", []string{"cond"}, []string{"z"},
			&onnxpb.AttributeProto{Name: proto.String("then_branch"), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: branch("then", 1), DocString: proto.String("then attr doc")},
			&onnxpb.AttributeProto{Name: proto.String("else_branch"), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: branch("else", 2)}),
	)
	g.Output = append(g.Output, tensorVI("z", onnxpb.TensorProto_FLOAT, 1))
	return m
}

func TestFromGraphKeepsWhatPotDoesNotModel(t *testing.T) {
	m := richModel()
	g, err := ToGraph(m)
	if err != nil {
		t.Fatal(err)
	}
	out, err := FromGraph(g, m)
	if err != nil {
		t.Fatal(err)
	}
	// The only change: the unnamed Constant got the name ToGraph gave it.
	want := proto.Clone(m).(*onnxpb.ModelProto)
	want.Graph.Node[2].Name = proto.String("Constant_2")
	if !proto.Equal(out, want) {
		t.Errorf("FromGraph(ToGraph(m), m) is not m with node names:\n got %v\nwant %v", out, want)
	}
	if bytes.Equal(mustEncode(t, out), mustEncode(t, m)) {
		t.Error("output should differ from the input by the new node name")
	}
}

func TestFromGraphChanges(t *testing.T) {
	m := richModel()
	g, err := ToGraph(m)
	if err != nil {
		t.Fatal(err)
	}
	// An algorithm's edits: a new weight value, a new node after Relu, a
	// changed attribute on If, changed metadata and opset.
	g.Initializers[0].Data = f32Raw(6, 5, 4, 3, 2, 1)
	g.Nodes = append(g.Nodes, &potv1.Node{Name: "", OpType: "Flatten", Inputs: []string{"y"}, Outputs: []string{"flat"},
		Attributes: []*potv1.Attribute{{Name: "axis", Type: potv1.Attribute_TYPE_INT, I: 0}}})
	g.Nodes[3].Attributes[0].G.Nodes[0].Attributes[0].T.Data = f32Raw(9)
	g.Metadata["alpha"] = "changed"
	g.Metadata["beta"] = "new"
	delete(g.Metadata, "zeta")
	g.Opsets[0].Version = 14
	g.IrVersion = 8
	out, err := FromGraph(g, m)
	if err != nil {
		t.Fatal(err)
	}
	gp := out.GetGraph()
	if got := gp.GetInitializer()[0]; !bytes.Equal(got.GetRawData(), f32Raw(6, 5, 4, 3, 2, 1)) || got.GetDocString() != "weight doc" {
		t.Errorf("initializer = %v, want new data and the base doc string", got)
	}
	if got := gp.GetNode()[4]; got.GetName() != "Flatten_4" || got.GetOpType() != "Flatten" || len(got.GetAttribute()) != 1 || got.GetAttribute()[0].GetI() != 0 || got.GetAttribute()[0].I == nil {
		t.Errorf("new node = %v", got)
	}
	if got := gp.GetNode()[0].GetDocString(); got != "add doc" {
		t.Errorf("matched node lost its doc string: %q", got)
	}
	then := gp.GetNode()[3].GetAttribute()[0]
	if then.GetDocString() != "then attr doc" || then.GetG().GetDocString() != "then doc" {
		t.Errorf("changed subgraph attribute lost its doc strings: %v", then)
	}
	if got := then.GetG().GetNode()[0].GetAttribute()[0].GetT().GetRawData(); !bytes.Equal(got, f32Raw(9)) {
		t.Errorf("changed Constant in subgraph = %v", got)
	}
	if !proto.Equal(gp.GetNode()[3].GetAttribute()[1], m.GetGraph().GetNode()[3].GetAttribute()[1]) {
		t.Error("unchanged else_branch attribute was not kept as is")
	}
	wantMD := []string{"alpha", "changed", "beta", "new"}
	var gotMD []string
	for _, p := range out.GetMetadataProps() {
		gotMD = append(gotMD, p.GetKey(), p.GetValue())
	}
	if !slices.Equal(gotMD, wantMD) {
		t.Errorf("metadata = %v, want %v", gotMD, wantMD)
	}
	if v, _ := DefaultOpset(out); v != 14 || out.GetIrVersion() != 8 {
		t.Errorf("opset %d, ir %d; want 14, 8", v, out.GetIrVersion())
	}
	if out.GetDocString() != "model doc" || len(out.GetFunctions()) != 1 || len(out.GetTrainingInfo()) != 1 || gp.GetDocString() != "graph doc" || len(gp.GetQuantizationAnnotation()) != 1 {
		t.Error("model-level fields were lost")
	}
	// base is untouched.
	if !proto.Equal(m, richModel()) {
		t.Error("FromGraph modified base")
	}
	// Reading back gives the edited graph.
	back, err := Decode(mustEncode(t, out))
	if err != nil {
		t.Fatal(err)
	}
	g2, err := ToGraph(back)
	if err != nil {
		t.Fatal(err)
	}
	g.Nodes[4].Name = "Flatten_4"
	if !proto.Equal(g, g2) {
		t.Errorf("read back graph differs:\n got %v\nwant %v", g2, g)
	}
}

func TestFromGraphWithoutBase(t *testing.T) {
	g, err := ToGraph(smallModel())
	if err != nil {
		t.Fatal(err)
	}
	g.IrVersion = 0
	g.Opsets = []*potv1.OpsetImport{{Version: 21}}
	out, err := FromGraph(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out.GetIrVersion() != 10 || out.GetProducerName() != "pot" {
		t.Errorf("ir_version %d producer %q, want 10 (opset 21) and pot", out.GetIrVersion(), out.GetProducerName())
	}
	back, err := Decode(mustEncode(t, out))
	if err != nil {
		t.Fatal(err)
	}
	g2, err := ToGraph(back)
	if err != nil {
		t.Fatal(err)
	}
	g.IrVersion = 10
	if !proto.Equal(g, g2) {
		t.Errorf("graph differs after FromGraph without base:\n got %v\nwant %v", g2, g)
	}
}

func TestFromGraphRejects(t *testing.T) {
	tests := []struct {
		name string
		edit func(g *potv1.Graph)
		want string
	}{
		{"outputs collide", func(g *potv1.Graph) { g.Nodes[1].Outputs[0] = "s" }, `tensor "s" is written by two nodes`},
		{"node writes initializer", func(g *potv1.Graph) { g.Nodes[1].Outputs[0] = "w" }, `writes tensor "w", which is an initializer`},
		{"node writes input", func(g *potv1.Graph) { g.Nodes[0].Outputs[0] = "x" }, `writes tensor "x", which is a graph input`},
		{"short initializer", func(g *potv1.Graph) { g.Initializers[0].Data = g.Initializers[0].Data[:5] }, `data has 5 bytes, dims [2 3] of type FLOAT need 24`},
		{"chunked initializer", func(g *potv1.Graph) { g.Initializers[0].DataSize, g.Initializers[0].Data = 24, nil }, "sent in chunks"},
		{"bad tensor attribute", func(g *potv1.Graph) {
			g.Nodes[0].Attributes = []*potv1.Attribute{{Name: "t", Type: potv1.Attribute_TYPE_TENSOR, T: &potv1.Tensor{Dtype: potv1.DataType_DATA_TYPE_INT64, Dims: []int64{2}, Data: []byte{1}}}}
		}, `attribute "t"`},
		{"untyped attribute", func(g *potv1.Graph) { g.Nodes[0].Attributes = []*potv1.Attribute{{Name: "u"}} }, "no type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := smallModel()
			g, err := ToGraph(m)
			if err != nil {
				t.Fatal(err)
			}
			tc.edit(g)
			_, err = FromGraph(g, m)
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
				t.Errorf("FromGraph error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
