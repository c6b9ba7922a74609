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
	// Group is a unified-scale group: its points share one range.
	Group string
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

// request is one node input (or output) asking for a quantizer.
type request struct {
	port    graph.Port // for outputs: Node is the producer, Input -1
	tensor  string
	weights bool
	output  bool
	options []*potv1.QuantizationOption
	axis    int
	// unify names the node whose inputs must share scales ("scales:
	// unified" eltwise ops on VPU), or "".
	unify string
}

// PlaceOptions tune Place.
type PlaceOptions struct {
	// Skip reports nodes not to quantize (ignored scope and patterns).
	Skip func(*potv1.Node) bool
}

// Place finds where quantizers go in g under a hardware config: on the
// inputs of the operations the config lists as quantizable (activations
// and constant weights) and on outputs where the config asks for it
// (GNA), merged per tensor, moved up through quantization-agnostic
// operations, with unified-scale groups (Concat inputs, and the inputs of
// operations with "scales: unified").
func Place(x *graph.Index, cfg *Config, opts PlaceOptions) ([]*Point, error) {
	skip := opts.Skip
	if skip == nil {
		skip = func(*potv1.Node) bool { return false }
	}
	var reqs []request
	for _, n := range x.Nodes() {
		if skip(n) {
			continue
		}
		t := HWType(x, n)
		oc := cfg.Op(t)
		if oc == nil || oc.GetAgnostic() {
			continue
		}
		unify := ""
		if oc.GetAttributes()["scales"] == "unified" || oc.GetAttributes()["unified_scales"] == "all" {
			unify = n.GetName()
		}
		for i, in := range n.GetInputs() {
			if in == "" || len(oc.GetActivations()) == 0 || x.NotFloat(in) {
				continue // integers and booleans (shapes, sample rates, masks) are not quantized
			}
			switch {
			case weighted[t] && i >= 2:
				continue // bias
			case firstInputOnly[t] && i > 0:
				continue
			case recurrent[t] != nil && !recurrent[t][i]:
				continue
			}
			if w := x.Constant(in); w != nil {
				if len(oc.GetWeights()) == 0 || w.GetDtype() != potv1.DataType_DATA_TYPE_FLOAT || (weighted[t] && i != 1) {
					continue // constants the config does not quantize stay float
				}
				// Weights of Conv/Gemm/MatMul, and constant operands of
				// element-wise operations (per-tensor: they broadcast).
				axis := -1
				if weighted[t] {
					axis = WeightAxis(n, t, len(w.GetDims()))
				}
				reqs = append(reqs, request{port: graph.Port{Node: n, Input: i}, tensor: in, weights: true, options: oc.GetWeights(), axis: axis})
				continue
			}
			reqs = append(reqs, request{port: graph.Port{Node: n, Input: i}, tensor: in, options: oc.GetActivations(), axis: 1, unify: unify})
			if i == 0 && t == MVNType {
				// The other readers of a decomposed normalization's input.
				for _, port := range mvnPorts(x, n) {
					reqs = append(reqs, request{port: port, tensor: in, options: oc.GetActivations(), axis: 1})
				}
			}
		}
		if len(oc.GetOutputs()) > 0 {
			for _, o := range n.GetOutputs() {
				if o != "" && !x.IsGraphOutput(o) && !x.NotFloat(o) {
					reqs = append(reqs, request{port: graph.Port{Node: n, Input: -1}, tensor: o, output: true, options: oc.GetOutputs(), axis: 1})
				}
			}
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
	// quantizer or the producer asks for one on its output (an edge
	// quantizer), else one per asking port.
	groupOf := map[*Point]string{}
	for _, tensor := range order {
		rs := byTensor[tensor]
		opts, err := mergeOptions(rs, cfg.HW.GetPrimaryBitwidth())
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", tensor, err)
		}
		var inputs []request
		output := false
		for _, r := range rs {
			if r.output {
				output = true
			} else {
				inputs = append(inputs, r)
			}
		}
		if output || len(inputs) == len(x.Consumers(tensor)) && !x.IsGraphOutput(tensor) {
			p := &Point{ID: "a:" + tensor, Tensor: tensor, Edge: true, Options: opts, Axis: 1}
			p.Ports = x.Consumers(tensor)
			var ops []string
			for _, r := range rs {
				if r.output {
					ops = append(ops, r.port.Node.GetName())
				}
			}
			p.Ops = append(ops, portNodes(inputPorts(inputs))...)
			for _, r := range inputs {
				if r.unify != "" {
					groupOf[p] = r.unify
				}
			}
			points = append(points, p)
			continue
		}
		for _, r := range inputs {
			p := &Point{
				ID:     fmt.Sprintf("a:%s@%s:%d", tensor, r.port.Node.GetName(), r.port.Input),
				Tensor: tensor, Ports: []graph.Port{r.port}, Options: opts, Axis: 1,
				Ops: []string{r.port.Node.GetName()},
			}
			if r.unify != "" {
				groupOf[p] = r.unify
			}
			points = append(points, p)
		}
	}
	points = propagate(x, cfg, points)
	unifyGroups(points, groupOf)
	sort.SliceStable(points, func(i, j int) bool { return points[i].ID < points[j].ID })
	return points, nil
}

func inputPorts(rs []request) []graph.Port {
	out := make([]graph.Port, len(rs))
	for i, r := range rs {
		out[i] = r.port
	}
	return out
}

// mergeOptions intersects the options of the requests on one tensor. When
// nothing is common (a 32-bit output feeding a 16-bit input on GNA), the
// options at the config's primary bit width win, else the consumers'.
func mergeOptions(rs []request, primary int32) ([]*potv1.QuantizationOption, error) {
	opts := rs[0].options
	for _, r := range rs[1:] {
		opts = Intersect(opts, r.options)
	}
	if len(opts) > 0 {
		return opts, nil
	}
	for _, r := range rs {
		for _, o := range r.options {
			if o.GetBits() == primary {
				return r.options, nil
			}
		}
	}
	for _, r := range rs {
		if !r.output {
			return r.options, nil
		}
	}
	return nil, fmt.Errorf("its producer and consumers accept no common quantizer configuration")
}

// unifyGroups sets unified groups: points serving inputs of one
// "scales: unified" operation share a group.
func unifyGroups(points []*Point, groupOf map[*Point]string) {
	members := map[string][]*Point{}
	for _, p := range points {
		if g, ok := groupOf[p]; ok {
			members[g] = append(members[g], p)
		}
	}
	for g, ps := range members {
		if len(ps) < 2 {
			continue
		}
		for _, p := range ps {
			if p.Group == "" {
				p.Group = "unified:" + g
			}
		}
	}
}

// propagate moves edge activation quantizers up through single-branch
// agnostic operations (MaxPool, Reshape, Flatten, ...), as POT's
// FakeQuantizePropagation does, as long as the moved quantizer stays the
// only reader of the tensor it moves to; a quantizer below a Concat is
// duplicated onto the Concat's inputs, which then share one range.
func propagate(x *graph.Index, cfg *Config, points []*Point) []*Point {
	used := map[string]bool{}
	for _, p := range points {
		used[p.Tensor] = true
	}
	movable := func(src string) bool {
		return src != "" && x.Constant(src) == nil && !used[src] && len(x.Consumers(src)) == 1 && !x.IsGraphOutput(src) && !x.NotFloat(src)
	}
	var out []*Point
	for _, p := range points {
		if p.Weights || !p.Edge {
			out = append(out, p)
			continue
		}
		for {
			prod := x.Producer(p.Tensor)
			if prod == nil || !singleBranch[prod.GetOpType()] || !cfg.Agnostic(prod.GetOpType()) {
				break
			}
			if len(prod.GetInputs()) == 0 || len(prod.GetOutputs()) != 1 || !movable(prod.GetInputs()[0]) {
				break
			}
			src := prod.GetInputs()[0]
			used[src] = true
			p.Tensor = src
			p.ID = "a:" + src
			p.Ports = x.Consumers(src)
		}
		prod := x.Producer(p.Tensor)
		if prod != nil && prod.GetOpType() == "Concat" && cfg.Agnostic("Concat") && p.Group == "" {
			ok := len(prod.GetInputs()) > 1
			for _, in := range prod.GetInputs() {
				ok = ok && movable(in)
			}
			if ok {
				attrs := cfg.Op("Concat").GetAttributes()
				unified := attrs["unified_scales"] == "all" || attrs["scales"] == "unified"
				for _, in := range prod.GetInputs() {
					used[in] = true
					q := &Point{ID: "a:" + in, Tensor: in, Ports: x.Consumers(in), Edge: true, Options: p.Options, Axis: p.Axis, Ops: p.Ops}
					if unified {
						q.Group = "concat:" + prod.GetName()
					}
					out = append(out, q)
				}
				continue
			}
		}
		out = append(out, p)
	}
	return out
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
