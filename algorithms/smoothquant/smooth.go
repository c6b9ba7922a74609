package smoothquant

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
)

// Report is what SmoothQuant reports: per smoothed group of layers the
// activation outlier ratio (largest channel's max|X| over the median
// channel's) before and after and the range of s, and why the other
// layers were left alone.
type Report struct {
	Alpha       float64 `json:"alpha"`
	AlphaSearch bool    `json:"alpha_search,omitempty"`
	// Samples the activation maxima come from.
	Samples  int64             `json:"samples"`
	Smoothed []GroupReport     `json:"smoothed"`
	Skipped  map[string]string `json:"skipped"`
	// SmoothOnly: the plan was returned without quantizing (others follow).
	SmoothOnly    bool   `json:"smooth_only,omitempty"`
	BaseAlgorithm string `json:"base_algorithm,omitempty"`
	// BaseReport is the base algorithm's report, verbatim.
	BaseReport any `json:"base_report,omitempty"`
	// Tables are the above as tables for report.html (sdk.ReportTable),
	// then the base algorithm's.
	Tables []sdk.ReportTable `json:"tables,omitempty"`
}

// tables are the smoothed groups and the skipped layers as tables,
// followed by the base algorithm's report's tables (base), if any.
func (r *Report) tables(base string) []sdk.ReportTable {
	t := sdk.NewReportTable("SmoothQuant: smoothed inputs", "input", "layers", "channels", "α",
		"act. outlier ratio before", "after", "weight outlier ratio before", "after", "s min", "s max")
	t.Note = "Outlier ratio: the largest channel's max|X| (max|W| for weights) over the median channel's; " +
		"s = max|X|^α / max|W|^(1−α) per channel (α 0 and s = 1: the search kept the input unsmoothed)."
	for _, g := range r.Smoothed {
		t.Add(g.Source, strings.Join(g.Layers, ", "), g.Channels, g.Alpha, g.ActOutlierBefore, g.ActOutlierAfter,
			g.WeightOutlierBefore, g.WeightOutlierAfter, g.SMin, g.SMax)
	}
	out := []sdk.ReportTable{*t}
	if len(r.Skipped) > 0 {
		sk := sdk.NewReportTable("SmoothQuant: layers not smoothed", "layer", "reason")
		for _, k := range slices.Sorted(maps.Keys(r.Skipped)) {
			sk.Add(k, r.Skipped[k])
		}
		out = append(out, *sk)
	}
	return append(out, sdk.ReportTables(base)...)
}

// GroupReport is one smoothed tensor and the layers that read it.
type GroupReport struct {
	Layers     []string `json:"layers"`
	Source     string   `json:"source"`
	Producer   string   `json:"producer"`
	FoldedInto []string `json:"folded_into"`
	Channels   int      `json:"channels"`
	// Alpha is the α used; with the search, Kept says it found the layer
	// better left alone (s = 1).
	Alpha float64 `json:"alpha"`
	Kept  bool    `json:"kept_unsmoothed,omitempty"`
	// Outlier ratios: max over channels / median over channels of the
	// per-channel max|X| (activations) and max|W| (weights).
	ActOutlierBefore    float64 `json:"act_outlier_ratio_before"`
	ActOutlierAfter     float64 `json:"act_outlier_ratio_after"`
	WeightOutlierBefore float64 `json:"weight_outlier_ratio_before"`
	WeightOutlierAfter  float64 `json:"weight_outlier_ratio_after"`
	ActMaxBefore        float64 `json:"act_abs_max_before"`
	ActMaxAfter         float64 `json:"act_abs_max_after"`
	SMin                float64 `json:"s_min"`
	SMax                float64 `json:"s_max"`
	// SearchError is the simulated int8 output error (relative squared
	// error summed over the layers) by α ("none": unsmoothed).
	SearchError map[string]float64 `json:"search_error,omitempty"`
}

