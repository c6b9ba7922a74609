package onnx

import (
	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/sdk/graph"
)

// checkNesting refuses a model whose graph attributes nest deeper than
// graph.MaxNesting, in the main graph, its functions or its training
// graphs, before anything recurses through them. The error names the
// node holding the graph too deep and nothing of the path to it, so
// that it stays one short line.
func checkNesting(m *onnxpb.ModelProto) error {
	if err := nestingOf(m.GetGraph().GetNode(), 0); err != nil {
		return err
	}
	for _, f := range m.GetFunctions() {
		if err := nestingOf(f.GetNode(), 0); err != nil {
			return err
		}
	}
	for _, ti := range m.GetTrainingInfo() {
		for _, g := range []*onnxpb.GraphProto{ti.GetInitialization(), ti.GetAlgorithm()} {
			if err := nestingOf(g.GetNode(), 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// nestingOf checks the graph attributes of nodes, which sit at depth.
func nestingOf(nodes []*onnxpb.NodeProto, depth int) error {
	for _, n := range nodes {
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
				if err := nestingOf(sg.GetNode(), depth+1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
