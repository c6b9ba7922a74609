package onnx

import (
	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/sdk/graph"
)

// checkLimits refuses a model with a node of more than graph.MaxArity
// inputs or outputs, or whose graph attributes nest deeper than
// graph.MaxNesting, in the main graph, its functions or its training
// graphs, before anything recurses through them or indexes their names.
// The error names the node and nothing of the path to it, so that it
// stays one short line.
func checkLimits(m *onnxpb.ModelProto) error {
	if err := limitsOf(m.GetGraph().GetNode(), 0); err != nil {
		return err
	}
	for _, f := range m.GetFunctions() {
		if err := limitsOf(f.GetNode(), 0); err != nil {
			return err
		}
	}
	for _, ti := range m.GetTrainingInfo() {
		for _, g := range []*onnxpb.GraphProto{ti.GetInitialization(), ti.GetAlgorithm()} {
			if err := limitsOf(g.GetNode(), 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// limitsOf checks nodes, which sit at depth, and their graph attributes.
func limitsOf(nodes []*onnxpb.NodeProto, depth int) error {
	for _, n := range nodes {
		if err := graph.ArityError(n.GetName(), n.GetOpType(), len(n.GetInput()), len(n.GetOutput())); err != nil {
			return err
		}
		for _, a := range n.GetAttribute() {
			subs := a.GetGraphs()
			if a.G != nil {
				subs = append([]*onnxpb.GraphProto{a.G}, subs...)
			}
			if len(subs) == 0 {
				continue
			}
			if depth+1 > graph.MaxNesting {
				return graph.NestingError(n.GetName(), n.GetOpType(), a.GetName())
			}
			for _, sg := range subs {
				if err := limitsOf(sg.GetNode(), depth+1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
