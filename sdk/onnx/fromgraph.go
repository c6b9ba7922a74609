package onnx

import (
	"fmt"
	"slices"
	"sort"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/proto/potv1"
)

// FromGraph builds an ONNX model from a pot graph, over base (usually the
// model the graph was read from; nil for none) so that what pot does not
// model survives: the result is a copy of base whose graph nodes,
// initializers, inputs, outputs and value_info, opset imports, ir_version
// and metadata come from g, while everything else (producer, doc strings,
// functions, training info, fields of newer ONNX versions kept as unknown
// fields) comes from base.
//
// Nodes are matched to base nodes by name (unnamed base nodes by the names
// ToGraph gives them): a matched node keeps its doc_string and unknown
// fields, and an attribute equal in value to the base node's keeps its
// original AttributeProto. Inputs, outputs and value_info equal in value
// to a base entry of the same name keep the original (which may carry a
// non-tensor type or denotations). Initializers are written with raw_data
// and keep a same-named base initializer's doc_string. Nodes of g without
// a name get one by ToGraph's rule.
//
// FromGraph rejects a graph whose tensors' data disagree with their dims,
// in which two nodes write one tensor, or a node writes a graph input or
// initializer. Neither g nor base is modified. The result shares the
// initializers' data with g (so a large model is not held twice) and no
// other memory with g or base.
func FromGraph(g *potv1.Graph, base *onnxpb.ModelProto) (*onnxpb.ModelProto, error) {
	if g == nil {
		return nil, fmt.Errorf("onnx from graph: nil graph")
	}
	out := &onnxpb.ModelProto{ProducerName: strPtr("pot")}
	if base != nil {
		out = cloneWithout(base, "graph", "opset_import", "metadata_props", "ir_version")
	}
	gp, err := newBaseIndex(base.GetGraph()).graphToProto(g, base.GetGraph())
	if err != nil {
		return nil, fmt.Errorf("onnx from graph %q: %w", g.GetName(), err)
	}
	out.Graph = gp
	out.OpsetImport = opsetsToProto(g.GetOpsets(), base.GetOpsetImport())
	ir := g.GetIrVersion()
	if ir == 0 {
		if base != nil && base.IrVersion != nil {
			ir = base.GetIrVersion()
		} else {
			v, _ := DefaultOpset(out)
			ir = IRVersionFor(v)
		}
	}
	out.IrVersion = int64Ptr(ir)
	out.MetadataProps = metadataToProto(g.GetMetadata(), base.GetMetadataProps())
	return out, nil
}

// cloneWithout deep-copies m except for the named fields, which it leaves
// unset (so they are never copied).
func cloneWithout[M proto.Message](m M, skip ...protoreflect.Name) M {
	src := m.ProtoReflect()
	dst := src.New()
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if !slices.Contains(skip, fd.Name()) {
			dst.Set(fd, v) // aliases src; the Clone below copies
		}
		return true
	})
	dst.SetUnknown(src.GetUnknown())
	return proto.Clone(dst.Interface()).(M)
}

func opsetsToProto(opsets []*potv1.OpsetImport, base []*onnxpb.OperatorSetIdProto) []*onnxpb.OperatorSetIdProto {
	var out []*onnxpb.OperatorSetIdProto
	for _, o := range opsets {
		i := slices.IndexFunc(base, func(b *onnxpb.OperatorSetIdProto) bool {
			return b.GetDomain() == o.GetDomain() && b.GetVersion() == o.GetVersion()
		})
		if i >= 0 {
			out = append(out, proto.CloneOf(base[i]))
			continue
		}
		out = append(out, &onnxpb.OperatorSetIdProto{Domain: strPtr(o.GetDomain()), Version: int64Ptr(o.GetVersion())})
	}
	return out
}

