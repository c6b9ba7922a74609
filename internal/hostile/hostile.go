// Package hostile builds malformed and malicious ONNX models for the
// tests of pot's model reader, runtime and command line: models an
// untrusted source might send to make pot panic, hang or allocate
// without bound. Every model reads one input x, float [1 1 28 28] (an
// MNIST image, so that the example data sets feed it), and writes one
// output y; what is wrong sits in the named node.
package hostile

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/onnxpb"
)

// Case is one hostile model.
type Case struct {
	Name  string
	Model *onnxpb.ModelProto
}

// Input is the shape of every model's input x.
var Input = []int64{1, 1, 28, 28}

// model wraps nodes and initializers in a model of opset 13 with input x
// and output y.
func model(nodes []*onnxpb.NodeProto, inits ...*onnxpb.TensorProto) *onnxpb.ModelProto {
	return &onnxpb.ModelProto{
		IrVersion:    proto.Int64(8),
		ProducerName: proto.String("hostile"),
		OpsetImport:  []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(13)}},
		Graph: &onnxpb.GraphProto{
			Name:        proto.String("hostile"),
			Node:        nodes,
			Initializer: inits,
			Input:       []*onnxpb.ValueInfoProto{ValueInfo("x", onnxpb.TensorProto_FLOAT, Input...)},
			Output:      []*onnxpb.ValueInfoProto{ValueInfo("y", onnxpb.TensorProto_FLOAT)},
		},
	}
}

// Node makes a node.
func Node(name, op string, in, out []string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{Name: proto.String(name), OpType: proto.String(op), Input: in, Output: out, Attribute: attrs}
}

// ValueInfo declares a tensor of a type and, when dims are given, a shape.
func ValueInfo(name string, dt onnxpb.TensorProto_DataType, dims ...int64) *onnxpb.ValueInfoProto {
	tt := &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(dt))}
	if len(dims) > 0 {
		tt.Shape = &onnxpb.TensorShapeProto{}
		for _, d := range dims {
			tt.Shape.Dim = append(tt.Shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
		}
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: tt}}}
}

// Ints is an INTS attribute.
func Ints(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

// Int is an INT attribute.
func Int(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

// Graph is a GRAPH attribute.
func Graph(name string, g *onnxpb.GraphProto) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: g}
}

// Floats is a float tensor with raw data.
func Floats(name string, dims []int64, v ...float32) *onnxpb.TensorProto {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	return &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: dims, RawData: raw}
}

// Int64s is an int64 tensor.
func Int64s(name string, dims []int64, v ...int64) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Dims: dims, Int64Data: v}
}

// Nested nests depth If nodes, each in the then branch of the one above
// (if_0 in the main graph, if_1 in its branch, ...); the innermost
// branches return x.
func Nested(depth int) *onnxpb.ModelProto {
	leaf := func(level int) *onnxpb.GraphProto {
		out := fmt.Sprintf("y_%d", level)
		return &onnxpb.GraphProto{Name: proto.String(fmt.Sprintf("leaf_%d", level)),
			Node:   []*onnxpb.NodeProto{Node(fmt.Sprintf("id_%d", level), "Identity", []string{"x"}, []string{out})},
			Output: []*onnxpb.ValueInfoProto{ValueInfo(out, onnxpb.TensorProto_FLOAT)}}
	}
	var inner *onnxpb.GraphProto
	for level := depth - 1; level >= 0; level-- {
		out := fmt.Sprintf("y_%d", level)
		if level == 0 {
			out = "y"
		}
		then := leaf(level + 1)
		if inner != nil {
			then = inner
		}
		n := Node(fmt.Sprintf("if_%d", level), "If", []string{"cond"}, []string{out},
			Graph("then_branch", then), Graph("else_branch", leaf(level+1)))
		if level == 0 {
			return model([]*onnxpb.NodeProto{n}, &onnxpb.TensorProto{Name: proto.String("cond"), DataType: proto.Int32(int32(onnxpb.TensorProto_BOOL)), Int32Data: []int32{1}})
		}
		inner = &onnxpb.GraphProto{Name: proto.String(fmt.Sprintf("branch_%d", level)), Node: []*onnxpb.NodeProto{n},
			Output: []*onnxpb.ValueInfoProto{ValueInfo(out, onnxpb.TensorProto_FLOAT)}}
	}
	return model([]*onnxpb.NodeProto{Node("id", "Identity", []string{"x"}, []string{"y"})})
}

// Cycle is y = a, where node a reads b's output and node b reads a's.
func Cycle() *onnxpb.ModelProto {
	return model([]*onnxpb.NodeProto{
		Node("a", "Add", []string{"x", "b_out"}, []string{"a_out"}),
		Node("b", "Relu", []string{"a_out"}, []string{"b_out"}),
		Node("out", "Identity", []string{"a_out"}, []string{"y"}),
	})
}

