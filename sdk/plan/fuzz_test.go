package plan_test

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/sdk/plan"
)

// names lists what a fuzzed plan may point at: "@N" in a location,
// consumer, precision or update stands for the N-th node, tensor or
// initializer of the graph, so that mutations land on real names.
type names struct {
	nodes, tensors, inits []string
	init                  map[string]*potv1.Tensor
}

func namesOf(g *potv1.Graph) names {
	n := names{init: map[string]*potv1.Tensor{}}
	for _, sg := range graph.Graphs(g) {
		for _, vi := range sg.GetInputs() {
			n.tensors = append(n.tensors, vi.GetName())
		}
		for _, t := range sg.GetInitializers() {
			n.tensors = append(n.tensors, t.GetName())
			n.inits = append(n.inits, t.GetName())
			n.init[t.GetName()] = t
		}
		for _, nd := range sg.GetNodes() {
			n.nodes = append(n.nodes, nd.GetName())
			n.tensors = append(n.tensors, nd.GetOutputs()...)
		}
	}
	return n
}

// pick resolves "@N" in list, and keeps any other name.
func pick(s string, list []string) string {
	if i, err := strconv.Atoi(strings.TrimPrefix(s, "@")); err == nil && strings.HasPrefix(s, "@") && len(list) > 0 {
		return list[uint(i)%uint(len(list))]
	}
	return s
}

// resolve rewrites the "@N" names of a fuzzed plan; an update named
// "@N" without a type takes the initializer's type and dims.
func (n names) resolve(p *potv1.QuantizationPlan) {
	for _, q := range p.GetQuantizers() {
		if loc := q.GetLocation(); loc != nil {
			loc.Node = pick(loc.Node, n.nodes)
			loc.Tensor = pick(loc.Tensor, n.tensors)
		}
		for i, c := range q.Consumers {
			q.Consumers[i] = pick(c, n.nodes)
		}
	}
	for _, np := range p.GetPrecisions() {
		np.Node = pick(np.Node, n.nodes)
	}
	for _, u := range p.GetTensorUpdates() {
		u.Name = pick(u.Name, n.inits)
		if old := n.init[u.Name]; old != nil && u.Dtype == potv1.DataType_DATA_TYPE_UNDEFINED {
			u.Dtype, u.Dims = old.GetDtype(), old.GetDims()
		}
	}
}

// FuzzApply applies fuzzed plans to LeNet and to hey_jarvis (whose
// verifier sits in an If branch): Apply must not panic nor touch its
// graph, and a graph it returns is sound: acyclic, every value defined,
// no value written twice in a scope, every initializer holding the data
// its dims and type need.
func FuzzApply(f *testing.F) {
	m, err := onnx.ReadFile(filepath.Join("..", "..", "examples", "models", "lenet_mnist.onnx"))
	if err != nil {
		f.Fatal(err)
	}
	lenet, err := onnx.ToGraph(m)
	if err != nil {
		f.Fatal(err)
	}
	graphs := []*potv1.Graph{lenet, heyJarvis(f)}
	var all []names
	var orig []*potv1.Graph
	for _, g := range graphs {
		all = append(all, namesOf(g))
		orig = append(orig, proto.Clone(g).(*potv1.Graph))
	}
	q := func(id, node, tensor string, in int32) *potv1.Quantizer {
		return &potv1.Quantizer{Id: id, Location: &potv1.Location{Node: node, Tensor: tensor, Input: in}, Bits: 8, Levels: 256, LevelHigh: 255,
			InputLow: []float32{-1}, InputHigh: []float32{1}, OutputLow: []float32{-1}, OutputHigh: []float32{1}}
	}
	for _, p := range []*potv1.QuantizationPlan{
		{Quantizers: []*potv1.Quantizer{q("a", "@0", "", 0), q("b", "", "@5", 0), q("c", "@3", "", 1)}},
		{Quantizers: []*potv1.Quantizer{q("a", "", "@2", 0), q("b", "", "@2", 0)}},
		{Quantizers: []*potv1.Quantizer{q("a", "@4", "", 7)}, Precisions: []*potv1.NodePrecision{{Node: "@4", Precision: potv1.Precision_PRECISION_FLOAT}}},
		{TensorUpdates: []*potv1.Tensor{{Name: "@1", Data: make([]byte, 8)}}},
		{Quantizers: []*potv1.Quantizer{{Id: "r", Location: &potv1.Location{Tensor: "@9"}, Levels: 2, InputLow: []float32{0, 0}, InputHigh: []float32{1, 1},
			OutputLow: []float32{0, 0}, OutputHigh: []float32{1, 1}, Axis: 3}}},
	} {
		b, err := proto.Marshal(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
		f.Add(b, uint8(1))
	}
	f.Fuzz(func(t *testing.T, b []byte, which uint8) {
		i := int(which) % len(graphs)
		g := graphs[i]
		p := &potv1.QuantizationPlan{}
		if proto.Unmarshal(b, p) != nil {
			return
		}
		all[i].resolve(p)
		a, err := plan.Apply(g, p)
		if !proto.Equal(g, orig[i]) {
			t.Fatalf("Apply modified its graph (error %v)", err)
		}
		if err != nil {
			return
		}
		if err := graph.CheckAcyclic(a.Graph); err != nil {
			t.Fatalf("applied graph: %v", err)
		}
		if free := graph.FreeVars(a.Graph); len(free) > 0 {
			t.Fatalf("applied graph reads undefined values %q", free)
		}
		for _, sg := range graph.Graphs(a.Graph) {
			writer := map[string]string{}
			for _, n := range sg.GetNodes() {
				for _, o := range n.GetOutputs() {
					if w, ok := writer[o]; ok && o != "" {
						t.Fatalf("%q is written by %q and %q", o, w, n.GetName())
					}
					writer[o] = n.GetName()
				}
			}
			for _, init := range sg.GetInitializers() {
				n := graph.NumElements(init.GetDims())
				if want := onnx.RawSize(int32(init.GetDtype()), n); want >= 0 && int64(len(init.GetData())) != want {
					t.Fatalf("initializer %q of %v%v holds %d bytes, want %d", init.GetName(), init.GetDtype(), init.GetDims(), len(init.GetData()), want)
				}
			}
		}
	})
}