// smooth computes the smoothing factors and returns req.Plan with the
// smoothed constants as tensor updates.
func smooth(ctx context.Context, h sdk.Host, req *sdk.RunRequest, p *Params, ps *passed) (*potv1.QuantizationPlan, *Report, error) {
	out := proto.CloneOf(req.Plan)
	if out == nil {
		out = &potv1.QuantizationPlan{}
	}
	rep := &Report{Alpha: p.Alpha, AlphaSearch: p.AlphaSearch, Skipped: map[string]string{}, Smoothed: []GroupReport{}}
	g, err := h.Graph(ctx, req.ModelID)
	if err != nil {
		return nil, nil, err
	}
	groups, skipped := find(g)
	rep.Skipped = skipped
	if len(groups) == 0 {
		return out, rep, nil
	}
	x := graph.NewIndex(g)
	info, err := h.DataInfo(ctx)
	if err != nil {
		return nil, nil, err
	}
	idx := sdk.Subset(int(info.GetCalibrationSamples()), ps.StatSubsetSize, ps.Seed, ps.ShuffleData)
	if len(idx) == 0 {
		return nil, nil, fmt.Errorf("no calibration samples to measure the activations on")
	}
	// The float model as it comes in (with earlier algorithms' updates).
	floatPlan := &potv1.QuantizationPlan{TensorUpdates: req.Plan.GetTensorUpdates()}
	var sources []string
	for _, gr := range groups {
		sources = append(sources, gr.source)
	}
	one, err := h.Infer(ctx, &potv1.InferRequest{ModelId: req.ModelID, Plan: floatPlan,
		Samples: &potv1.Samples{Indices: idx[:1], BatchSize: 1}, Outputs: sources, ShapesOnly: true})
	if err != nil {
		return nil, nil, fmt.Errorf("infer the shapes of the smoothed tensors: %w", err)
	}
	dims := map[string][]int64{}
	for _, t := range one.GetOutputs() {
		dims[t.GetName()] = t.GetDims()
	}
	sreq := &potv1.StatisticsRequest{ModelId: req.ModelID, Plan: floatPlan, Samples: &potv1.Samples{Indices: idx}}
	kept := groups[:0]
	for _, gr := range groups {
		d := dims[gr.source]
		a := 1
		if gr.channelLast {
			a = len(d) - 1
		}
		if a < 0 || a >= len(d) || d[a] != int64(gr.channels) {
			for _, l := range gr.layers {
				skipped[l.node.GetName()] = fmt.Sprintf("%s has shape %v for one sample, not %d channels on the axis the layers read", gr.source, d, gr.channels)
			}
			continue
		}
		sreq.Probes = append(sreq.Probes, &potv1.StatisticProbe{Id: gr.source, Tensor: gr.source, Reducer: potv1.Reducer_REDUCER_ABS_MAX,
			PerChannel: true, ChannelAxis: int32(probeAxis(d, a)), Aggregator: potv1.Aggregator_AGGREGATOR_MAX})
		kept = append(kept, gr)
	}
	groups = kept
	if len(groups) == 0 {
		return out, rep, nil
	}
	_ = h.Progress(ctx, &potv1.ProgressRequest{Stage: "SmoothQuant: activation maxima", Done: 0, Total: int64(len(idx))})
	sresp, err := h.CollectStatistics(ctx, sreq)
	if err != nil {
		return nil, nil, fmt.Errorf("collect the activation maxima: %w", err)
	}
	rep.Samples = sresp.GetSamples()
	actMax := map[string][]float64{}
	for _, v := range sresp.GetValues() {
		actMax[v.GetProbeId()] = f64(v.GetValues())
	}
	var searchX map[string][]float32
	if p.AlphaSearch {
		if searchX, err = searchInputs(ctx, h, req.ModelID, floatPlan, groups, idx, p.SearchSamples); err != nil {
			return nil, nil, err
		}
	}
	for i, gr := range groups {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		_ = h.Progress(ctx, &potv1.ProgressRequest{Stage: "SmoothQuant: smoothing", Done: int64(i), Total: int64(len(groups))})
		am := actMax[gr.source]
		if len(am) != gr.channels {
			for _, l := range gr.layers {
				skipped[l.node.GetName()] = fmt.Sprintf("the target gave %d activation maxima for %s, not %d (no sample computed it?)", len(am), gr.source, gr.channels)
			}
			continue
		}
		gr := gr
		ws := make([][]float32, len(gr.layers))
		wDims := make([][]int64, len(gr.layers))
		wm := make([]float64, gr.channels)
		for k, l := range gr.layers {
			v, d, err := current(x, out, l.weight.tensor)
			if err != nil {
				return nil, nil, err
			}
			ws[k], wDims[k] = v, d
			for j, m := range axisAbsMax(v, d, l.weight.axis) {
				wm[j] = math.Max(wm[j], m)
			}
		}
		gRep := GroupReport{Source: gr.source, Producer: gr.producer, Channels: gr.channels, Alpha: p.Alpha}
		for _, l := range gr.layers {
			gRep.Layers = append(gRep.Layers, l.node.GetName())
		}
		for _, f := range gr.folds {
			gRep.FoldedInto = append(gRep.FoldedInto, f.tensor)
		}
		s := scales(am, wm, p.Alpha)
		if p.AlphaSearch && gr.channelLast {
			best, errs := searchAlpha(searchX[gr.source], gr, ws, wDims, am, wm, p.AlphaGrid, ps.Preset)
			gRep.SearchError = errs
			if best < 0 {
				gRep.Kept, gRep.Alpha = true, 0
				s = ones(gr.channels)
			} else {
				gRep.Alpha = best
				s = scales(am, wm, best)
			}
		}
		after := make([]float64, len(am))
		wAfter := make([]float64, len(wm))
		for j := range am {
			after[j] = am[j] / s[j]
			wAfter[j] = wm[j] * s[j]
		}
		gRep.ActOutlierBefore, gRep.ActOutlierAfter = outlierRatio(am), outlierRatio(after)
		gRep.WeightOutlierBefore, gRep.WeightOutlierAfter = outlierRatio(wm), outlierRatio(wAfter)
		gRep.ActMaxBefore, gRep.ActMaxAfter = slices.Max(am), slices.Max(after)
		gRep.SMin, gRep.SMax = slices.Min(s), slices.Max(s)
		if !gRep.Kept {
			for k, l := range gr.layers {
				plan.SetTensorUpdate(out, graph.FloatTensor(l.weight.tensor, wDims[k], scaleAlong(ws[k], wDims[k], l.weight.axis, s, false)))
			}
			for _, f := range gr.folds {
				v, d, err := current(x, out, f.tensor)
				if err != nil {
					return nil, nil, err
				}
				plan.SetTensorUpdate(out, graph.FloatTensor(f.tensor, d, scaleAlong(v, d, f.axis, s, true)))
			}
		}
		rep.Smoothed = append(rep.Smoothed, gRep)
	}
	return out, rep, nil
}

