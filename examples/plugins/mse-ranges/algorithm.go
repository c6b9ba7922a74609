package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
)

// Version of the plugin.
const Version = "1.0.0"

//go:embed schema.json
var schema string

// MSERanges is the algorithm.
type MSERanges struct{}

var _ sdk.Algorithm = MSERanges{}

// params are the plugin's own parameters; every other key is passed on to
// MinMaxQuantization.
type params struct {
	Candidates int     `json:"mse_candidates"`
	Quantiles  int     `json:"mse_quantiles"`
	MinRatio   float64 `json:"mse_min_ratio"`
	MaxRatio   float64 `json:"mse_max_ratio"`
	// The subset MinMaxQuantization takes statistics on: the same samples
	// are used here.
	SubsetSize int   `json:"stat_subset_size"`
	Shuffle    bool  `json:"shuffle_data"`
	Seed       int64 `json:"seed"`
}

// Describe implements sdk.Algorithm.
func (MSERanges) Describe(context.Context) (*potv1.AlgorithmDescription, error) {
	return &potv1.AlgorithmDescription{
		Name:             "MSERanges",
		Version:          Version,
		Description:      "MinMaxQuantization, then each activation's clipping range chosen by minimising the quantization MSE on the calibration data.",
		ProtocolVersions: []int32{sdk.ProtocolVersion},
		ParamsSchema:     schema,
		Defaults:         `{"mse_candidates": 100, "mse_quantiles": 33, "mse_min_ratio": 0.2, "mse_max_ratio": 1.5}`,
	}, nil
}

// report is what the plugin reports, per activation quantizer.
type report struct {
	Samples    int64         `json:"samples"`
	Quantizers []rangeReport `json:"quantizers"`
}

type rangeReport struct {
	ID     string  `json:"id"`
	Tensor string  `json:"tensor"`
	Ratio  float64 `json:"ratio"`
	MinMax float64 `json:"mse_minmax"`
	MSE    float64 `json:"mse"`
}

// Run implements sdk.Algorithm.
func (MSERanges) Run(ctx context.Context, h sdk.Host, req *sdk.RunRequest) (*potv1.RunResponse, error) {
	p := params{Candidates: 100, Quantiles: 33, MinRatio: 0.2, MaxRatio: 1.5}
	if err := json.Unmarshal(req.Params, &p); err != nil {
		return nil, fmt.Errorf("parameters: %w", err)
	}
	if p.Candidates < 2 || p.Quantiles < 3 || !(p.MinRatio > 0 && p.MinRatio <= 1 && p.MaxRatio >= 1) {
		return nil, fmt.Errorf("parameters: need mse_candidates >= 2, mse_quantiles >= 3, 0 < mse_min_ratio <= 1 <= mse_max_ratio")
	}
	log := sdk.Logger()

	// 1. MinMaxQuantization places the quantizers and sets min/max ranges.
	passOn, err := withoutOwnKeys(req.Params)
	if err != nil {
		return nil, err
	}
	mm, err := h.RunAlgorithm(ctx, &potv1.RunAlgorithmRequest{Name: "MinMaxQuantization", ModelId: req.ModelID, Plan: req.Plan, Params: passOn})
	if err != nil {
		return nil, fmt.Errorf("MinMaxQuantization: %w", err)
	}
	plan := mm.GetPlan()
	var acts []*potv1.Quantizer
	tensors := map[string]bool{}
	for _, q := range plan.GetQuantizers() {
		if !q.GetWeights() && len(q.GetInputLow()) == 1 && q.GetLevels() >= 2 {
			acts = append(acts, q)
			tensors[q.GetLocation().GetTensor()] = true
		}
	}
	log.Info("searching clipping ranges", "activations", len(acts))
	if len(acts) == 0 {
		return &potv1.RunResponse{Plan: plan, Report: `{"samples": 0, "quantizers": []}`}, nil
	}

	// 2. Per-sample quantiles of every activation: the shape of each
	// sample's distribution, reduced inside the target.
	info, err := h.DataInfo(ctx)
	if err != nil {
		return nil, err
	}
	idx := sdk.Subset(int(info.GetCalibrationSamples()), p.SubsetSize, p.Seed, p.Shuffle)
	sreq := &potv1.StatisticsRequest{
		ModelId: req.ModelID,
		Plan:    &potv1.QuantizationPlan{TensorUpdates: plan.GetTensorUpdates()},
		Samples: &potv1.Samples{Indices: idx},
	}
	for t := range tensors {
		for k := 0; k < p.Quantiles; k++ {
			sreq.Probes = append(sreq.Probes, &potv1.StatisticProbe{
				Id: fmt.Sprintf("%s#%d", t, k), Tensor: t, Reducer: potv1.Reducer_REDUCER_QUANTILE,
				Quantile: float64(k) / float64(p.Quantiles-1), Aggregator: potv1.Aggregator_AGGREGATOR_NONE,
			})
		}
	}
	stats, err := h.CollectStatistics(ctx, sreq)
	if err != nil {
		return nil, fmt.Errorf("collect statistics: %w", err)
	}
	values := map[string][]float32{}
	for _, v := range stats.GetValues() {
		values[v.GetProbeId()] = v.GetValues()
	}
	points := map[string][]float64{}
	for t := range tensors {
		q := make([][]float32, p.Quantiles)
		for k := range q {
			q[k] = values[fmt.Sprintf("%s#%d", t, k)]
		}
		if points[t], err = samplePoints(q, 32); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", t, err)
		}
	}

	// 3. Search the clipping ratio of each quantizer (or unified group).
	groups := map[string][]*potv1.Quantizer{}
	var order []string
	for _, q := range acts {
		key := q.GetUnifiedGroup()
		if key == "" {
			key = "quantizer:" + q.GetId()
		}
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], q)
	}
	rep := report{Samples: stats.GetSamples()}
	for i, key := range order {
		members := groups[key]
		var sets []rangeSet
		for _, q := range members {
			sets = append(sets, rangeSet{q: q, points: points[q.GetLocation().GetTensor()]})
		}
		ratio, best, base := search(sets, p.Candidates, p.MinRatio, p.MaxRatio)
		for _, q := range members {
			scale(q, ratio)
			rep.Quantizers = append(rep.Quantizers, rangeReport{ID: q.GetId(), Tensor: q.GetLocation().GetTensor(), Ratio: ratio, MinMax: base, MSE: best})
		}
		if err := h.Progress(ctx, &potv1.ProgressRequest{Stage: "MSE range search", Done: int64(i + 1), Total: int64(len(order))}); err != nil {
			return nil, err
		}
		log.Debug("clipping range", "quantizers", key, "ratio", ratio, "mse", best, "mse_minmax", base)
	}
	if plan.Metadata == nil {
		plan.Metadata = map[string]string{}
	}
	plan.Metadata["ranges"] = "mse"
	b, err := json.Marshal(rep)
	if err != nil {
		return nil, err
	}
	return &potv1.RunResponse{Plan: plan, Report: string(b)}, nil
}

