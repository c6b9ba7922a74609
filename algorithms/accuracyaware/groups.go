package accuracyaware

import (
	"context"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/plan"
)

// group is a set of operations whose quantizers must be removed
// together: the connected components of the quantizer–operation graph
// (a quantizer shared by two operations ties them).
type group struct {
	Ops []string `json:"ops"`
}

func (g group) key() string { return strings.Join(g.Ops, ",") }

// groups computes the quantizer groups of a plan, in a stable order.
func groups(p *potv1.QuantizationPlan) []group {
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		if parent[x] != x {
			parent[x] = find(parent[x])
		}
		return parent[x]
	}
	add := func(x string) {
		if _, ok := parent[x]; !ok {
			parent[x] = x
		}
	}
	float := plan.FloatNodes(p)
	for _, q := range p.GetQuantizers() {
		if plan.Reverted(q, float) {
			continue
		}
		var live []string
		for _, c := range q.GetConsumers() {
			if !float[c] {
				live = append(live, c)
			}
		}
		for _, c := range live {
			add(c)
			parent[find(c)] = find(live[0])
		}
	}
	byRoot := map[string][]string{}
	for op := range parent {
		r := find(op)
		byRoot[r] = append(byRoot[r], op)
	}
	var out []group
	for _, ops := range byRoot {
		sort.Strings(ops)
		out = append(out, group{Ops: ops})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

// revert returns a copy of p with the operations of g in float: their
// quantizers are dropped and the plan records their precision. A base
// algorithm that learned an operation's weights (AdaRound: weights on the
// quantizer's grid, as tensor updates of input 1) gets them back in float:
// the update of the weights is dropped, and with it the update of the
// bias (input 2) made for those weights. Bias updates of operations whose
// weights the plan leaves alone (bias correction) stay. inputs are the
// inputs of each node (nodeInputs); nil keeps every update.
func revert(p *potv1.QuantizationPlan, g group, inputs map[string][]string) *potv1.QuantizationPlan {
	out := proto.Clone(p).(*potv1.QuantizationPlan)
	drop := map[string]bool{}
	updated := map[string]bool{}
	for _, t := range out.GetTensorUpdates() {
		updated[t.GetName()] = true
	}
	for _, op := range g.Ops {
		out.Precisions = append(out.Precisions, &potv1.NodePrecision{Node: op, Precision: potv1.Precision_PRECISION_FLOAT})
		if in := inputs[op]; len(in) > 1 && updated[in[1]] {
			drop[in[1]] = true
			if len(in) > 2 && in[2] != "" {
				drop[in[2]] = true
			}
		}
	}
	if len(drop) > 0 {
		keep := out.TensorUpdates[:0]
		for _, t := range out.TensorUpdates {
			if !drop[t.GetName()] {
				keep = append(keep, t)
			}
		}
		out.TensorUpdates = keep
	}
	float := plan.FloatNodes(out)
	kept := out.Quantizers[:0]
	for _, q := range out.Quantizers {
		if !plan.Reverted(q, float) {
			kept = append(kept, q)
		}
	}
	out.Quantizers = kept
	return out
}

// promote returns a copy of p where the quantizers of g's operations are
// replaced by those of a more precise plan (GNA: int8 → int16 weights).
func promote(p, precise *potv1.QuantizationPlan, g group) *potv1.QuantizationPlan {
	out := proto.Clone(p).(*potv1.QuantizationPlan)
	ops := map[string]bool{}
	for _, op := range g.Ops {
		ops[op] = true
	}
	better := map[string]*potv1.Quantizer{}
	for _, q := range precise.GetQuantizers() {
		better[q.GetId()] = q
	}
	for i, q := range out.Quantizers {
		touches := false
		for _, c := range q.GetConsumers() {
			touches = touches || ops[c]
		}
		if b, ok := better[q.GetId()]; ok && touches {
			out.Quantizers[i] = proto.Clone(b).(*potv1.Quantizer)
		}
	}
	for _, op := range g.Ops {
		out.Precisions = append(out.Precisions, &potv1.NodePrecision{Node: op, Precision: potv1.Precision_PRECISION_INT16})
	}
	return out
}

// promotable are the groups whose quantizers differ between a plan and a
// more precise one (GNA: the layers with int8 weights).
func promotable(p, precise *potv1.QuantizationPlan) []group {
	better := map[string]*potv1.Quantizer{}
	for _, q := range precise.GetQuantizers() {
		better[q.GetId()] = q
	}
	var out []group
	seen := map[string]bool{}
	for _, q := range p.GetQuantizers() {
		b, ok := better[q.GetId()]
		if !ok || !q.GetWeights() || b.GetLevels() <= q.GetLevels() {
			continue
		}
		ops := append([]string(nil), q.GetConsumers()...)
		sort.Strings(ops)
		g := group{Ops: ops}
		if !seen[g.key()] {
			seen[g.key()] = true
			out = append(out, g)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

// nodeInputs are the inputs of every node of a model's graph, by node
// name.
func nodeInputs(ctx context.Context, h sdk.Host, model string) (map[string][]string, error) {
	g, err := h.Graph(ctx, model)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(g.GetNodes()))
	for _, n := range g.GetNodes() {
		out[n.GetName()] = n.GetInputs()
	}
	return out, nil
}
