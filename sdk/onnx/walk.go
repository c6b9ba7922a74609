package onnx

import (
	"errors"
	"fmt"

	"github.com/potgo/pot/proto/onnxpb"
)

// walker visits the node lists and tensors of a model: the main graph,
// subgraphs of control-flow attributes, functions and training graphs.
// Either callback may be nil. An error stops the walk and is returned
// wrapped with where it happened.
type walker struct {
	nodes  func(nodes []*onnxpb.NodeProto, defined map[string]string) error
	tensor func(t *onnxpb.TensorProto) error
}

func (w walker) model(m *onnxpb.ModelProto) error {
	if err := w.graph(m.GetGraph()); err != nil {
		return fmt.Errorf("graph %q: %w", m.GetGraph().GetName(), err)
	}
	for _, f := range m.GetFunctions() {
		if err := w.nodeList(f.GetNode(), func() map[string]string { return definedNames(f.GetInput(), nil) }); err != nil {
			return fmt.Errorf("function %s:%s: %w", f.GetDomain(), f.GetName(), err)
		}
	}
	for i, ti := range m.GetTrainingInfo() {
		if err := w.graph(ti.GetInitialization()); err != nil {
			return fmt.Errorf("training_info %d initialization: %w", i, err)
		}
		if err := w.graph(ti.GetAlgorithm()); err != nil {
			return fmt.Errorf("training_info %d algorithm: %w", i, err)
		}
	}
	return nil
}

func (w walker) graph(g *onnxpb.GraphProto) error {
	if g == nil {
		return nil
	}
	if w.tensor != nil {
		for _, t := range g.GetInitializer() {
			if err := w.tensor(t); err != nil {
				return fmt.Errorf("initializer: %w", err)
			}
		}
		for _, st := range g.GetSparseInitializer() {
			if err := w.sparse(st); err != nil {
				return fmt.Errorf("sparse initializer: %w", err)
			}
		}
	}
	return w.nodeList(g.GetNode(), func() map[string]string { return protoGraphDefined(g) })
}

func (w walker) sparse(st *onnxpb.SparseTensorProto) error {
	if st.Values != nil {
		if err := w.tensor(st.Values); err != nil {
			return err
		}
	}
	if st.Indices != nil {
		return w.tensor(st.Indices)
	}
	return nil
}

// nodeList visits a node list; defined computes the names of the
// enclosing graph's inputs and initializers when the nodes callback needs
// them.
func (w walker) nodeList(nodes []*onnxpb.NodeProto, defined func() map[string]string) error {
	if w.nodes != nil {
		if err := w.nodes(nodes, defined()); err != nil {
			return err
		}
	}
	for i, n := range nodes {
		for _, a := range n.GetAttribute() {
			if err := w.attribute(a); err != nil {
				return fmt.Errorf("node %d (%q, %s) attribute %q: %w", i, n.GetName(), n.GetOpType(), a.GetName(), err)
			}
		}
	}
	return nil
}

func (w walker) attribute(a *onnxpb.AttributeProto) error {
	if w.tensor != nil {
		if a.T != nil {
			if err := w.tensor(a.T); err != nil {
				return err
			}
		}
		for _, t := range a.GetTensors() {
			if err := w.tensor(t); err != nil {
				return err
			}
		}
		if a.SparseTensor != nil {
			if err := w.sparse(a.SparseTensor); err != nil {
				return err
			}
		}
		for _, st := range a.GetSparseTensors() {
			if err := w.sparse(st); err != nil {
				return err
			}
		}
	}
	if err := w.graph(a.G); err != nil {
		return fmt.Errorf("subgraph %q: %w", a.G.GetName(), err)
	}
	for _, g := range a.GetGraphs() {
		if err := w.graph(g); err != nil {
			return fmt.Errorf("subgraph %q: %w", g.GetName(), err)
		}
	}
	return nil
}

// checkModel validates what Decode can validate without external data:
// every inline tensor's data length agrees with its dims and type, and no
// two nodes of one graph write the same tensor, nor a node a graph input
// or initializer. Tensors of element types
// pot does not know pass through unchecked.
func checkModel(m *onnxpb.ModelProto) error {
	return walker{
		nodes: func(nodes []*onnxpb.NodeProto, defined map[string]string) error {
			return checkNodeOutputs(len(nodes), func(i int) []string { return nodes[i].GetOutput() }, protoNodeName(nodes), defined)
		},
		tensor: func(t *onnxpb.TensorProto) error {
			if err := checkTensor(t); err != nil && !errors.Is(err, errUnsupported) {
				return err
			}
			return nil
		},
	}.model(m)
}
