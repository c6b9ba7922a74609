package pipeline

import (
	"context"
	"fmt"

	"github.com/potgo/pot/host/metrics"
	"github.com/potgo/pot/proto/potv1"
)

// evaluateMetric computes a metric of host/metrics (top5, sqnr, cosine,
// mse, psnr, ...) of a plan on a data set, with per-sample values and,
// when asked, distances to the float model. Metrics comparing outputs
// (sqnr, cosine, mse, psnr) run the float model on the same samples.
func (e *evaluator) evaluateMetric(ctx context.Context, model string, plan *potv1.QuantizationPlan, d *data, idx []int64, distance, spec string) (*potv1.HostEvaluateResponse, error) {
	m, err := metrics.New(spec)
	if err != nil {
		return nil, err
	}
	info, _ := metrics.Lookup(spec)
	if info.NeedsLabels && d.labels == nil {
		return nil, fmt.Errorf("metric %s needs labels; the %s data has none (agreement, sqnr, cosine, mse and psnr need none)", spec, d.name)
	}
	compare := info.NeedsReference && info.Name != "agreement"
	full := compare || distance != ""
	out, err := e.infer(ctx, model, plan, d, idx, 5, full)
	if err != nil {
		return nil, err
	}
	n := len(out.top)
	b := metrics.Batch{N: n}
	if d.labels != nil {
		b.Labels = make([]int, n)
		for i := range b.Labels {
			j := i
			if len(idx) > 0 {
				j = int(idx[i])
			}
			b.Labels[i] = d.labels[j]
		}
	}
	if full {
		b.Outputs = flatten(out.full)
	} else {
		k := 0
		if n > 0 {
			k = len(out.top[0])
		}
		b.TopK = make([]int, 0, n*k)
		for i, row := range out.top {
			if len(row) != k {
				return nil, fmt.Errorf("sample %d has %d top classes, others %d", i, len(row), k)
			}
			for _, c := range row {
				b.TopK = append(b.TopK, int(c))
			}
		}
	}
	var ref *outputs
	if full && (compare || distance != "") {
		if ref, err = e.floatOutputs(ctx, d, idx, 1); err != nil {
			return nil, err
		}
		b.Reference = flatten(ref.full)
	}
	if info.Name == "agreement" && b.Reference == nil {
		fr, err := e.floatReference(ctx, d)
		if err != nil {
			return nil, err
		}
		b.ReferenceTopK = make([]int, n)
		for i := range b.ReferenceTopK {
			j := i
			if len(idx) > 0 {
				j = int(idx[i])
			}
			b.ReferenceTopK[i] = fr.top1[j]
		}
	}
	if err := m.Add(b); err != nil {
		return nil, fmt.Errorf("metric %s: %w", spec, err)
	}
	resp := &potv1.HostEvaluateResponse{Metric: spec, Samples: int64(n), Value: m.Value(),
		PerSample: append([]float64(nil), m.PerSample()...)}
	if distance != "" {
		resp.Distances = make([]float64, n)
		for i := 0; i < n; i++ {
			if resp.Distances[i], err = distanceOf(distance, ref.full[i], out.full[i]); err != nil {
				return nil, err
			}
		}
	}
	return resp, nil
}

// flatten concatenates per-sample outputs, which must all have one size.
func flatten(rows [][]float32) []float32 {
	if len(rows) == 0 {
		return nil
	}
	out := make([]float32, 0, len(rows)*len(rows[0]))
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}
