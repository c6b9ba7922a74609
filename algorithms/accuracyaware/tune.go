package accuracyaware

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/potgo/pot/algorithms/quant"
	"github.com/potgo/pot/proto/potv1"
)

// phaseTune marks a checkpoint taken before or during the hyperparameter
// search; the greedy search follows it.
const phaseTune = "tune"

// Grid steps, in the order they run.
const (
	stepReference = "reference"
	stepRanges    = "ranges"
	stepBias      = "bias_correction"
)

// tuneState is the checkpointed hyperparameter search (tune_hyperparams).
type tuneState struct {
	// Subset is the ranking subset the trials are scored on: the samples
	// the starting plan hurts most.
	Subset []int64 `json:"subset"`
	// SubsetBaseline is the reference model's metric on Subset.
	SubsetBaseline float64 `json:"subset_baseline"`
	// BaselinePerSample are the reference model's per-sample values, for
	// the ranking subset of the greedy search when a trial is adopted.
	BaselinePerSample []float64 `json:"baseline_per_sample"`
	// Current are the base parameters the starting plan was made with
	// (the overrides of AA's own steps, such as convert_to_mixed_preset).
	Current map[string]any `json:"current_params"`
	Trials  []trial        `json:"trials"`
	// Best indexes Trials; BestPlan is its plan.
	Best     int    `json:"best"`
	BestPlan []byte `json:"best_plan"`
}

// trial is one run of the base algorithm with some parameters changed,
// scored on the ranking subset.
type trial struct {
	Trial        int             `json:"trial"`
	Step         string          `json:"step"`
	Params       json.RawMessage `json:"params"`
	Metric       float64         `json:"metric"`
	Drop         float64         `json:"drop"`
	Kept         bool            `json:"kept"`
	FullMeasured bool            `json:"full_measured,omitempty"`
	FullMetric   float64         `json:"full_metric,omitempty"`
	FullDrop     float64         `json:"full_drop,omitempty"`
	Adopted      bool            `json:"adopted,omitempty"`
}

// trialSpec is a trial to run: the base parameters it changes.
type trialSpec struct {
	Step     string
	Override map[string]any
}

// rangeSide is one choice for one side of the activation range
// estimator: DefaultQuantization's estimator (outlier 0) or a quantile
// of each sample's values, averaged over the samples.
type rangeSide struct{ Outlier float64 }

// rangeSides are POT's choices for each side: the default (min or max,
// as DefaultQuantization aggregates it) and quantile/mean with outlier
// probabilities 1e-3 and 1e-4.
var rangeSides = []rangeSide{{0}, {1e-3}, {1e-4}}

// activationRange is the range_estimator parameter for a choice of each
// side; nil when both are the default. A quantile max side takes the
// quantile preset (quantile, or abs_quantile for symmetric quantizers, as
// the default preset has max or abs_max); its min side then returns to
// the min reducer when it is the default.
func activationRange(lo, hi rangeSide) map[string]any {
	switch {
	case lo.Outlier == 0 && hi.Outlier == 0:
		return nil
	case hi.Outlier == 0:
		return map[string]any{"min": map[string]any{"type": "quantile", "aggregator": "mean", "outlier_prob": lo.Outlier}}
	}
	re := map[string]any{"preset": "quantile", "max": map[string]any{"aggregator": "mean", "outlier_prob": hi.Outlier}}
	if lo.Outlier == 0 {
		re["min"] = map[string]any{"type": "min"}
	} else {
		re["min"] = map[string]any{"aggregator": "mean", "outlier_prob": lo.Outlier}
	}
	return re
}

// rangeGrid is the first step of the search: preset (the current one,
// and mixed after performance, as NNCF's tuner) × activation range min ×
// max (POT's ParamsGridSearch), weights keeping their min/max estimator;
// the combination equal to the starting point is left out (it is the
// reference).
func rangeGrid(current map[string]any, preset string) []trialSpec {
	presets := []string{preset}
	if preset == quant.Performance {
		presets = append(presets, quant.Mixed)
	}
	var out []trialSpec
	for _, pr := range presets {
		for _, lo := range rangeSides {
			for _, hi := range rangeSides {
				o := clone(current)
				if pr != preset {
					o["preset"] = pr
				}
				if re := activationRange(lo, hi); re != nil {
					o["range_estimator"] = re
				}
				if pr == preset && lo.Outlier == 0 && hi.Outlier == 0 {
					continue // the reference
				}
				out = append(out, trialSpec{Step: stepRanges, Override: o})
			}
		}
	}
	return out
}

// biasGrid is the second step: the best parameters so far with the other
// bias correction (use_fast_bias flipped).
func biasGrid(best map[string]any, fastBias bool) []trialSpec {
	o := clone(best)
	o["use_fast_bias"] = !fastBias
	return []trialSpec{{Step: stepBias, Override: o}}
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+2)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// currentPreset is the preset the starting plan was made with.
func (s *searcher) currentPreset(current map[string]any) string {
	if p, ok := current["preset"].(string); ok {
		return p
	}
	if s.qp.Preset == "" {
		return quant.Performance
	}
	return s.qp.Preset
}

// fastBias is whether the base parameters select FastBiasCorrection.
func (s *searcher) fastBias(current map[string]any) bool {
	if v, ok := current["use_fast_bias"].(bool); ok {
		return v
	}
	return s.qp.UseFastBias == nil || *s.qp.UseFastBias
}