// metadataToProto lists md in base's order for keys base has, then the
// other keys sorted, so the output is deterministic.
func metadataToProto(md map[string]string, base []*onnxpb.StringStringEntryProto) []*onnxpb.StringStringEntryProto {
	var out []*onnxpb.StringStringEntryProto
	done := map[string]bool{}
	for _, b := range base {
		k := b.GetKey()
		v, ok := md[k]
		if !ok || done[k] {
			continue
		}
		done[k] = true
		if b.GetValue() == v {
			out = append(out, proto.CloneOf(b))
		} else {
			out = append(out, &onnxpb.StringStringEntryProto{Key: strPtr(k), Value: strPtr(v)})
		}
	}
	keys := make([]string, 0, len(md))
	for k := range md {
		if !done[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, &onnxpb.StringStringEntryProto{Key: strPtr(k), Value: strPtr(md[k])})
	}
	return out
}

// baseIndex is what FromGraph knows of the base model as ToGraph reads
// it: the name ToGraph gives each base node and the conversion of each
// graph attribute, with names unique model-wide (see uniqueNames), so
// that nodes and unchanged subgraphs are found again in a graph ToGraph
// made.
type baseIndex struct {
	names map[*onnxpb.NodeProto]string
	attrs map[*onnxpb.AttributeProto]*potv1.Attribute
}

func newBaseIndex(base *onnxpb.GraphProto) *baseIndex {
	b := &baseIndex{names: map[*onnxpb.NodeProto]string{}, attrs: map[*onnxpb.AttributeProto]*potv1.Attribute{}}
	hasSubgraphs := false
	for _, n := range base.GetNode() {
		hasSubgraphs = hasSubgraphs || len(graphAttrsProto(n)) > 0
	}
	if !hasSubgraphs {
		return b // the main graph's names are per-graph names
	}
	// The main graph's nodes, with its initializers named (as inputs)
	// but not copied.
	light := &onnxpb.GraphProto{Node: base.GetNode(), Input: append([]*onnxpb.ValueInfoProto(nil), base.GetInput()...)}
	for _, t := range base.GetInitializer() {
		light.Input = append(light.Input, &onnxpb.ValueInfoProto{Name: t.Name})
	}
	g := &potv1.Graph{}
	if err := convertGraphBody(light, g); err != nil {
		return b // FromGraph falls back to per-graph names
	}
	uniqueNames(g)
	var pair func(gp *onnxpb.GraphProto, g *potv1.Graph)
	pair = func(gp *onnxpb.GraphProto, g *potv1.Graph) {
		for i, np := range gp.GetNode() {
			n := g.GetNodes()[i]
			b.names[np] = n.GetName()
			for j, ap := range np.GetAttribute() {
				a := n.GetAttributes()[j]
				b.attrs[ap] = a
				if ap.GetG() != nil && a.GetG() != nil {
					pair(ap.GetG(), a.GetG())
				}
				for k, sg := range ap.GetGraphs() {
					if k < len(a.GetGraphs()) {
						pair(sg, a.GetGraphs()[k])
					}
				}
			}
		}
	}
	pair(light, g)
	return b
}

func graphAttrsProto(n *onnxpb.NodeProto) []*onnxpb.GraphProto {
	var gs []*onnxpb.GraphProto
	for _, a := range n.GetAttribute() {
		if a.GetG() != nil {
			gs = append(gs, a.GetG())
		}
		gs = append(gs, a.GetGraphs()...)
	}
	return gs
}

