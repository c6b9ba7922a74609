package biascorr

import (
	"context"
	"fmt"

	"github.com/potgo/pot/algorithms/quant"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
)

// Full runs BiasCorrection: layer by layer in topological order, the
// mean of the layer's output in the quantized model (with the corrections
// made so far) is matched to the float model's. It uses 20% of the
// statistics subset (at least one sample), as POT does.
func Full(ctx context.Context, h sdk.Host, req *sdk.RunRequest, p *quant.Params) (*potv1.QuantizationPlan, *Report, error) {
	r, err := start(ctx, h, req, p)
	if err != nil || len(r.layers) == 0 {
		return r.plan(err)
	}
	n := r.samples
	size := p.StatSubsetSize
	if size <= 0 || size > n {
		size = n
	}
	idx := sdk.Subset(n, max(size/5, 1), p.Seed, p.ShuffleData)
	if err := r.shapes(ctx, h, req, idx[0]); err != nil || len(r.layers) == 0 {
		return r.plan(err)
	}
	x, ls, out, rep := r.x, r.layers, r.out, r.rep
	samples := &potv1.Samples{Indices: idx, BatchSize: int32(p.StatBatchSize)}
	// Float output means of every layer, in one pass.
	sreq := &potv1.StatisticsRequest{ModelId: req.ModelID, Plan: floatPlan(req.Plan), Samples: samples}
	for i, l := range ls {
		sreq.Probes = append(sreq.Probes, meanProbe(fmt.Sprintf("out%d", i), l.out, l.outAxis))
	}
	sresp, err := h.CollectStatistics(ctx, sreq)
	if err != nil {
		return nil, nil, fmt.Errorf("collect float statistics: %w", err)
	}
	rep.Samples = int(sresp.GetSamples())
	floatMeans := map[string][]float32{}
	for _, v := range sresp.GetValues() {
		floatMeans[v.GetProbeId()] = v.GetValues()
	}
	threshold := FullThreshold
	if p.Threshold != nil {
		threshold = *p.Threshold
	}
	for i, l := range ls {
		if err := h.Progress(ctx, &potv1.ProgressRequest{Stage: "bias correction", Done: int64(i), Total: int64(len(ls))}); err != nil {
			return nil, nil, err
		}
		q, err := h.CollectStatistics(ctx, &potv1.StatisticsRequest{ModelId: req.ModelID, Plan: out, Samples: samples,
			Probes: []*potv1.StatisticProbe{meanProbe("q", l.out, l.outAxis)}})
		if err != nil {
			return nil, nil, fmt.Errorf("layer %s: collect quantized statistics: %w", l.node.GetName(), err)
		}
		qMean := q.GetValues()[0].GetValues()
		fMean := floatMeans[fmt.Sprintf("out%d", i)]
		b := updatedTensor(x, out, l.bias)
		bias, err := graph.Float32s(b)
		if err != nil {
			return nil, nil, err
		}
		if len(qMean) != len(bias) || len(fMean) != len(bias) {
			rep.Skipped[l.node.GetName()] = fmt.Sprintf("%d bias values for %d channels", len(bias), len(qMean))
			continue
		}
		newBias := make([]float32, len(bias))
		for c := range bias {
			newBias[c] = bias[c] + fMean[c] - qMean[c]
		}
		if reason := exceeds(bias, newBias, threshold); reason != "" {
			rep.Skipped[l.node.GetName()] = reason
			continue
		}
		plan.SetTensorUpdate(out, graph.FloatTensor(l.bias, b.GetDims(), newBias))
		rep.Corrected = append(rep.Corrected, l.node.GetName())
	}
	_ = h.Progress(ctx, &potv1.ProgressRequest{Stage: "bias correction", Done: int64(len(ls)), Total: int64(len(ls))})
	return out, rep, nil
}