// startTuning prepares the hyperparameter search on the starting plan:
// its ranking subset, the reference's metric on it, and the starting
// plan scored as trial 0.
func (s *searcher) startTuning(ctx context.Context, cur *potv1.QuantizationPlan, perSample []float64, current map[string]any) error {
	sub, err := s.hardest(ctx, cur, perSample)
	if err != nil {
		return err
	}
	rb, err := s.evaluate(ctx, nil, sub, "")
	if err != nil {
		return err
	}
	r, err := s.evaluate(ctx, cur, sub, "")
	if err != nil {
		return err
	}
	if current == nil {
		current = map[string]any{}
	}
	t := &tuneState{Subset: sub, SubsetBaseline: rb.GetValue(), BaselinePerSample: perSample, Current: current,
		BestPlan: s.st.Current}
	pj, _ := json.Marshal(current)
	t.Trials = []trial{{Trial: 0, Step: stepReference, Params: pj, Metric: r.GetValue(), Drop: t.SubsetBaseline - r.GetValue(), Kept: true}}
	s.st.Tune, s.st.Phase = t, phaseTune
	return s.save(ctx)
}

// tune is POT's hyperparameter search (tune_hyperparams): grid steps run
// one after the other, each trial a base-algorithm run with some
// parameters changed and scored on the ranking subset; a trial is kept
// when it lowers the subset drop below the best so far, and the next
// step starts from the best. The winner, if not the starting plan, is
// measured on the full set and adopted only when its drop there is
// lower: the ranking subset holds the samples the starting plan hurts
// most, so any other plan tends to score better on it. Every trial is
// checkpointed, so a killed search resumes after the last one.
func (s *searcher) tune(ctx context.Context) error {
	t := s.st.Tune
	limit := s.p.TuneHyperparamsTrials
	preset := s.currentPreset(t.Current)
	steps := []func() []trialSpec{
		func() []trialSpec { return rangeGrid(t.Current, preset) },
		func() []trialSpec { return biasGrid(s.override(t.Trials[t.Best]), s.fastBias(t.Current)) },
	}
	total := len(rangeGrid(t.Current, preset)) + 1
	if limit > 0 {
		total = min(total, limit)
	}
	k := 0 // trials planned so far, the reference not counted
	for _, step := range steps {
		for _, spec := range step() {
			if limit > 0 && k >= limit {
				break
			}
			k++
			if k < len(t.Trials) {
				continue // done before a resume
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := s.runTrial(ctx, k, spec); err != nil {
				return err
			}
			tr := t.Trials[k]
			_ = s.h.Progress(ctx, &potv1.ProgressRequest{Stage: "tune hyperparameters", Done: int64(k), Total: int64(total),
				Message: fmt.Sprintf("trial %d %s: subset drop %.4f (best %.4f)", k, tr.Params, tr.Drop, t.Trials[t.Best].Drop)})
			if err := s.save(ctx); err != nil {
				return err
			}
		}
	}
	if t.Best != 0 && !t.Trials[t.Best].FullMeasured {
		best, err := s.plan(t.BestPlan)
		if err != nil {
			return err
		}
		r, err := s.evaluate(ctx, best, nil, "")
		if err != nil {
			return err
		}
		w, before := &t.Trials[t.Best], s.st.CurrentDrop
		w.FullMeasured, w.FullMetric, w.FullDrop = true, r.GetValue(), s.drop(r.GetValue())
		if w.FullDrop < s.st.CurrentDrop {
			w.Adopted = true
			s.setCurrent(best, r.GetValue())
		}
		s.st.Notes = append(s.st.Notes, fmt.Sprintf("tune_hyperparams: best trial %d %s: full-set drop %.4f against %.4f, %s",
			w.Trial, w.Params, w.FullDrop, before, map[bool]string{true: "adopted", false: "not adopted"}[w.Adopted]))
	}
	s.st.Phase = ""
	if s.within(s.st.CurrentDrop) {
		s.st.Done, s.st.Met = true, true
		return s.save(ctx)
	}
	var known []int64
	if !t.Trials[t.Best].Adopted {
		known = t.Subset // the same plan: the same hardest samples
	}
	return s.prepare(ctx, t.BaselinePerSample, known)
}

// override is a trial's parameters as a map.
func (s *searcher) override(tr trial) map[string]any {
	m := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(tr.Params))
	dec.UseNumber()
	_ = dec.Decode(&m)
	return m
}

// runTrial runs and scores trial k.
func (s *searcher) runTrial(ctx context.Context, k int, spec trialSpec) error {
	t := s.st.Tune
	o := clone(spec.Override)
	if _, ok := o["range_estimator"]; ok {
		// The trial owns the activation ranges: a user's
		// activations.range_estimator would shadow it.
		if act, ok := s.baseParams()["activations"].(map[string]any); ok {
			if _, has := act["range_estimator"]; has {
				act = clone(act)
				delete(act, "range_estimator")
				o["activations"] = act
			}
		}
	}
	p, err := s.runBase(ctx, o)
	if err != nil {
		return fmt.Errorf("tune_hyperparams trial %d: %w", k, err)
	}
	r, err := s.evaluate(ctx, p, t.Subset, "")
	if err != nil {
		return fmt.Errorf("tune_hyperparams trial %d: %w", k, err)
	}
	pj, _ := json.Marshal(spec.Override)
	tr := trial{Trial: k, Step: spec.Step, Params: pj, Metric: r.GetValue(), Drop: t.SubsetBaseline - r.GetValue()}
	if tr.Drop < t.Trials[t.Best].Drop {
		tr.Kept = true
		t.Best, t.BestPlan = k, marshal(p)
	}
	t.Trials = append(t.Trials, tr)
	return nil
}

// baseParams are the base algorithm's parameters as passed on.
func (s *searcher) baseParams() map[string]any {
	m := map[string]any{}
	_ = json.Unmarshal(s.base, &m)
	return m
}
