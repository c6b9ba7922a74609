package quant

import (
	"fmt"
	"sort"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// Point is one quantizer to insert: where, on what, with which candidate
// configurations (priority order, as the hardware config lists them).
type Point struct {
	ID     string
	Tensor string
	// Ports are the consumer inputs the quantizer serves. With Edge, it
	// serves every consumer of Tensor and sits on the edge.
	Ports   []graph.Port
	Edge    bool
	Weights bool
	// Options are the configurations every consumer accepts.
	Options []*potv1.QuantizationOption
	// Axis is the channel axis for per-channel configurations, -1 when
	// per-channel is impossible.
	Axis int
	// Ops are the quantizable operations the quantizer was placed for;
	// they stay the same when it moves up through agnostic operations.
	Ops []string
}

// Consumers are the names of the operations the point quantizes for.
func (p *Point) Consumers() []string { return p.Ops }

func portNodes(ports []graph.Port) []string {
	var out []string
	seen := map[string]bool{}
	for _, port := range ports {
		if n := port.Node.GetName(); !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// request is one node input asking for a quantizer.
type request struct {
	port    graph.Port
	tensor  string
	weights bool
	options []*potv1.QuantizationOption
	axis    int
}

// Place finds where quantizers go in g under a hardware config: on the
// inputs of the operations the config lists as quantizable (activations
// and constant weights), merged per tensor and moved up through
// quantization-agnostic operations. skip reports nodes not to quantize
// (the ignored scope).
func Place(x *graph.Index, cfg *Config, skip func(*potv1.Node) bool) ([]*Point, error) {
	var reqs []request
	for _, n := range x.G.GetNodes() {
		if skip != nil && skip(n) {
			continue
		}
		t := HWType(x, n)
		oc := cfg.Op(t)
		if oc == nil || oc.GetAgnostic() || len(oc.GetActivations()) == 0 {
			continue
		}
		ins := n.GetInputs()
		for i, in := range ins {
			if in == "" {
				continue
			}
			isConst := x.Constant(in) != nil
			switch {
			case weighted[t] && i >= 2:
				continue // bias
			case firstInputOnly[t] && i > 0:
				continue
			}
			if isConst {
				if !weighted[t] || i != 1 || len(oc.GetWeights()) == 0 {
					continue // constant inputs of other ops stay float
				}
				w := x.Constant(in)
				if w.GetDtype() != potv1.DataType_DATA_TYPE_FLOAT {
					continue
				}
				reqs = append(reqs, request{port: graph.Port{Node: n, Input: i}, tensor: in, weights: true,
					options: oc.GetWeights(), axis: WeightAxis(n, t, len(w.GetDims()))})
				continue
			}
			reqs = append(reqs, request{port: graph.Port{Node: n, Input: i}, tensor: in, options: oc.GetActivations(), axis: 1})
		}
	}
	// Weights: one point per weight input.
	var points []*Point
	byTensor := map[string][]request{}
	var order []string
	for _, r := range reqs {
		if r.weights {
			points = append(points, &Point{
				ID: fmt.Sprintf("w:%s:%d", r.port.Node.GetName(), r.port.Input), Tensor: r.tensor,
				Ports: []graph.Port{r.port}, Weights: true, Options: r.options, Axis: r.axis,
				Ops: []string{r.port.Node.GetName()},
			})
			continue
		}
		if _, ok := byTensor[r.tensor]; !ok {
			order = append(order, r.tensor)
		}
		byTensor[r.tensor] = append(byTensor[r.tensor], r)
	}
	// Activations: one point per tensor when every consumer asks for a
	// quantizer (an edge quantizer), else one per asking port.
	for _, tensor := range order {
		rs := byTensor[tensor]
		opts := rs[0].options
		for _, r := range rs[1:] {
			opts = Intersect(opts, r.options)
		}
		if len(opts) == 0 {
			return nil, fmt.Errorf("tensor %q: its consumers accept no common quantizer configuration", tensor)
		}
		all := len(rs) == len(x.Consumers(tensor)) && !x.IsGraphOutput(tensor)
		if all {
			p := &Point{ID: "a:" + tensor, Tensor: tensor, Edge: true, Options: opts, Axis: 1}
			for _, r := range rs {
				p.Ports = append(p.Ports, r.port)
			}
			p.Ops = portNodes(p.Ports)
			points = append(points, p)
			continue
		}
		for _, r := range rs {
			points = append(points, &Point{
				ID:     fmt.Sprintf("a:%s@%s:%d", tensor, r.port.Node.GetName(), r.port.Input),
				Tensor: tensor, Ports: []graph.Port{r.port}, Options: opts, Axis: 1,
				Ops: []string{r.port.Node.GetName()},
			})
		}
	}
	propagate(x, cfg, points)
	sort.SliceStable(points, func(i, j int) bool { return points[i].ID < points[j].ID })
	return points, nil
}

// propagate moves edge activation quantizers up through single-branch
// agnostic operations (MaxPool, Reshape, Flatten, ...), as POT's
// FakeQuantizePropagation does, as long as the moved quantizer stays the
// only reader of the tensor it moves to.
func propagate(x *graph.Index, cfg *Config, points []*Point) {
	used := map[string]bool{}
	for _, p := range points {
		used[p.Tensor] = true
	}
	for _, p := range points {
		if p.Weights || !p.Edge {
			continue
		}
		for {
			prod := x.Producer(p.Tensor)
			if prod == nil || !singleBranch[prod.GetOpType()] || !cfg.Agnostic(prod.GetOpType()) {
				break
			}
			if len(prod.GetInputs()) == 0 || len(prod.GetOutputs()) != 1 {
				break
			}
			src := prod.GetInputs()[0]
			if src == "" || x.Constant(src) != nil || used[src] || len(x.Consumers(src)) != 1 || x.IsGraphOutput(src) {
				break
			}
			used[src] = true
			p.Tensor = src
			p.ID = "a:" + src
			p.Ports = x.Consumers(src)
		}
	}
}

// Intersect keeps the options of a that b also offers (same bits, mode
// and granularity), in a's order.
func Intersect(a, b []*potv1.QuantizationOption) []*potv1.QuantizationOption {
	var out []*potv1.QuantizationOption
	for _, o := range a {
		for _, p := range b {
			if o.GetBits() == p.GetBits() && o.GetMode() == p.GetMode() && o.GetGranularity() == p.GetGranularity() {
				out = append(out, o)
				break
			}
		}
	}
	if len(out) == 0 {
		// POT widens the choice with weaker variants: per-channel falls
		// back to per-tensor.
		for _, o := range a {
			for _, p := range b {
				if o.GetBits() == p.GetBits() && o.GetMode() == p.GetMode() {
					w := proto.Clone(o).(*potv1.QuantizationOption)
					w.Granularity = potv1.Granularity_GRANULARITY_PER_TENSOR
					out = append(out, w)
					break
				}
			}
		}
	}
	return out
}
