package quant

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
)

// The outlier check: an activation whose range from min/max statistics is
// many times wider than where nearly all of its values lie spends its
// int8 levels on a few values. An ISNet background remover's last logits
// reach -1824 at a few pixels while 99.9% of them lie within ±42: with
// steps of 14, background logits near 0 rounded to 0 and the int8 mask
// came out 0.16 where the float one is 0 (SQNR 3 dB); with
// --range-estimator quantile, 39 dB. MinMax says so instead of leaving
// the user to find it.
const (
	// outlierSamples is the calibration samples the check reads.
	outlierSamples = 4
	// outlierBulk is the quantile of |x| taken as the bulk of the values.
	// 99.9%: ISNet's logits reach -1824 with 99.99% of them within 420,
	// 99.9% within 42, and the mask needs the steps of the latter.
	outlierBulk = 0.999
	// outlierRatio is the range, in multiples of the bulk, from which an
	// activation is reported: beyond 16× its bulk gets fewer than 16 of
	// 256 levels.
	outlierRatio = 16
)

// outlierProbes are the probes of the check: the bulk of every activation
// quantized per tensor with min/max statistics (quantile estimators
// already leave the outliers out).
func outlierProbes(acts []*activation) []*potv1.StatisticProbe {
	var probes []*potv1.StatisticProbe
	for _, a := range acts {
		if a.max.perChannel || isQuantile(a.min.reducer) || isQuantile(a.max.reducer) {
			continue
		}
		probes = append(probes, &potv1.StatisticProbe{Id: a.pt.ID + "/bulk", Tensor: a.pt.Tensor,
			Reducer: potv1.Reducer_REDUCER_ABS_QUANTILE, Quantile: outlierBulk, Aggregator: potv1.Aggregator_AGGREGATOR_MAX})
	}
	return probes
}

// outlier is an activation the check reports: its tensor, why, and its
// range in multiples of its bulk.
type outlier struct {
	tensor, why string
	ratio       float64
}

// outliers measures the bulk of the activations on the first
// outlierSamples of idx and returns each activation whose range
// (ranges[i], nil for none) exceeds outlierRatio times its bulk, the
// widest first. It needs one small statistics pass; a target that cannot
// take it leaves the check out (err says why).
func outliers(ctx context.Context, h sdk.Host, sreq *potv1.StatisticsRequest, idx []int64, acts []*activation, ranges []*rawRange) ([]outlier, error) {
	probes := outlierProbes(acts)
	if len(probes) == 0 || len(idx) == 0 {
		return nil, nil
	}
	req := &potv1.StatisticsRequest{ModelId: sreq.GetModelId(), Plan: sreq.GetPlan(), Probes: probes,
		Samples: &potv1.Samples{Indices: idx[:min(len(idx), outlierSamples)], BatchSize: sreq.GetSamples().GetBatchSize()}}
	resp, err := h.CollectStatistics(ctx, req)
	if err != nil {
		return nil, err
	}
	bulk := map[string]float64{}
	for _, v := range resp.GetValues() {
		if len(v.GetValues()) == 1 {
			bulk[v.GetProbeId()] = float64(v.GetValues()[0])
		}
	}
	var out []outlier
	for i, a := range acts {
		r, b := ranges[i], bulk[a.pt.ID+"/bulk"]
		if r == nil || len(r.lo) != 1 || !(b > 0) {
			continue
		}
		width := math.Max(math.Abs(r.lo[0]), math.Abs(r.hi[0]))
		if ratio := width / b; ratio > outlierRatio {
			out = append(out, outlier{a.pt.Tensor, fmt.Sprintf("range [%.4g, %.4g], while 99.9%% of |values| lie below %.4g: %.0f× narrower, on about %d of the 256 levels",
				r.lo[0], r.hi[0], b, ratio, int(256/ratio)), ratio})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ratio > out[j].ratio })
	return out, nil
}

// warnOutliers logs how many activations the check found (at least
// one), naming the three widest.
func warnOutliers(found []outlier) {
	shown := found[:min(len(found), 3)]
	lines := make([]string, len(shown))
	for i, o := range shown {
		lines[i] = fmt.Sprintf("%q: %s", o.tensor, o.why)
	}
	sdk.Logger().Warn(fmt.Sprintf("%d activations have outliers that take most of their int8 levels (the report's outliers lists them); --range-estimator quantile leaves such outliers out of the ranges", len(found)),
		"examples", strings.Join(lines, "; "))
}
