package report

import (
	"context"
	"errors"
	"fmt"

	"github.com/potgo/pot/host/metrics"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
)

// Inferer runs a model on calibration samples and returns the tensors
// asked for, the samples stacked on the first dimension: the pipeline's
// Session (the Host service) is one.
type Inferer interface {
	Infer(ctx context.Context, req *potv1.InferRequest) (*potv1.InferResponse, error)
}

// group is how many tensors one Infer call returns at least; as many
// more as fit groupBytes (of float outputs), up to maxGroup.
const (
	group      = 8
	maxGroup   = 64
	groupBytes = 64 << 20
)

// runBudget is how many sample runs Samples lets a per-layer analysis
// take by default: each group of layers runs every sample twice (float
// and quantized).
const runBudget = 512

// minSamples is the fewest samples Samples chooses.
const minSamples = 4

// Samples is how many of requested samples a per-layer analysis of g
// under p compares on by default: all of them while the analysis stays
// within runBudget sample runs, else fewer, down to minSamples. A model
// of hundreds of element-wise nodes (PaddleOCR's detector: 75 groups)
// would otherwise run each sample 150 times and move gigabytes of
// activations; every layer's SQNR still sums millions of elements.
func Samples(g *potv1.Graph, p *potv1.QuantizationPlan, requested int) int {
	groups := (len(candidates(g, p)) + group - 1) / group
	if groups == 0 {
		return requested
	}
	return min(requested, max(minSamples, runBudget/(2*groups)))
}

// Layers measures, for every node computed from the model input, the
// SQNR and cosine similarity of its first output under the plan against
// the float model, on the calibration samples at indices. Outputs that
// are not float32 (shapes, indices) are left out. progress, when not
// nil, is told how many of the layers are done.
func Layers(ctx context.Context, inf Inferer, g *potv1.Graph, modelID string, p *potv1.QuantizationPlan, indices []int64, progress func(done, total int)) ([]Layer, error) {
	cands := candidates(g, p)
	var out []Layer
	size := group
	for lo := 0; lo < len(cands); {
		if progress != nil {
			progress(lo, len(cands))
		}
		part := cands[lo:min(lo+size, len(cands))]
		got, bytes, err := measure(ctx, inf, modelID, p, indices, part)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// One tensor the target cannot return (folded away, say)
			// must not hide the others: retry one at a time.
			got = got[:0]
			for _, c := range part {
				one, _, err := measure(ctx, inf, modelID, p, indices, []Layer{c})
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				if err == nil {
					got = append(got, one...)
				}
			}
		}
		out = append(out, got...)
		lo += len(part)
		// Each group runs the model twice: as many layers as fit
		// groupBytes, from the size of the last ones.
		if bytes > 0 {
			size = min(maxGroup, max(group, groupBytes*len(part)/bytes))
		}
	}
	if progress != nil {
		progress(len(cands), len(cands))
	}
	if len(out) == 0 && len(cands) > 0 {
		return nil, errors.New("per-layer analysis: the target returned none of the layer outputs")
	}
	return out, nil
}

// candidates lists the nodes that depend on a graph input, in order.
func candidates(g *potv1.Graph, p *potv1.QuantizationPlan) []Layer {
	inits := map[string]bool{}
	for _, t := range g.GetInitializers() {
		inits[t.GetName()] = true
	}
	dyn := map[string]bool{}
	for _, in := range g.GetInputs() {
		if !inits[in.GetName()] {
			dyn[in.GetName()] = true
		}
	}
	quantized := map[string]bool{}
	for _, q := range p.GetQuantizers() {
		if n := q.GetLocation().GetNode(); n != "" {
			quantized[n] = true
		}
		for _, c := range q.GetConsumers() {
			quantized[c] = true
		}
	}
	float := plan.FloatNodes(p)
	var out []Layer
	for _, n := range g.GetNodes() {
		live := false
		for _, in := range n.GetInputs() {
			live = live || dyn[in]
		}
		if !live {
			continue
		}
		for _, o := range n.GetOutputs() {
			if o != "" {
				dyn[o] = true
			}
		}
		if len(n.GetOutputs()) == 0 || n.GetOutputs()[0] == "" {
			continue
		}
		out = append(out, Layer{Node: n.GetName(), OpType: n.GetOpType(), Tensor: n.GetOutputs()[0],
			Quantized: quantized[n.GetName()], Float: float[n.GetName()]})
	}
	return out
}

// measure fills SQNR and Cosine of layers; float outputs only. bytes is
// the size of the float outputs compared.
func measure(ctx context.Context, inf Inferer, modelID string, p *potv1.QuantizationPlan, indices []int64, layers []Layer) (out []Layer, bytes int, err error) {
	names := make([]string, len(layers))
	for i, l := range layers {
		names[i] = l.Tensor
	}
	run := func(pl *potv1.QuantizationPlan) (map[string]*potv1.Tensor, error) {
		resp, err := inf.Infer(ctx, &potv1.InferRequest{ModelId: modelID, Plan: pl,
			Samples: &potv1.Samples{Indices: indices}, Outputs: names})
		if err != nil {
			return nil, err
		}
		m := map[string]*potv1.Tensor{}
		for _, t := range resp.GetOutputs() {
			m[t.GetName()] = t
		}
		return m, nil
	}
	ref, err := run(nil)
	if err != nil {
		return nil, 0, err
	}
	got, err := run(p)
	if err != nil {
		return nil, 0, err
	}
	for _, l := range layers {
		x, y := ref[l.Tensor], got[l.Tensor]
		if x == nil || y == nil {
			return nil, 0, fmt.Errorf("no output %q", l.Tensor)
		}
		xs, errx := graph.Float32s(x)
		ys, erry := graph.Float32s(y)
		if errx != nil || erry != nil || len(xs) != len(ys) || len(xs) == 0 {
			continue
		}
		bytes += 4 * len(xs)
		l.SQNR = metrics.SQNR(xs, ys)
		n := 1
		if d := x.GetDims(); len(d) > 0 && d[0] > 0 && len(xs)%int(d[0]) == 0 {
			n = int(d[0])
		}
		per := len(xs) / n
		var cos float64
		for i := 0; i < n; i++ {
			cos += metrics.Cosine(xs[i*per:(i+1)*per], ys[i*per:(i+1)*per])
		}
		l.Cosine = cos / float64(n)
		out = append(out, l)
	}
	return out, bytes, nil
}