// withoutOwnKeys returns the parameters without this plugin's own keys,
// for MinMaxQuantization.
func withoutOwnKeys(raw json.RawMessage) (string, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", fmt.Errorf("parameters: %w", err)
	}
	for _, k := range []string{"mse_candidates", "mse_quantiles", "mse_min_ratio", "mse_max_ratio"} {
		delete(m, k)
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// samplePoints rebuilds, from per-sample quantiles q[k][sample] at
// quantile levels k/(K-1), m representative values per sample (by linear
// interpolation of each sample's quantile function).
func samplePoints(q [][]float32, m int) ([]float64, error) {
	k := len(q)
	n := len(q[0])
	for i := range q {
		if len(q[i]) != n || n == 0 {
			return nil, fmt.Errorf("quantile %d has %d samples, want %d", i, len(q[i]), n)
		}
	}
	out := make([]float64, 0, n*m)
	for s := 0; s < n; s++ {
		for j := 0; j < m; j++ {
			u := (float64(j) + 0.5) / float64(m) * float64(k-1)
			lo := int(u)
			f := u - float64(lo)
			v := float64(q[lo][s])
			if lo+1 < k {
				v += f * (float64(q[lo+1][s]) - v)
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// rangeSet is a quantizer with the values it sees.
type rangeSet struct {
	q      *potv1.Quantizer
	points []float64
}

// search returns the ratio r in [minRatio, maxRatio] that minimises the
// summed quantization MSE of the quantizers with their ranges scaled by r
// (clipping outliers when r < 1, widening a range that clips too much
// when r > 1), the MSE there and the MSE at r = 1 (the min/max ranges).
// Scaling both ends keeps zero on the quantization grid.
func search(sets []rangeSet, candidates int, minRatio, maxRatio float64) (ratio, best, base float64) {
	base = totalMSE(sets, 1)
	ratio, best = 1, base
	for i := 0; i < candidates; i++ {
		r := minRatio + (maxRatio-minRatio)*float64(i)/float64(candidates-1)
		if e := totalMSE(sets, r); e < best {
			ratio, best = r, e
		}
	}
	return ratio, best, base
}

func totalMSE(sets []rangeSet, r float64) float64 {
	var sum float64
	var n int
	for _, s := range sets {
		lo, hi := r*float64(s.q.GetInputLow()[0]), r*float64(s.q.GetInputHigh()[0])
		steps := float64(s.q.GetLevels() - 1)
		for _, x := range s.points {
			d := fakeQuantize(x, lo, hi, steps) - x
			sum += d * d
		}
		n += len(s.points)
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// fakeQuantize is the Quantizer formula of pot's protocol with equal
// input and output ranges.
func fakeQuantize(x, lo, hi, steps float64) float64 {
	if !(hi > lo) {
		return x
	}
	c := math.Min(math.Max(x, lo), hi)
	return math.RoundToEven((c-lo)/(hi-lo)*steps)/steps*(hi-lo) + lo
}

// scale multiplies a quantizer's ranges by r.
func scale(q *potv1.Quantizer, r float64) {
	for _, v := range [][]float32{q.InputLow, q.InputHigh, q.OutputLow, q.OutputHigh} {
		for i := range v {
			v[i] = float32(float64(v[i]) * r)
		}
	}
}
