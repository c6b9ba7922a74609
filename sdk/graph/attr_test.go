package graph_test

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/onnx"
)

// readGraph reads a model as a graph.
func readGraph(t *testing.T, path string) *potv1.Graph {
	t.Helper()
	g, err := onnx.ReadGraph(path)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// lenet is examples/models/lenet_mnist.onnx as a graph.
func lenet(t *testing.T) *potv1.Graph {
	return readGraph(t, testenv.Example("models", "lenet_mnist.onnx"))
}

// TestAttrGetters reads the attributes PyTorch wrote on LeNet's layers,
// and the defaults of those it left out.
func TestAttrGetters(t *testing.T) {
	x := graph.NewIndex(lenet(t))
	for _, tc := range []struct {
		node, attr string
		get        func(n *potv1.Node, name string) any
		want       string
	}{
		{"/c1/Conv", "group", func(n *potv1.Node, a string) any { return graph.AttrInt(n, a, 7) }, "1"},
		{"/c1/Conv", "groups", func(n *potv1.Node, a string) any { return graph.AttrInt(n, a, 7) }, "7"},
		{"/c1/Conv", "pads", func(n *potv1.Node, a string) any { return graph.AttrInts(n, a, nil) }, "[2 2 2 2]"},
		{"/c2/Conv", "pads", func(n *potv1.Node, a string) any { return graph.AttrInts(n, a, nil) }, "[0 0 0 0]"},
		{"/c2/Conv", "auto_pad", func(n *potv1.Node, a string) any { return graph.AttrInts(n, a, []int64{9}) }, "[9]"},
		{"/f1/Gemm", "alpha", func(n *potv1.Node, a string) any { return graph.AttrFloat(n, a, 0.5) }, "1"},
		{"/f1/Gemm", "gamma", func(n *potv1.Node, a string) any { return graph.AttrFloat(n, a, 0.5) }, "0.5"},
		{"/f1/Gemm", "transB", func(n *potv1.Node, a string) any { return graph.AttrInt(n, a, 0) }, "1"},
		{"/f1/Gemm", "transA", func(n *potv1.Node, a string) any { return graph.AttrInt(n, a, 0) }, "0"},
		{"/MaxPool", "auto_pad", func(n *potv1.Node, a string) any { return graph.AttrString(n, a, "NOTSET") }, "NOTSET"},
		{"/MaxPool", "ceil_mode", func(n *potv1.Node, a string) any { return graph.HasAttr(n, a) }, "true"},
		{"/MaxPool", "dilations", func(n *potv1.Node, a string) any { return graph.HasAttr(n, a) }, "false"},
		{"/Relu", "alpha", func(n *potv1.Node, a string) any { return graph.Attr(n, a) == nil }, "true"},
	} {
		n := x.Node(tc.node)
		if n == nil {
			t.Fatalf("no node %q", tc.node)
		}
		if got := fmt.Sprint(tc.get(n, tc.attr)); got != tc.want {
			t.Errorf("%s.%s = %s, want %s", tc.node, tc.attr, got, tc.want)
		}
	}
}

// TestAttrConstructors: each constructor builds the attribute ONNX
// exporters write (the type set, the value in its field), which the
// getters read back; list constructors copy their argument.
func TestAttrConstructors(t *testing.T) {
	ints, floats := []int64{2, 2, 2, 2}, []float32{0.5, 0.25}
	n := &potv1.Node{Attributes: []*potv1.Attribute{
		graph.IntAttr("group", 1),
		graph.FloatAttr("alpha", 0.5),
		graph.StringAttr("auto_pad", "SAME_UPPER"),
		graph.IntsAttr("pads", ints),
		graph.FloatsAttr("scales", floats),
	}}
	for _, tc := range []struct {
		a    *potv1.Attribute
		want *potv1.Attribute
	}{
		{n.Attributes[0], &potv1.Attribute{Name: "group", Type: potv1.Attribute_TYPE_INT, I: 1}},
		{n.Attributes[1], &potv1.Attribute{Name: "alpha", Type: potv1.Attribute_TYPE_FLOAT, F: 0.5}},
		{n.Attributes[2], &potv1.Attribute{Name: "auto_pad", Type: potv1.Attribute_TYPE_STRING, S: []byte("SAME_UPPER")}},
		{n.Attributes[3], &potv1.Attribute{Name: "pads", Type: potv1.Attribute_TYPE_INTS, Ints: []int64{2, 2, 2, 2}}},
		{n.Attributes[4], &potv1.Attribute{Name: "scales", Type: potv1.Attribute_TYPE_FLOATS, Floats: []float32{0.5, 0.25}}},
	} {
		if !proto.Equal(tc.a, tc.want) {
			t.Errorf("built %v, want %v", tc.a, tc.want)
		}
	}
	ints[0], floats[0] = 9, 9
	if got := graph.AttrInts(n, "pads", nil); got[0] != 2 {
		t.Errorf("IntsAttr shares its argument: pads %v", got)
	}
	if got := graph.Attr(n, "scales").GetFloats(); got[0] != 0.5 {
		t.Errorf("FloatsAttr shares its argument: scales %v", got)
	}
	if graph.AttrInt(n, "group", 0) != 1 || graph.AttrFloat(n, "alpha", 0) != 0.5 || graph.AttrString(n, "auto_pad", "") != "SAME_UPPER" {
		t.Errorf("getters do not read back %v", n.Attributes)
	}
}
