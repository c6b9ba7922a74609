package onnx

import (
	"fmt"

	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// ToGraph converts a model's main graph. Nodes without a name get one
// ("<op_type>_<index>", made unique), since plans refer to nodes by name.
// Value and node names are unique across the main graph and the
// subgraphs of control-flow nodes: a subgraph name that repeats one of
// another scope is renamed consistently inside its subgraph (see
// uniqueNames). External data must have been loaded (see
// LoadExternalData). Initializers share their data with m's.
func ToGraph(m *onnxpb.ModelProto) (*potv1.Graph, error) {
	gp := m.GetGraph()
	if gp == nil {
		return nil, fmt.Errorf("model has no graph")
	}
	if err := checkLimits(m); err != nil {
		return nil, err
	}
	g := &potv1.Graph{Name: gp.GetName(), IrVersion: m.GetIrVersion(), Metadata: map[string]string{}}
	for _, o := range m.GetOpsetImport() {
		g.Opsets = append(g.Opsets, &potv1.OpsetImport{Domain: o.GetDomain(), Version: o.GetVersion()})
	}
	for _, p := range m.GetMetadataProps() {
		g.Metadata[p.GetKey()] = p.GetValue()
	}
	if err := convertGraphBody(gp, g); err != nil {
		return nil, err
	}
	uniqueNames(g)
	if err := graph.CheckAcyclic(g); err != nil {
		return nil, err
	}
	return g, nil
}

func convertGraphBody(gp *onnxpb.GraphProto, g *potv1.Graph) error {
	for _, in := range gp.GetInitializer() {
		t, err := TensorFromProto(in)
		if err != nil {
			return fmt.Errorf("initializer: %w", err)
		}
		g.Initializers = append(g.Initializers, t)
	}
	if len(gp.GetSparseInitializer()) > 0 {
		return fmt.Errorf("sparse initializers are not supported")
	}
	var err error
	if g.Inputs, err = valueInfos(gp.GetInput()); err != nil {
		return fmt.Errorf("graph input: %w", err)
	}
	if g.Outputs, err = valueInfos(gp.GetOutput()); err != nil {
		return fmt.Errorf("graph output: %w", err)
	}
	if g.ValueInfo, err = valueInfos(gp.GetValueInfo()); err != nil {
		return fmt.Errorf("value_info: %w", err)
	}
	if err := checkInitializerTypes(g); err != nil {
		return err
	}
	if err := checkNodeOutputs(len(gp.GetNode()), func(i int) []string { return gp.GetNode()[i].GetOutput() }, protoNodeName(gp.GetNode()), protoGraphDefined(gp)); err != nil {
		return err
	}
	names := nodeNames(len(gp.GetNode()), protoNodeName(gp.GetNode()), func(i int) string { return gp.GetNode()[i].GetOpType() })
	for i, n := range gp.GetNode() {
		name := names[i]
		node := &potv1.Node{Name: name, OpType: n.GetOpType(), Domain: n.GetDomain(), Inputs: append([]string(nil), n.GetInput()...), Outputs: append([]string(nil), n.GetOutput()...)}
		for _, a := range n.GetAttribute() {
			pa, err := attributeFromProto(a)
			if err != nil {
				return fmt.Errorf("node %q (%s): attribute %q: %w", name, n.GetOpType(), a.GetName(), err)
			}
			node.Attributes = append(node.Attributes, pa)
		}
		g.Nodes = append(g.Nodes, node)
	}
	return nil
}

// checkInitializerTypes refuses an initializer whose element type differs
// from the one a graph input, value_info or output of the same name
// declares: readers trust the declaration.
func checkInitializerTypes(g *potv1.Graph) error {
	type decl struct {
		what  string
		dtype potv1.DataType
	}
	declared := map[string]decl{}
	for _, d := range []struct {
		what string
		vis  []*potv1.ValueInfo
	}{{"graph output", g.Outputs}, {"value_info", g.ValueInfo}, {"graph input", g.Inputs}} {
		for _, v := range d.vis {
			if v.GetDtype() != potv1.DataType_DATA_TYPE_UNDEFINED {
				declared[v.GetName()] = decl{d.what, v.GetDtype()}
			}
		}
	}
	for _, t := range g.Initializers {
		if d, ok := declared[t.GetName()]; ok && d.dtype != t.GetDtype() {
			return fmt.Errorf("initializer %q is %s but the %s of that name is declared %s",
				t.GetName(), dtName(int32(t.GetDtype())), d.what, dtName(int32(d.dtype)))
		}
	}
	return nil
}

func valueInfos(vis []*onnxpb.ValueInfoProto) ([]*potv1.ValueInfo, error) {
	var out []*potv1.ValueInfo
	for _, vi := range vis {
		v := &potv1.ValueInfo{Name: vi.GetName()}
		if tt := vi.GetType().GetTensorType(); tt != nil {
			v.Dtype = potv1.DataType(tt.GetElemType())
			if tt.Shape != nil {
				v.HasShape = true
				for _, d := range tt.GetShape().GetDim() {
					switch x := d.GetValue().(type) {
					case *onnxpb.TensorShapeProto_Dimension_DimValue:
						v.Shape = append(v.Shape, &potv1.Dim{Value: &potv1.Dim_Size{Size: x.DimValue}})
					case *onnxpb.TensorShapeProto_Dimension_DimParam:
						v.Shape = append(v.Shape, &potv1.Dim{Value: &potv1.Dim_Param{Param: x.DimParam}})
					default:
						v.Shape = append(v.Shape, &potv1.Dim{})
					}
				}
			}
		}
		out = append(out, v)
	}
	return out, nil
}

func attributeFromProto(a *onnxpb.AttributeProto) (*potv1.Attribute, error) {
	out := &potv1.Attribute{Name: a.GetName(), RefAttrName: a.GetRefAttrName()}
	typ := a.GetType()
	if typ == onnxpb.AttributeProto_UNDEFINED {
		// IR < 2 models may omit the type: infer it from the field set.
		switch {
		case a.F != nil:
			typ = onnxpb.AttributeProto_FLOAT
		case a.I != nil:
			typ = onnxpb.AttributeProto_INT
		case a.S != nil:
			typ = onnxpb.AttributeProto_STRING
		case a.T != nil:
			typ = onnxpb.AttributeProto_TENSOR
		case a.G != nil:
			typ = onnxpb.AttributeProto_GRAPH
		case len(a.Floats) > 0:
			typ = onnxpb.AttributeProto_FLOATS
		case len(a.Ints) > 0:
			typ = onnxpb.AttributeProto_INTS
		case len(a.Strings) > 0:
			typ = onnxpb.AttributeProto_STRINGS
		}
	}
	switch typ {
	case onnxpb.AttributeProto_FLOAT:
		out.Type, out.F = potv1.Attribute_TYPE_FLOAT, a.GetF()
	case onnxpb.AttributeProto_INT:
		out.Type, out.I = potv1.Attribute_TYPE_INT, a.GetI()
	case onnxpb.AttributeProto_STRING:
		out.Type, out.S = potv1.Attribute_TYPE_STRING, append([]byte{}, a.GetS()...)
	case onnxpb.AttributeProto_FLOATS:
		out.Type, out.Floats = potv1.Attribute_TYPE_FLOATS, append([]float32(nil), a.GetFloats()...)
	case onnxpb.AttributeProto_INTS:
		out.Type, out.Ints = potv1.Attribute_TYPE_INTS, append([]int64(nil), a.GetInts()...)
	case onnxpb.AttributeProto_STRINGS:
		out.Type, out.Strings = potv1.Attribute_TYPE_STRINGS, append([][]byte(nil), a.GetStrings()...)
	case onnxpb.AttributeProto_TENSOR:
		if a.GetT() == nil {
			return nil, fmt.Errorf("tensor attribute without a tensor")
		}
		t, err := TensorFromProto(a.GetT())
		if err != nil {
			return nil, err
		}
		out.Type, out.T = potv1.Attribute_TYPE_TENSOR, t
	case onnxpb.AttributeProto_TENSORS:
		out.Type = potv1.Attribute_TYPE_TENSORS
		for _, tp := range a.GetTensors() {
			t, err := TensorFromProto(tp)
			if err != nil {
				return nil, err
			}
			out.Tensors = append(out.Tensors, t)
		}
	case onnxpb.AttributeProto_GRAPH:
		g := &potv1.Graph{}
		if err := convertGraphBody(a.GetG(), g); err != nil {
			return nil, fmt.Errorf("subgraph: %w", err)
		}
		g.Name = a.GetG().GetName()
		out.Type, out.G = potv1.Attribute_TYPE_GRAPH, g
	case onnxpb.AttributeProto_GRAPHS:
		out.Type = potv1.Attribute_TYPE_GRAPHS
		for _, gp := range a.GetGraphs() {
			g := &potv1.Graph{Name: gp.GetName()}
			if err := convertGraphBody(gp, g); err != nil {
				return nil, fmt.Errorf("subgraph: %w", err)
			}
			out.Graphs = append(out.Graphs, g)
		}
	case onnxpb.AttributeProto_UNDEFINED:
		if a.GetRefAttrName() == "" {
			return nil, fmt.Errorf("attribute has no type and no value")
		}
	default:
		return nil, fmt.Errorf("attribute type %v is not supported", typ)
	}
	return out, nil
}

func protoNodeName(nodes []*onnxpb.NodeProto) func(int) string {
	return func(i int) string { return nodes[i].GetName() }
}

// nodeNames gives every node of a graph a unique name: a node keeps its
// own name unless it is empty or taken by an earlier node; otherwise it
// is named "<name or op_type>_<index>", with underscores appended until
// the name is free. ToGraph and FromGraph use the same rule, so a node
// is found again by name across a round trip.
func nodeNames(n int, name, opType func(int) string) []string {
	taken := make(map[string]bool, n)
	for i := range n {
		if s := name(i); s != "" {
			taken[s] = true
		}
	}
	seen := make(map[string]bool, n)
	out := make([]string, n)
	for i := range n {
		s := name(i)
		if s == "" || seen[s] {
			base := opType(i)
			if s != "" {
				base = s
			}
			s = fmt.Sprintf("%s_%d", base, i)
			for taken[s] || seen[s] {
				s += "_"
			}
		}
		seen[s] = true
		out[i] = s
	}
	return out
}

// checkNodeOutputs rejects a graph in which two nodes (or one node twice)
// write the same tensor, or a node writes a graph input or initializer
// (names in defined). Empty names (omitted optional outputs) are ignored.
func checkNodeOutputs(n int, outputs func(int) []string, name func(int) string, defined map[string]string) error {
	writer := map[string]int{}
	for i := range n {
		for _, o := range outputs(i) {
			if o == "" {
				continue
			}
			if what, ok := defined[o]; ok {
				return fmt.Errorf("node %d (%q) writes tensor %q, which is %s", i, name(i), o, what)
			}
			if j, ok := writer[o]; ok {
				if j == i {
					return fmt.Errorf("node %d (%q) writes tensor %q twice", i, name(i), o)
				}
				return fmt.Errorf("tensor %q is written by two nodes: %d (%q) and %d (%q)", o, j, name(j), i, name(i))
			}
			writer[o] = i
		}
	}
	return nil
}

// definedNames maps the names of graph inputs and initializers to what
// they are, for checkNodeOutputs.
func definedNames(inputs, initializers []string) map[string]string {
	d := make(map[string]string, len(inputs)+len(initializers))
	for _, s := range initializers {
		d[s] = "an initializer"
	}
	for _, s := range inputs {
		d[s] = "a graph input"
	}
	return d
}

func protoGraphDefined(gp *onnxpb.GraphProto) map[string]string {
	var in, init []string
	for _, v := range gp.GetInput() {
		in = append(in, v.GetName())
	}
	for _, t := range gp.GetInitializer() {
		init = append(init, t.GetName())
	}
	for _, t := range gp.GetSparseInitializer() {
		init = append(init, t.GetValues().GetName())
	}
	return definedNames(in, init)
}
