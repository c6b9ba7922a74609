package fp16

import (
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
	rt "github.com/potgo/pot/targets/interp"
)

// InputSuffix names the half-rounded copy of a float32 graph input.
const InputSuffix = "/fp16"

// Lower applies a plan for a float16 device: plan.Apply, then the
// precision-sensitive subgraphs are marked to stay in float32 (KeepAttr;
// see the package documentation for the rules), the float32 initializers
// that neither the quantizers own nor the kept nodes read are rounded to
// half, and each float32 graph input is read through an Identity node
// whose output Policy rounds. Statistics of a graph input are taken on
// its rounded copy. The initializers and readers of subgraphs (control
// flow) are lowered alike. g is not modified.
func Lower(g *potv1.Graph, p *potv1.QuantizationPlan) (*plan.Applied, error) {
	return Lowering{}.Lower(g, p)
}

// OptionFloat32 is the target option that names nodes to run in float32
// on the float16 device (comma-separated), as OpenVINO's
// disable_fp16_compression runtime attribute does: for models whose
// values exceed float16's range.
const OptionFloat32 = "float32"

// Lowering is the float16 lowering with device settings.
type Lowering struct {
	// Float32 names nodes kept in float32 besides those the
	// mixed-precision rules keep.
	Float32 map[string]bool
}

// ParseFloat32 reads the value of OptionFloat32.
func ParseFloat32(v string) map[string]bool {
	out := map[string]bool{}
	for _, name := range strings.Split(v, ",") {
		if name = strings.TrimSpace(name); name != "" {
			out[name] = true
		}
	}
	return out
}

// Lower is the package's Lower with l's settings.
func (l Lowering) Lower(g *potv1.Graph, p *potv1.QuantizationPlan) (*plan.Applied, error) {
	return lower(g, p, true, l.Float32)
}

// lower is Lower, with the precision-sensitive subgraphs kept in float32
// when mixed is set (always, but in the tests that show why), and the
// nodes named in float32.
func lower(g *potv1.Graph, p *potv1.QuantizationPlan, mixed bool, named map[string]bool) (*plan.Applied, error) {
	a, err := plan.Apply(g, p)
	if err != nil {
		return nil, err
	}
	out := a.Graph
	if err := checkNodes(out, named); err != nil {
		return nil, err
	}
	// keepFloat32 also copies and marks the bodies of If, Loop and Scan
	// nodes, and returns their kept initializers too: a pass that rounds
	// body initializers must skip those as well.
	var kept map[string]bool
	if mixed {
		kept = keepFloat32(out, named)
	}
	owned := quantizerOwned(out)
	isInit := map[string]bool{}
	for _, sg := range graph.Graphs(out) {
		inits := make([]*potv1.Tensor, len(sg.GetInitializers()))
		for i, t := range sg.GetInitializers() {
			inits[i] = t
			isInit[t.GetName()] = true
			if t.GetDtype() != potv1.DataType_DATA_TYPE_FLOAT || owned[t.GetName()] || kept[t.GetName()] {
				continue
			}
			r, err := roundedTensor(t)
			if err != nil {
				return nil, fmt.Errorf("fp16: %w", err)
			}
			inits[i] = r
		}
		sg.Initializers = inits
	}
	for _, in := range out.GetInputs() {
		name := in.GetName()
		if in.GetDtype() != potv1.DataType_DATA_TYPE_FLOAT || isInit[name] {
			continue
		}
		rounded := name + InputSuffix
		graph.Walk(out, func(n *potv1.Node, _ *potv1.Graph, _ *potv1.Node) {
			for i, s := range n.GetInputs() {
				if s == name {
					n.Inputs[i] = rounded
				}
			}
		})
		for _, sg := range graph.Graphs(out)[1:] {
			// A subgraph output may name the input itself; its value
			// infos are shared with g.
			for i, o := range sg.GetOutputs() {
				if o.GetName() == name {
					sg.Outputs = append([]*potv1.ValueInfo(nil), sg.Outputs...)
					c := proto.Clone(o).(*potv1.ValueInfo)
					c.Name = rounded
					sg.Outputs[i] = c
				}
			}
		}
		for _, o := range out.GetOutputs() {
			if o.GetName() == name {
				return nil, fmt.Errorf("fp16: graph input %q is also a graph output", name)
			}
		}
		out.Nodes = append([]*potv1.Node{{Name: "fp16" + InputSuffix + "/" + name, OpType: "Identity", Inputs: []string{name}, Outputs: []string{rounded}}}, out.Nodes...)
		a.Renamed[name] = rounded
	}
	return a, nil
}

// quantizerOwned returns the initializers that only quantizers read:
// the parameters of FakeQuantize, QuantizeLinear and DequantizeLinear
// nodes and the weights every reader of which is a quantizer (stored as
// integers on the device).
func quantizerOwned(g *potv1.Graph) map[string]bool {
	owned := map[string]bool{}
	other := map[string]bool{} // read by something else than a quantizer
	graph.Walk(g, func(n *potv1.Node, _ *potv1.Graph, _ *potv1.Node) {
		fq := IsQuantizer(n)
		for _, in := range n.GetInputs() {
			switch {
			case fq && !other[in]:
				owned[in] = true
			case !fq:
				other[in] = true
				delete(owned, in)
			}
		}
	})
	for _, o := range g.GetOutputs() {
		delete(owned, o.GetName())
	}
	return owned
}

// roundedTensor returns t with every value rounded to half, or t itself
// when all its values are halves already.
func roundedTensor(t *potv1.Tensor) (*potv1.Tensor, error) {
	v, err := rt.FromProto(t)
	if err != nil {
		return nil, err
	}
	d, ok := v.Data.([]float32)
	if !ok {
		return t, nil
	}
	same := true
	for i, f := range d {
		r := Round(f)
		if r != f && !(r != r && f != f) {
			same = false
		}
		d[i] = r
	}
	if same {
		return t, nil
	}
	return rt.ToProto(t.GetName(), v), nil
}

// checkNodes reports the names in named that name no node of g.
func checkNodes(g *potv1.Graph, named map[string]bool) error {
	if len(named) == 0 {
		return nil
	}
	found := map[string]bool{}
	graph.Walk(g, func(n *potv1.Node, _ *potv1.Graph, _ *potv1.Node) {
		if named[n.GetName()] {
			found[n.GetName()] = true
		}
	})
	var missing []string
	for name := range named {
		if !found[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("target option %s: the model has no node %s", OptionFloat32, strings.Join(missing, ", "))
	}
	return nil
}