// graphToProto builds a GraphProto from g over base (nil for none).
func (bx *baseIndex) graphToProto(g *potv1.Graph, base *onnxpb.GraphProto) (*onnxpb.GraphProto, error) {
	gp := &onnxpb.GraphProto{}
	if base != nil {
		gp = cloneWithout(base, "node", "initializer", "input", "output", "value_info")
	}
	if g.GetName() != "" || gp.Name != nil {
		gp.Name = strPtr(g.GetName())
	}

	baseInit := map[string]*onnxpb.TensorProto{}
	for _, t := range base.GetInitializer() {
		if _, ok := baseInit[t.GetName()]; !ok {
			baseInit[t.GetName()] = t
		}
	}
	for _, t := range g.GetInitializers() {
		if err := checkPotTensor(t); err != nil {
			return nil, fmt.Errorf("initializer: %w", err)
		}
		tp := TensorToProto(t)
		if b := baseInit[t.GetName()]; b != nil {
			if b.DocString != nil {
				tp.DocString = strPtr(b.GetDocString())
			}
			tp.ProtoReflect().SetUnknown(slices.Clone(b.ProtoReflect().GetUnknown()))
		}
		gp.Initializer = append(gp.Initializer, tp)
	}
	gp.Input = valueInfosToProto(g.GetInputs(), base.GetInput())
	gp.Output = valueInfosToProto(g.GetOutputs(), base.GetOutput())
	gp.ValueInfo = valueInfosToProto(g.GetValueInfo(), base.GetValueInfo())

	nodes := g.GetNodes()
	names := nodeNames(len(nodes), func(i int) string { return nodes[i].GetName() }, func(i int) string { return nodes[i].GetOpType() })
	var in, init []string
	for _, v := range g.GetInputs() {
		in = append(in, v.GetName())
	}
	for _, t := range g.GetInitializers() {
		init = append(init, t.GetName())
	}
	if err := checkNodeOutputs(len(nodes), func(i int) []string { return nodes[i].GetOutputs() }, func(i int) string { return names[i] }, definedNames(in, init)); err != nil {
		return nil, err
	}
	bn := base.GetNode()
	baseNames := nodeNames(len(bn), protoNodeName(bn), func(i int) string { return bn[i].GetOpType() })
	baseNode := make(map[string]*onnxpb.NodeProto, len(bn))
	for i, n := range bn {
		if name, ok := bx.names[n]; ok {
			baseNames[i] = name
		}
		baseNode[baseNames[i]] = n
	}
	for i, n := range nodes {
		np, err := bx.nodeToProto(n, names[i], baseNode[names[i]])
		if err != nil {
			return nil, fmt.Errorf("node %q (%s): %w", names[i], n.GetOpType(), err)
		}
		gp.Node = append(gp.Node, np)
	}
	return gp, nil
}

func (bx *baseIndex) nodeToProto(n *potv1.Node, name string, base *onnxpb.NodeProto) (*onnxpb.NodeProto, error) {
	np := &onnxpb.NodeProto{}
	if base != nil {
		np = cloneWithout(base, "input", "output", "attribute")
	}
	np.Name = strPtr(name)
	np.OpType = strPtr(n.GetOpType())
	if n.GetDomain() != "" || np.Domain != nil {
		np.Domain = strPtr(n.GetDomain())
	}
	np.Input = slices.Clone(n.GetInputs())
	np.Output = slices.Clone(n.GetOutputs())
	baseAttr := map[string]*onnxpb.AttributeProto{}
	for _, a := range base.GetAttribute() {
		if _, ok := baseAttr[a.GetName()]; !ok {
			baseAttr[a.GetName()] = a
		}
	}
	for _, a := range n.GetAttributes() {
		b := baseAttr[a.GetName()]
		if b != nil {
			pa, ok := bx.attrs[b]
			var err error
			if !ok {
				pa, err = attributeFromProto(b)
			}
			if err == nil && proto.Equal(pa, a) {
				np.Attribute = append(np.Attribute, proto.CloneOf(b))
				continue
			}
		}
		ap, err := bx.attributeToProto(a, b)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", a.GetName(), err)
		}
		np.Attribute = append(np.Attribute, ap)
	}
	return np, nil
}