// probeAxis is the channel axis of a statistics probe for axis a of a
// tensor whose shape for one sample is dims: targets count a probe's
// axes with the batch axis first and put a batch axis of 1 in front of
// a tensor whose first axis is not the batch (as [tokens, N, C]).
func probeAxis(dims []int64, a int) int {
	if len(dims) > 0 && dims[0] == 1 {
		return a
	}
	return a + 1
}

// current returns the values of initializer name under plan p (its
// update, else the graph's).
func current(x *graph.Index, p *potv1.QuantizationPlan, name string) ([]float32, []int64, error) {
	t := x.Initializer(name)
	for _, u := range p.GetTensorUpdates() {
		if u.GetName() == name {
			t = u
		}
	}
	if t == nil {
		return nil, nil, fmt.Errorf("no initializer %s", name)
	}
	v, err := graph.Float32s(t)
	if err != nil {
		return nil, nil, fmt.Errorf("initializer %s: %w", name, err)
	}
	return v, t.GetDims(), nil
}

// strides splits dims around axis: the product of the axes before it,
// its size and the product of those after it.
func strides(d []int64, axis int) (outer, n, inner int) {
	outer, inner = 1, 1
	for i, k := range d {
		switch {
		case i < axis:
			outer *= int(k)
		case i > axis:
			inner *= int(k)
		}
	}
	return outer, int(d[axis]), inner
}

// axisAbsMax is max|v| per index of axis.
func axisAbsMax(v []float32, d []int64, axis int) []float64 {
	outer, n, inner := strides(d, axis)
	m := make([]float64, n)
	for o := 0; o < outer; o++ {
		for j := 0; j < n; j++ {
			base := (o*n + j) * inner
			for i := 0; i < inner; i++ {
				m[j] = math.Max(m[j], math.Abs(float64(v[base+i])))
			}
		}
	}
	return m
}

// scaleAlong multiplies (or divides) v by s along axis, into a copy.
func scaleAlong(v []float32, d []int64, axis int, s []float64, divide bool) []float32 {
	outer, n, inner := strides(d, axis)
	out := make([]float32, len(v))
	for o := 0; o < outer; o++ {
		for j := 0; j < n; j++ {
			base := (o*n + j) * inner
			for i := 0; i < inner; i++ {
				if divide {
					out[base+i] = float32(float64(v[base+i]) / s[j])
				} else {
					out[base+i] = float32(float64(v[base+i]) * s[j])
				}
			}
		}
	}
	return out
}

// Bounds of s, as the paper's code clamps the maxima.
const (
	minMax   = 1e-5
	minScale = 1e-4
	maxScale = 1e4
)

// scales are SmoothQuant's s_j = max|X_j|^α / max|W_j|^(1−α); a channel
// with no activation or no weight keeps s = 1.
func scales(act, w []float64, alpha float64) []float64 {
	s := make([]float64, len(act))
	for j := range act {
		if act[j] <= 0 || w[j] <= 0 {
			s[j] = 1
			continue
		}
		v := math.Pow(math.Max(act[j], minMax), alpha) / math.Pow(math.Max(w[j], minMax), 1-alpha)
		s[j] = math.Min(maxScale, math.Max(minScale, v))
	}
	return s
}

func ones(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

// outlierRatio is max over median of the per-channel maxima (0 when the
// median is 0).
func outlierRatio(m []float64) float64 {
	if len(m) == 0 {
		return 0
	}
	c := slices.Clone(m)
	slices.Sort(c)
	med := c[len(c)/2]
	if len(c)%2 == 0 {
		med = (c[len(c)/2-1] + c[len(c)/2]) / 2
	}
	if med <= 0 {
		return 0
	}
	return c[len(c)-1] / med
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// alphaKey names an α in the search report.
func alphaKey(a float64) string { return strconv.FormatFloat(a, 'f', -1, 64) }
