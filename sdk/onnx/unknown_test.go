package onnx

import (
	"bytes"
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/onnxpb"
)

// TestUnknownFieldsSurvive adds fields the project's onnx.proto does not
// declare (as a newer ONNX would write them) and checks that they are
// still there after ToGraph → FromGraph → Encode.
func TestUnknownFieldsSurvive(t *testing.T) {
	// NodeProto field 9 is metadata_props in IR 10: a StringStringEntryProto.
	var entry []byte
	entry = protowire.AppendTag(entry, 1, protowire.BytesType)
	entry = protowire.AppendString(entry, "origin")
	entry = protowire.AppendTag(entry, 2, protowire.BytesType)
	entry = protowire.AppendString(entry, "conv1")
	var nodeField []byte
	nodeField = protowire.AppendTag(nodeField, 9, protowire.BytesType)
	nodeField = protowire.AppendBytes(nodeField, entry)
	// ModelProto field 26 (a future field): a varint.
	var modelField []byte
	modelField = protowire.AppendTag(modelField, 26, protowire.VarintType)
	modelField = protowire.AppendVarint(modelField, 12345)
	small := func(num protowire.Number) []byte {
		b := protowire.AppendTag(nil, num, protowire.VarintType)
		return protowire.AppendVarint(b, 7)
	}

	m := smallModel()
	m.Graph.Node[0].Attribute = []*onnxpb.AttributeProto{intAttr("k", 1)}
	m.Graph.Node[0].ProtoReflect().SetUnknown(nodeField)
	m.Graph.Node[0].Attribute[0].ProtoReflect().SetUnknown(small(30))
	m.Graph.ProtoReflect().SetUnknown(small(16))
	m.Graph.Initializer[0].ProtoReflect().SetUnknown(small(20))
	m.Graph.Input[0].ProtoReflect().SetUnknown(small(4))
	m.OpsetImport[0].ProtoReflect().SetUnknown(small(3))
	// The model-level field is appended to the serialized file, the way a
	// newer writer's output would carry it.
	b := append(mustEncode(t, m), modelField...)
	read, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(read.ProtoReflect().GetUnknown(), modelField) {
		t.Fatalf("Decode lost the model's unknown field")
	}
	g, err := ToGraph(read)
	if err != nil {
		t.Fatal(err)
	}
	g.Initializers[0].Data = f32Raw(0, 0, 0, 0, 0, 1) // a changed initializer keeps its unknown fields too
	out, err := FromGraph(g, read)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(mustEncode(t, out))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what string
		msg  proto.Message
		want []byte
	}{
		{"ModelProto", back, modelField},
		{"NodeProto", back.GetGraph().GetNode()[0], nodeField},
		{"AttributeProto", back.GetGraph().GetNode()[0].GetAttribute()[0], small(30)},
		{"GraphProto", back.GetGraph(), small(16)},
		{"initializer TensorProto", back.GetGraph().GetInitializer()[0], small(20)},
		{"input ValueInfoProto", back.GetGraph().GetInput()[0], small(4)},
		{"OperatorSetIdProto", back.GetOpsetImport()[0], small(3)},
	}
	for _, c := range checks {
		if got := c.msg.ProtoReflect().GetUnknown(); !bytes.Equal(got, c.want) {
			t.Errorf("%s unknown fields = % x, want % x", c.what, got, c.want)
		}
	}
	if got := back.GetGraph().GetInitializer()[0].GetRawData(); !bytes.Equal(got, f32Raw(0, 0, 0, 0, 0, 1)) {
		t.Errorf("initializer data = % x", got)
	}
}

func TestUnnamedNodesGetUniqueNames(t *testing.T) {
	m := smallModel()
	g := m.Graph
	g.Node = []*onnxpb.NodeProto{
		node("", "Relu", []string{"x"}, []string{"a"}),
		node("Relu_0", "Relu", []string{"a"}, []string{"b"}), // takes the name the first would get
		node("dup", "Neg", []string{"b"}, []string{"c"}),
		node("dup", "Neg", []string{"c"}, []string{"d"}),
		node("dup_3", "Abs", []string{"d"}, []string{"e"}),
		node("", "Abs", []string{"e"}, []string{"y"}),
	}
	want := []string{"Relu_0_", "Relu_0", "dup", "dup_3_", "dup_3", "Abs_5"}
	pg, err := ToGraph(m)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range pg.GetNodes() {
		got = append(got, n.GetName())
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ToGraph names = %v, want %v", got, want)
	}
	out, err := FromGraph(pg, m)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range out.GetGraph().GetNode() {
		if n.GetName() != want[i] || n.GetOpType() != g.Node[i].GetOpType() {
			t.Errorf("node %d written as %q (%s), want %q", i, n.GetName(), n.GetOpType(), want[i])
		}
	}
	// Read again: the names are stable.
	pg2, err := ToGraph(out)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(pg, pg2) {
		t.Error("names changed on the second read")
	}
	// FromGraph names nodes an algorithm added without a name the same way.
	pg.Nodes[2].Name = ""
	out, err = FromGraph(pg, m)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.GetGraph().GetNode()[2].GetName(); got != "Neg_2" {
		t.Errorf("unnamed pot node written as %q, want Neg_2", got)
	}
}
