package opset

import (
	"fmt"
	"sort"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// fuzzOps are the operators the fuzzer draws from: every operator with an
// adapter, a few plain ones, an experimental one and unknown ones.
var fuzzOps = func() []string {
	seen := map[string]bool{"Relu": true, "Identity": true, "ImageScaler": true, "ThresholdedRelu": true,
		"Crop": true, "NoSuchOp": true, "Resize": true, "Constant": true, "If": true, "Scan": true}
	for k := range adapters {
		seen[k.op] = true
	}
	var out []string
	for op := range seen {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}()

var fuzzAttrs = []string{"axis", "axes", "broadcast", "starts", "ends", "split", "pads", "paddings", "value", "min", "max",
	"ratio", "k", "scales", "mode", "spatial", "is_test", "shape", "to", "p", "height_scale", "width_scale", "consumed_inputs",
	"epsilon", "bias", "scale", "keepdims"}

// bytes is a reader of fuzz input that yields zeros when exhausted.
type bytes struct {
	b []byte
	i int
}

func (r *bytes) next() int {
	if r.i >= len(r.b) {
		return 0
	}
	r.i++
	return int(r.b[r.i-1])
}

func (r *bytes) pick(n int) int { return r.next() % n }

// fuzzGraph builds a small graph from fuzz bytes: nodes of drawn
// operators reading earlier tensors, with drawn attributes, constants
// and subgraphs.
func fuzzGraph(r *bytes, depth int, names *int, tensors []string) *potv1.Graph {
	g := &potv1.Graph{Name: fmt.Sprint("g", depth)}
	fresh := func() string { *names++; return fmt.Sprint("t", *names) }
	for range r.pick(3) + 1 {
		v := &potv1.ValueInfo{Name: fresh(), Dtype: potv1.DataType(r.pick(12))}
		if r.pick(2) == 0 {
			v.HasShape = true
			for range r.pick(5) {
				v.Shape = append(v.Shape, &potv1.Dim{Value: &potv1.Dim_Size{Size: int64(r.pick(4))}})
			}
		}
		g.Inputs = append(g.Inputs, v)
		tensors = append(tensors, v.Name)
	}
	for range r.pick(3) {
		dims := make([]int64, r.pick(3))
		for i := range dims {
			dims[i] = int64(r.pick(4))
		}
		var vals []float64
		n := int64(1)
		for _, d := range dims {
			n *= d
		}
		for range n {
			vals = append(vals, float64(r.next()%7)-2)
		}
		var t *potv1.Tensor
		if r.pick(2) == 0 {
			ints := make([]int64, len(vals))
			for i, v := range vals {
				ints[i] = int64(v)
			}
			t = graph.Int64Tensor("", dims, ints)
		} else {
			t, _ = floatTensor(potv1.DataType_DATA_TYPE_FLOAT, dims, vals)
		}
		if r.pick(5) == 0 {
			t.Data = t.Data[:len(t.Data)/2] // a malformed tensor
		}
		t.Name = fresh()
		g.Initializers = append(g.Initializers, t)
		tensors = append(tensors, t.Name)
	}
	for range r.pick(6) + 1 {
		n := &potv1.Node{Name: fresh(), OpType: fuzzOps[r.pick(len(fuzzOps))]}
		if r.pick(8) == 0 {
			n.Domain = "com.example"
		}
		for range r.pick(5) {
			in := ""
			if r.pick(6) != 0 {
				in = tensors[r.pick(len(tensors))]
			}
			n.Inputs = append(n.Inputs, in)
		}
		for range r.pick(3) + r.pick(2) {
			n.Outputs = append(n.Outputs, fresh())
		}
		for range r.pick(4) {
			a := &potv1.Attribute{Name: fuzzAttrs[r.pick(len(fuzzAttrs))], Type: potv1.Attribute_Type(r.pick(11))}
			a.I = int64(r.next()%9) - 4
			a.F = float32(r.next()%9)/2 - 1
			a.S = []byte([]string{"nearest", "linear", "bilinear", "constant", "reflect", "FLOAT", "DOUBLE", "nope"}[r.pick(8)])
			for range r.pick(5) {
				a.Ints = append(a.Ints, int64(r.next()%9)-4)
				a.Floats = append(a.Floats, float32(r.next()%9)/2)
			}
			if a.Type == potv1.Attribute_TYPE_GRAPH && depth < 2 {
				a.G = fuzzGraph(r, depth+1, names, tensors)
			}
			n.Attributes = append(n.Attributes, a)
		}
		g.Nodes = append(g.Nodes, n)
		tensors = append(tensors, n.Outputs...)
	}
	for _, n := range g.Nodes[max(0, len(g.Nodes)-2):] {
		for _, o := range n.Outputs {
			g.Outputs = append(g.Outputs, &potv1.ValueInfo{Name: o, Dtype: potv1.DataType_DATA_TYPE_FLOAT})
		}
	}
	return g
}

// FuzzUpgrade: random small graphs give an error or a valid upgraded
// graph — opset 13, operators of opset 13, every node reading tensors
// defined before it, fresh names unused elsewhere — never a panic, and
// the input graph never changes.
func FuzzUpgrade(f *testing.F) {
	f.Add([]byte{6, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	f.Add([]byte{9, 2, 0, 1, 0, 0, 3, 40, 2, 1, 1, 7, 7})
	f.Add([]byte{1, 3, 1, 4, 2, 2, 2, 1, 5, 9, 0, 3, 3, 3, 8, 8, 8, 8})
	f.Add([]byte{11, 0, 0, 0, 20, 1, 1, 1, 1, 5, 5, 5, 5, 5, 5, 5})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &bytes{b: data}
		from := int64(r.pick(13) + 1)
		names := 0
		g := fuzzGraph(r, 0, &names, nil)
		g.Opsets = []*potv1.OpsetImport{{Domain: "", Version: from}}
		before := proto.Clone(g)
		out, rep, err := Upgrade(g, 13)
		if !proto.Equal(before, g) {
			t.Fatal("the input graph changed")
		}
		if err != nil || from == 13 {
			return
		}
		if graph.Opset(out) != 13 || rep.To != 13 || rep.From != from {
			t.Fatalf("opset %d, report %+v", graph.Opset(out), rep)
		}
		checkUpgraded(t, out, nil, from)
	})
}

// checkUpgraded checks that every node of g (and its subgraphs) reads
// only tensors defined before it, and that default-domain operators are
// opset-13 ones.
func checkUpgraded(t *testing.T, g *potv1.Graph, outer map[string]bool, from int64) {
	defined := map[string]bool{"": true}
	for k := range outer {
		defined[k] = true
	}
	for _, v := range g.GetInputs() {
		defined[v.GetName()] = true
	}
	for _, v := range g.GetInitializers() {
		defined[v.GetName()] = true
	}
	for _, n := range g.GetNodes() {
		for _, a := range n.GetAttributes() {
			if a.GetG() != nil {
				checkUpgraded(t, a.GetG(), defined, from)
			}
		}
		if graph.IsONNX(n) && versionAt(n.GetOpType(), 13) == 0 {
			t.Fatalf("node %q: %s is not an operator of opset 13", n.GetName(), n.GetOpType())
		}
		for _, in := range n.GetInputs() {
			if !defined[in] {
				t.Fatalf("node %q (%s) reads %q, defined after it or nowhere", n.GetName(), n.GetOpType(), in)
			}
		}
		for _, o := range n.GetOutputs() {
			defined[o] = true
		}
	}
}