// attributeToProto converts a pot attribute; base (may be nil) is the
// base node's attribute of the same name, whose doc_string is kept and
// whose subgraphs serve as base for changed subgraphs.
func (bx *baseIndex) attributeToProto(a *potv1.Attribute, base *onnxpb.AttributeProto) (*onnxpb.AttributeProto, error) {
	ap := &onnxpb.AttributeProto{Name: strPtr(a.GetName())}
	if base != nil && base.DocString != nil {
		ap.DocString = strPtr(base.GetDocString())
	}
	if a.GetRefAttrName() != "" {
		ap.RefAttrName = strPtr(a.GetRefAttrName())
	}
	if a.GetType() != potv1.Attribute_TYPE_UNDEFINED {
		ap.Type = onnxpb.AttributeProto_AttributeType(a.GetType()).Enum()
	}
	switch a.GetType() {
	case potv1.Attribute_TYPE_FLOAT:
		f := a.GetF()
		ap.F = &f
	case potv1.Attribute_TYPE_INT:
		ap.I = int64Ptr(a.GetI())
	case potv1.Attribute_TYPE_STRING:
		ap.S = append([]byte{}, a.GetS()...)
	case potv1.Attribute_TYPE_FLOATS:
		ap.Floats = slices.Clone(a.GetFloats())
	case potv1.Attribute_TYPE_INTS:
		ap.Ints = slices.Clone(a.GetInts())
	case potv1.Attribute_TYPE_STRINGS:
		for _, s := range a.GetStrings() {
			ap.Strings = append(ap.Strings, append([]byte{}, s...))
		}
	case potv1.Attribute_TYPE_TENSOR:
		if a.GetT() == nil {
			return nil, fmt.Errorf("tensor attribute without a tensor")
		}
		if err := checkPotTensor(a.GetT()); err != nil {
			return nil, err
		}
		ap.T = TensorToProto(a.GetT())
	case potv1.Attribute_TYPE_TENSORS:
		for _, t := range a.GetTensors() {
			if err := checkPotTensor(t); err != nil {
				return nil, err
			}
			ap.Tensors = append(ap.Tensors, TensorToProto(t))
		}
	case potv1.Attribute_TYPE_GRAPH:
		if a.GetG() == nil {
			return nil, fmt.Errorf("graph attribute without a graph")
		}
		g, err := bx.graphToProto(a.GetG(), base.GetG())
		if err != nil {
			return nil, fmt.Errorf("subgraph %q: %w", a.GetG().GetName(), err)
		}
		ap.G = g
	case potv1.Attribute_TYPE_GRAPHS:
		bg := base.GetGraphs()
		for i, sg := range a.GetGraphs() {
			var b *onnxpb.GraphProto
			if i < len(bg) {
				b = bg[i]
			}
			g, err := bx.graphToProto(sg, b)
			if err != nil {
				return nil, fmt.Errorf("subgraph %q: %w", sg.GetName(), err)
			}
			ap.Graphs = append(ap.Graphs, g)
		}
	case potv1.Attribute_TYPE_UNDEFINED:
		if a.GetRefAttrName() == "" {
			return nil, fmt.Errorf("attribute has no type and no reference")
		}
	default:
		return nil, fmt.Errorf("attribute type %v is not supported", a.GetType())
	}
	return ap, nil
}

// valueInfosToProto converts value infos; one equal in value to the base
// entry of the same name keeps that entry.
func valueInfosToProto(vis []*potv1.ValueInfo, base []*onnxpb.ValueInfoProto) []*onnxpb.ValueInfoProto {
	byName := map[string]*onnxpb.ValueInfoProto{}
	for _, b := range base {
		if _, ok := byName[b.GetName()]; !ok {
			byName[b.GetName()] = b
		}
	}
	var out []*onnxpb.ValueInfoProto
	for _, v := range vis {
		if b := byName[v.GetName()]; b != nil {
			if pv, _ := valueInfos([]*onnxpb.ValueInfoProto{b}); proto.Equal(pv[0], v) {
				out = append(out, proto.CloneOf(b))
				continue
			}
		}
		out = append(out, valueInfoToProto(v))
	}
	return out
}

func valueInfoToProto(v *potv1.ValueInfo) *onnxpb.ValueInfoProto {
	vi := &onnxpb.ValueInfoProto{Name: strPtr(v.GetName())}
	if v.GetDtype() == potv1.DataType_DATA_TYPE_UNDEFINED && !v.GetHasShape() {
		return vi
	}
	tt := &onnxpb.TypeProto_Tensor{ElemType: int32Ptr(int32(v.GetDtype()))}
	if v.GetHasShape() {
		tt.Shape = &onnxpb.TensorShapeProto{}
		for _, d := range v.GetShape() {
			dim := &onnxpb.TensorShapeProto_Dimension{}
			switch x := d.GetValue().(type) {
			case *potv1.Dim_Size:
				dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: x.Size}
			case *potv1.Dim_Param:
				dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: x.Param}
			}
			tt.Shape.Dim = append(tt.Shape.Dim, dim)
		}
	}
	vi.Type = &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: tt}}
	return vi
}