// SelfLoop is a node that reads its own output.
func SelfLoop() *onnxpb.ModelProto {
	return model([]*onnxpb.NodeProto{
		Node("loop", "Add", []string{"x", "s"}, []string{"s"}),
		Node("out", "Identity", []string{"s"}, []string{"y"}),
	})
}

// Conv is a convolution "conv" of x by a 1x1x3x3 kernel with the given
// attributes.
func Conv(attrs ...*onnxpb.AttributeProto) *onnxpb.ModelProto {
	return model([]*onnxpb.NodeProto{Node("conv", "Conv", []string{"x", "w"}, []string{"y"}, attrs...)},
		Floats("w", []int64{1, 1, 3, 3}, 1, 1, 1, 1, 1, 1, 1, 1, 1))
}

// ManyOutputs is a Split "split" of x into n outputs, the first of which
// is y.
func ManyOutputs(n int) *onnxpb.ModelProto {
	outs := make([]string, n)
	outs[0] = "y"
	for i := 1; i < n; i++ {
		outs[i] = fmt.Sprintf("o%d", i)
	}
	return model([]*onnxpb.NodeProto{Node("split", "Split", []string{"x"}, outs, Int("axis", 3))})
}

// Reshape reshapes x to shape (a constant) in node "reshape".
func Reshape(shape ...int64) *onnxpb.ModelProto {
	return model([]*onnxpb.NodeProto{Node("reshape", "Reshape", []string{"x", "shape"}, []string{"y"})},
		Int64s("shape", []int64{int64(len(shape))}, shape...))
}

// ConstantOfShape fills y, of the given shape, with zeros in node "fill"
// and adds x.
func ConstantOfShape(shape ...int64) *onnxpb.ModelProto {
	return model([]*onnxpb.NodeProto{
		Node("fill", "ConstantOfShape", []string{"shape"}, []string{"zeros"}),
		Node("add", "Add", []string{"x", "zeros"}, []string{"y"}),
	}, Int64s("shape", []int64{int64(len(shape))}, shape...))
}

// StringInitializer adds a string initializer s to x in node "add".
func StringInitializer() *onnxpb.ModelProto {
	return model([]*onnxpb.NodeProto{Node("add", "Add", []string{"x", "s"}, []string{"y"})},
		&onnxpb.TensorProto{Name: proto.String("s"), DataType: proto.Int32(int32(onnxpb.TensorProto_STRING)), Dims: []int64{1}, StringData: [][]byte{[]byte("seven")}})
}

// StringInput is x plus a second graph input s of type string, in node
// "add".
func StringInput() *onnxpb.ModelProto {
	m := model([]*onnxpb.NodeProto{Node("add", "Add", []string{"x", "s"}, []string{"y"})})
	m.Graph.Input = append(m.Graph.Input, ValueInfo("s", onnxpb.TensorProto_STRING, 1))
	return m
}

// InitializerTypeMismatch is x times an initializer w of type int64
// which the graph's value_info declares float.
func InitializerTypeMismatch() *onnxpb.ModelProto {
	m := model([]*onnxpb.NodeProto{Node("mul", "Mul", []string{"x", "w"}, []string{"y"})}, Int64s("w", []int64{1}, 2))
	m.Graph.ValueInfo = append(m.Graph.ValueInfo, ValueInfo("w", onnxpb.TensorProto_FLOAT, 1))
	return m
}

// InputDefaultMismatch is x times a graph input w, declared float, whose
// default (an initializer of the same name) is int64.
func InputDefaultMismatch() *onnxpb.ModelProto {
	m := model([]*onnxpb.NodeProto{Node("mul", "Mul", []string{"x", "w"}, []string{"y"})}, Int64s("w", []int64{1}, 2))
	m.Graph.Input = append(m.Graph.Input, ValueInfo("w", onnxpb.TensorProto_FLOAT, 1))
	return m
}

// RawDataLength is x plus a float initializer w of dims [2 3] with 7
// bytes of raw data.
func RawDataLength() *onnxpb.ModelProto {
	w := Floats("w", []int64{2, 3})
	w.RawData = make([]byte, 7)
	return model([]*onnxpb.NodeProto{Node("add", "Add", []string{"x", "w"}, []string{"y"})}, w)
}

// DimsOverflow is x plus a float initializer w whose dims multiply
// beyond int64.
func DimsOverflow() *onnxpb.ModelProto {
	w := Floats("w", []int64{1 << 32, 1 << 32, 1 << 32})
	return model([]*onnxpb.NodeProto{Node("add", "Add", []string{"x", "w"}, []string{"y"})}, w)
}
