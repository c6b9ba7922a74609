package opset

import (
	"fmt"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// Builders of small graphs for the tests.

func nd(op, name string, ins, outs []string, attrs ...*potv1.Attribute) *potv1.Node {
	return &potv1.Node{Name: name, OpType: op, Inputs: ins, Outputs: outs, Attributes: attrs}
}

var aInt = graph.IntAttr

func aInts(name string, v ...int64) *potv1.Attribute { return graph.IntsAttr(name, v) }

var aFloat = graph.FloatAttr

var aString = graph.StringAttr

func aGraph(name string, g *potv1.Graph) *potv1.Attribute {
	return &potv1.Attribute{Name: name, Type: potv1.Attribute_TYPE_GRAPH, G: g}
}

// vi is a float tensor of the given shape (nil dims: shape unknown).
func vi(name string, dims ...int64) *potv1.ValueInfo {
	v := &potv1.ValueInfo{Name: name, Dtype: potv1.DataType_DATA_TYPE_FLOAT}
	if dims != nil {
		v.HasShape = true
		for _, d := range dims {
			v.Shape = append(v.Shape, &potv1.Dim{Value: &potv1.Dim_Size{Size: d}})
		}
	}
	return v
}

func model(opset int64, inputs []*potv1.ValueInfo, outputs []*potv1.ValueInfo, nodes ...*potv1.Node) *potv1.Graph {
	return &potv1.Graph{Name: "g", IrVersion: 3, Opsets: []*potv1.OpsetImport{{Domain: "", Version: opset}},
		Inputs: inputs, Outputs: outputs, Nodes: nodes}
}

func floatInit(name string, dims []int64, v ...float64) *potv1.Tensor {
	t, err := floatTensor(potv1.DataType_DATA_TYPE_FLOAT, dims, v)
	if err != nil {
		panic(err)
	}
	t.Name = name
	return t
}

// find returns the nodes of g (not of subgraphs) with operator op.
func find(g *potv1.Graph, op string) []*potv1.Node {
	var out []*potv1.Node
	for _, n := range g.GetNodes() {
		if n.GetOpType() == op {
			out = append(out, n)
		}
	}
	return out
}

// initializer returns g's initializer name, or nil.
func initializer(g *potv1.Graph, name string) *potv1.Tensor {
	for _, t := range g.GetInitializers() {
		if t.GetName() == name {
			return t
		}
	}
	return nil
}

func opsOf(g *potv1.Graph) string {
	s := ""
	for i, n := range g.GetNodes() {
		if i > 0 {
			s += " "
		}
		s += n.GetOpType()
	}
	return fmt.Sprint(s)
}
