package graph

import (
	"testing"

	"github.com/potgo/pot/proto/potv1"
)

var intAttr = IntAttr

func TestValueTypeRules(t *testing.T) {
	f32, i64, i32, b, f16 := potv1.DataType_DATA_TYPE_FLOAT, potv1.DataType_DATA_TYPE_INT64, potv1.DataType_DATA_TYPE_INT32,
		potv1.DataType_DATA_TYPE_BOOL, potv1.DataType_DATA_TYPE_FLOAT16
	u8 := potv1.DataType_DATA_TYPE_UINT8
	x := &potv1.ValueInfo{Name: "x", Dtype: f32}
	node := func(op string, in []string, out []string, attrs ...*potv1.Attribute) *potv1.Node {
		return &potv1.Node{Name: op + "_" + out[0], OpType: op, Inputs: in, Outputs: out, Attributes: attrs}
	}
	tests := []struct {
		name  string
		g     *potv1.Graph
		want  map[string]potv1.DataType
		check []string // tensors whose type must be unknown
	}{
		{
			name: "shape subgraph of an attention reshape",
			g: &potv1.Graph{
				Inputs:       []*potv1.ValueInfo{x},
				Initializers: []*potv1.Tensor{{Name: "idx", Dtype: i64}, {Name: "heads", Dtype: i64, Dims: []int64{1}}},
				Nodes: []*potv1.Node{
					node("Shape", []string{"x"}, []string{"s"}),
					node("Gather", []string{"s", "idx"}, []string{"n"}),
					node("Unsqueeze", []string{"n", "idx"}, []string{"n1"}),
					node("Concat", []string{"n1", "heads"}, []string{"shape"}),
					node("Reshape", []string{"x", "shape"}, []string{"r"}),
					node("Mul", []string{"n", "idx"}, []string{"m"}),
					node("Div", []string{"m", "idx"}, []string{"d"}),
				},
			},
			want: map[string]potv1.DataType{"s": i64, "n": i64, "n1": i64, "shape": i64, "r": f32, "m": i64, "d": i64},
		},
		{
			name: "cast, comparisons, where, constant of shape",
			g: &potv1.Graph{
				Inputs: []*potv1.ValueInfo{x},
				Nodes: []*potv1.Node{
					node("Shape", []string{"x"}, []string{"s"}),
					node("Cast", []string{"s"}, []string{"sf"}, intAttr("to", int64(f32))),
					node("Cast", []string{"x"}, []string{"xi"}, intAttr("to", int64(i32))),
					node("ConstantOfShape", []string{"s"}, []string{"ones"},
						&potv1.Attribute{Name: "value", Type: potv1.Attribute_TYPE_TENSOR, T: &potv1.Tensor{Dtype: i64, Dims: []int64{1}}}),
					node("ConstantOfShape", []string{"s"}, []string{"zeros"}),
					node("Equal", []string{"s", "ones"}, []string{"eq"}),
					node("Where", []string{"eq", "ones", "s"}, []string{"w"}),
					node("Greater", []string{"x", "sf"}, []string{"gt"}),
					node("Not", []string{"gt"}, []string{"ngt"}),
					node("Where", []string{"gt", "x", "sf"}, []string{"wf"}),
					node("Range", []string{"n0", "n1", "n2"}, []string{"rg"}),
				},
			},
			want: map[string]potv1.DataType{"s": i64, "sf": f32, "xi": i32, "ones": i64, "zeros": f32, "eq": b, "w": i64,
				"gt": b, "ngt": b, "wf": f32},
			check: []string{"rg"},
		},
		{
			name: "constants and index outputs",
			g: &potv1.Graph{
				Inputs: []*potv1.ValueInfo{x},
				Nodes: []*potv1.Node{
					node("Constant", nil, []string{"c"}, &potv1.Attribute{Name: "value", Type: potv1.Attribute_TYPE_TENSOR, T: &potv1.Tensor{Dtype: i64}}),
					node("Constant", nil, []string{"cf"}, &potv1.Attribute{Name: "value_float", Type: potv1.Attribute_TYPE_FLOAT, F: 1}),
					node("Constant", nil, []string{"ci"}, &potv1.Attribute{Name: "value_ints", Type: potv1.Attribute_TYPE_INTS, Ints: []int64{1}}),
					node("Range", []string{"c", "c", "c"}, []string{"r"}),
					node("ArgMax", []string{"x"}, []string{"am"}),
					node("TopK", []string{"x", "c"}, []string{"tv", "ti"}),
					node("MaxPool", []string{"x"}, []string{"mp", "mpi"}),
					node("Dropout", []string{"x"}, []string{"dr", "mask"}),
					node("NonZero", []string{"x"}, []string{"nz"}),
					node("Size", []string{"x"}, []string{"sz"}),
					node("Expand", []string{"x", "r"}, []string{"ex"}),
				},
			},
			want: map[string]potv1.DataType{"c": i64, "cf": f32, "ci": i64, "r": i64, "am": i64, "tv": f32, "ti": i64,
				"mp": f32, "mpi": i64, "dr": f32, "mask": b, "nz": i64, "sz": i64, "ex": f32},
		},
		{
			name: "quantized and half-precision tensors",
			g: &potv1.Graph{
				Inputs:       []*potv1.ValueInfo{{Name: "h", Dtype: f16}, x},
				Initializers: []*potv1.Tensor{{Name: "scale", Dtype: f32}, {Name: "zp", Dtype: potv1.DataType_DATA_TYPE_INT8}},
				Nodes: []*potv1.Node{
					node("Relu", []string{"h"}, []string{"hr"}),
					node("QuantizeLinear", []string{"x", "scale", "zp"}, []string{"q"}),
					node("QuantizeLinear", []string{"x", "scale"}, []string{"qu"}),
					node("DequantizeLinear", []string{"q", "scale", "zp"}, []string{"dq"}),
					node("MatMulInteger", []string{"q", "q"}, []string{"mmi"}),
					node("CastLike", []string{"x", "h"}, []string{"cl"}),
				},
			},
			want: map[string]potv1.DataType{"hr": f16, "q": potv1.DataType_DATA_TYPE_INT8, "qu": u8, "dq": f32, "mmi": i32, "cl": f16},
		},
		{
			name: "declared types fill in unknown operators; control flow takes its branch's outputs",
			g: &potv1.Graph{
				Inputs:    []*potv1.ValueInfo{x},
				ValueInfo: []*potv1.ValueInfo{{Name: "custom", Dtype: i64}, {Name: "gated", Dtype: f32}},
				Nodes: []*potv1.Node{
					{Name: "c", OpType: "Tokenize", Domain: "com.example", Inputs: []string{"x"}, Outputs: []string{"custom"}},
					{Name: "u", OpType: "Undeclared", Domain: "com.example", Inputs: []string{"x"}, Outputs: []string{"unknown"}},
					node("Greater", []string{"x", "x"}, []string{"cond"}),
					{Name: "if", OpType: "If", Inputs: []string{"cond"}, Outputs: []string{"branch"}, Attributes: []*potv1.Attribute{
						{Name: "then_branch", Type: potv1.Attribute_TYPE_GRAPH, G: &potv1.Graph{Outputs: []*potv1.ValueInfo{{Name: "o", Dtype: i64}}}},
					}},
					{Name: "loop", OpType: "Loop", Inputs: []string{"", "cond", "x"}, Outputs: []string{"carried"}, Attributes: []*potv1.Attribute{
						{Name: "body", Type: potv1.Attribute_TYPE_GRAPH, G: &potv1.Graph{Outputs: []*potv1.ValueInfo{{Name: "c", Dtype: b}, {Name: "v", Dtype: f32}}}},
					}},
					node("Mul", []string{"custom", "custom"}, []string{"twice"}),
				},
			},
			want:  map[string]potv1.DataType{"custom": i64, "cond": b, "branch": i64, "carried": f32, "twice": i64},
			check: []string{"unknown"},
		},
		{
			name: "no typed inputs: nothing is known",
			g: &potv1.Graph{
				Inputs: []*potv1.ValueInfo{{Name: "x"}},
				Nodes:  []*potv1.Node{node("Relu", []string{"x"}, []string{"y"})},
			},
			check: []string{"x", "y"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := NewIndex(tc.g)
			for name, want := range tc.want {
				if got := x.ValueType(name); got != want || x.NotFloat(name) == IsFloatType(want) {
					t.Errorf("%s: %v (NotFloat %v), want %v", name, got, x.NotFloat(name), want)
				}
			}
			for _, name := range tc.check {
				if dt := x.ValueType(name); dt != potv1.DataType_DATA_TYPE_UNDEFINED {
					t.Errorf("%s: %v, want unknown", name, dt)
				}
				if x.NotFloat(name) {
					t.Errorf("NotFloat(%s) for a tensor of unknown type", name)
				}
			}
		})
	}
}
