package graph

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/tensor"
)

// halfTensor is a float16 (or bfloat16) tensor of the given bits.
func halfTensor(name string, dt potv1.DataType, bits ...uint16) *potv1.Tensor {
	t := &potv1.Tensor{Name: name, Dtype: dt, Dims: []int64{int64(len(bits))}}
	for _, b := range bits {
		t.Data = binary.LittleEndian.AppendUint16(t.Data, b)
	}
	return t
}

func TestWidenHalf(t *testing.T) {
	const half, bhalf = int64(potv1.DataType_DATA_TYPE_FLOAT16), int64(potv1.DataType_DATA_TYPE_BFLOAT16)
	// Every class of half: zeros, a subnormal, normals, the largest,
	// infinity and a NaN.
	hb := []uint16{0x0000, 0x8000, 0x0001, 0x3c00, 0xc155, 0x7bff, 0x7c00, 0x7e00}
	body := &potv1.Graph{Name: "then",
		Initializers: []*potv1.Tensor{halfTensor("bw", potv1.DataType_DATA_TYPE_FLOAT16, 0x3800)},
		Outputs:      []*potv1.ValueInfo{{Name: "bo", Dtype: potv1.DataType_DATA_TYPE_FLOAT16}},
	}
	g := &potv1.Graph{
		Inputs:  []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Outputs: []*potv1.ValueInfo{{Name: "y", Dtype: potv1.DataType_DATA_TYPE_FLOAT16}},
		ValueInfo: []*potv1.ValueInfo{{Name: "xh", Dtype: potv1.DataType_DATA_TYPE_FLOAT16},
			{Name: "n", Dtype: potv1.DataType_DATA_TYPE_INT64}},
		Initializers: []*potv1.Tensor{halfTensor("w", potv1.DataType_DATA_TYPE_FLOAT16, hb...),
			halfTensor("bf", potv1.DataType_DATA_TYPE_BFLOAT16, 0x3f80, 0xc040),
			Int64Tensor("shape", []int64{1}, []int64{3})},
		Nodes: []*potv1.Node{
			{Name: "cast", OpType: "Cast", Inputs: []string{"x"}, Outputs: []string{"xh"}, Attributes: []*potv1.Attribute{IntAttr("to", half)}},
			{Name: "castb", OpType: "Cast", Inputs: []string{"x"}, Outputs: []string{"xb"}, Attributes: []*potv1.Attribute{IntAttr("to", bhalf)}},
			{Name: "toint", OpType: "Cast", Inputs: []string{"x"}, Outputs: []string{"xi"}, Attributes: []*potv1.Attribute{IntAttr("to", 7)}},
			{Name: "const", OpType: "Constant", Outputs: []string{"c"}, Attributes: []*potv1.Attribute{
				{Name: "value", Type: potv1.Attribute_TYPE_TENSOR, T: halfTensor("", potv1.DataType_DATA_TYPE_FLOAT16, 0x4000)}}},
			{Name: "eye", OpType: "EyeLike", Inputs: []string{"x"}, Outputs: []string{"e"}, Attributes: []*potv1.Attribute{IntAttr("dtype", half)}},
			// A custom operator's attribute named "to" is its own business.
			{Name: "custom", OpType: "Mine", Domain: "com.example", Inputs: []string{"x"}, Outputs: []string{"m"}, Attributes: []*potv1.Attribute{IntAttr("to", half)}},
			{Name: "if", OpType: "If", Inputs: []string{"b"}, Outputs: []string{"y"}, Attributes: []*potv1.Attribute{
				{Name: "then_branch", Type: potv1.Attribute_TYPE_GRAPH, G: body}}},
		},
	}
	n, err := WidenHalf(g)
	if err != nil {
		t.Fatal(err)
	}
	// w, bf, bw; xh, y, bo; cast, castb, eye; the Constant's value.
	if n != 10 {
		t.Errorf("changed %d, want 10", n)
	}
	w, err := Float32s(g.GetInitializers()[0])
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range hb {
		if math.Float32bits(w[i]) != math.Float32bits(tensor.Float16Bits(b).Float32()) {
			t.Errorf("w[%d] = %v, want the half %#04x", i, w[i], b)
		}
	}
	if bf, _ := Float32s(g.GetInitializers()[1]); len(bf) != 2 || bf[0] != 1 || bf[1] != -3 {
		t.Errorf("bfloat16 initializer widened to %v, want [1 -3]", bf)
	}
	if bw, _ := Float32s(body.GetInitializers()[0]); len(bw) != 1 || bw[0] != 0.5 {
		t.Errorf("branch initializer widened to %v, want [0.5]", bw)
	}
	if c, _ := Float32s(Attr(g.GetNodes()[3], "value").GetT()); len(c) != 1 || c[0] != 2 {
		t.Errorf("Constant value widened to %v, want [2]", c)
	}
	for _, v := range []*potv1.ValueInfo{g.GetOutputs()[0], g.GetValueInfo()[0], body.GetOutputs()[0]} {
		if v.GetDtype() != potv1.DataType_DATA_TYPE_FLOAT {
			t.Errorf("value %s declared %v", v.GetName(), v.GetDtype())
		}
	}
	if g.GetValueInfo()[1].GetDtype() != potv1.DataType_DATA_TYPE_INT64 {
		t.Error("an int64 value changed type")
	}
	for _, c := range []struct {
		node, attr string
		want       int64
	}{{"cast", "to", 1}, {"castb", "to", 1}, {"toint", "to", 7}, {"eye", "dtype", 1}, {"custom", "to", half}} {
		var node *potv1.Node
		for _, nd := range g.GetNodes() {
			if nd.GetName() == c.node {
				node = nd
			}
		}
		if got := Attr(node, c.attr).GetI(); got != c.want {
			t.Errorf("%s %s = %d, want %d", c.node, c.attr, got, c.want)
		}
	}
	if n, err := WidenHalf(g); n != 0 || err != nil {
		t.Errorf("widening again changed %d (%v)", n, err)
	}
}

func TestWidenHalfShortData(t *testing.T) {
	bad := halfTensor("w", potv1.DataType_DATA_TYPE_FLOAT16, 1, 2)
	bad.Dims = []int64{3}
	_, err := WidenHalf(&potv1.Graph{Initializers: []*potv1.Tensor{bad}})
	if err == nil || !strings.Contains(err.Error(), `initializer "w"`) || !strings.Contains(err.Error(), "holds 4 bytes, want 6") {
		t.Errorf("err = %v", err)
	}
}
