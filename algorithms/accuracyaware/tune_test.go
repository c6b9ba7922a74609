package accuracyaware

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/potgo/pot/algorithms/quant"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
)

func TestRangeGrid(t *testing.T) {
	for _, tc := range []struct {
		name    string
		current map[string]any
		preset  string
		want    int
		mixed   int // trials with preset mixed
	}{
		{"performance: both presets", map[string]any{}, quant.Performance, 17, 9},
		{"accuracy: its own preset only", map[string]any{}, quant.Accuracy, 8, 0},
		{"after convert_to_mixed_preset", map[string]any{"preset": quant.Mixed}, quant.Mixed, 8, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			grid := rangeGrid(tc.current, tc.preset)
			if len(grid) != tc.want {
				t.Fatalf("%d trials, want %d", len(grid), tc.want)
			}
			seen := map[string]bool{}
			ref, _ := json.Marshal(tc.current)
			mixed := 0
			for i, spec := range grid {
				b, _ := json.Marshal(spec.Override)
				if seen[string(b)] || string(b) == string(ref) {
					t.Errorf("trial %d %s repeats a trial or the reference", i, b)
				}
				seen[string(b)] = true
				if spec.Step != stepRanges {
					t.Errorf("trial %d: step %s", i, spec.Step)
				}
				if spec.Override["preset"] == quant.Mixed {
					mixed++
				}
				// Every trial is valid DefaultQuantization parameters.
				if _, err := quant.ParseParams(b); err != nil {
					t.Errorf("trial %d %s: %v", i, b, err)
				}
			}
			if mixed != tc.mixed {
				t.Errorf("%d trials with the mixed preset, want %d", mixed, tc.mixed)
			}
			// Grid order: the current preset first, then min side, then
			// max side; the first trial changes the max side only.
			first, _ := json.Marshal(grid[0].Override["range_estimator"])
			if want := `{"max":{"aggregator":"mean","outlier_prob":0.001},"min":{"type":"min"},"preset":"quantile"}`; string(first) != want {
				t.Errorf("first trial's range_estimator %s, want %s", first, want)
			}
		})
	}
}

func TestActivationRange(t *testing.T) {
	for _, tc := range []struct {
		lo, hi rangeSide
		want   string
	}{
		{rangeSide{0}, rangeSide{0}, `null`},
		{rangeSide{1e-3}, rangeSide{0}, `{"min":{"aggregator":"mean","outlier_prob":0.001,"type":"quantile"}}`},
		{rangeSide{0}, rangeSide{1e-4}, `{"max":{"aggregator":"mean","outlier_prob":0.0001},"min":{"type":"min"},"preset":"quantile"}`},
		{rangeSide{1e-4}, rangeSide{1e-3}, `{"max":{"aggregator":"mean","outlier_prob":0.001},"min":{"aggregator":"mean","outlier_prob":0.0001},"preset":"quantile"}`},
	} {
		b, _ := json.Marshal(activationRange(tc.lo, tc.hi))
		if string(b) != tc.want {
			t.Errorf("%v %v: %s, want %s", tc.lo, tc.hi, b, tc.want)
		}
	}
}

func TestBiasGrid(t *testing.T) {
	best := map[string]any{"preset": "mixed"}
	for _, fast := range []bool{true, false} {
		g := biasGrid(best, fast)
		if len(g) != 1 || g[0].Step != stepBias || g[0].Override["use_fast_bias"] != !fast || g[0].Override["preset"] != "mixed" {
			t.Errorf("fast %v: %+v", fast, g)
		}
	}
	if _, ok := best["use_fast_bias"]; ok {
		t.Error("biasGrid changed its argument")
	}
}

// mixedQuantile is a tuning gain: the mixed preset with the 1e-4 quantile
// on the max side wins back what layer a costs.
func mixedQuantile(full, subset float64) func(map[string]any, bool) float64 {
	return func(m map[string]any, onSubset bool) float64 {
		re, _ := m["range_estimator"].(map[string]any)
		max, _ := re["max"].(map[string]any)
		if m["preset"] != "mixed" || max["outlier_prob"] != 1e-4 {
			return 0
		}
		if onSubset {
			return subset
		}
		return full
	}
}

func TestTuneKeepsBestOnlyIfItLowersTheDrop(t *testing.T) {
	untuned := newFake()
	_, want, err := run(t, untuned, map[string]any{"maximal_drop": 0.011})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		gain     func(map[string]any, bool) float64
		limit    int
		trials   int
		best     int // -1: the reference
		adopted  bool
		reverted string
	}{
		{"a trial helps on both sets", mixedQuantile(0.05, 0.05), 0, 19, 11, true, "a"},
		{"a trial helps on the subset only", mixedQuantile(-0.01, 0.05), 0, 19, 11, false, "a,b"},
		{"no trial helps", func(map[string]any, bool) float64 { return 0 }, 0, 19, -1, false, "a,b"},
		{"trials limit before the winner", mixedQuantile(0.05, 0.05), 3, 4, -1, false, "a,b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newFake()
			h.tune = tc.gain
			params := map[string]any{"maximal_drop": 0.011, "tune_hyperparams": true}
			if tc.limit > 0 {
				params["tune_hyperparams_trials"] = tc.limit
			}
			_, rep, err := run(t, h, params)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Trials) != tc.trials || h.baseRuns != tc.trials {
				t.Fatalf("%d trials, %d base runs, want %d", len(rep.Trials), h.baseRuns, tc.trials)
			}
			if got := strings.Join(rep.Reverted, ","); got != tc.reverted || !rep.Met {
				t.Errorf("reverted %s (met %v), want %s", got, rep.Met, tc.reverted)
			}
			if len(rep.Reverted) > len(want.Reverted) || rep.FinalDrop > want.FinalDrop+1e-12 {
				t.Errorf("tuned: %v drop %g; untuned: %v drop %g", rep.Reverted, rep.FinalDrop, want.Reverted, want.FinalDrop)
			}
			// Kept trials lower the best subset drop, strictly, in order.
			best, bestAt := math.Inf(1), -1
			for i, tr := range rep.Trials {
				if tr.Trial != i {
					t.Errorf("trial %d numbered %d", i, tr.Trial)
				}
				if tr.Kept != (tr.Drop < best) {
					t.Errorf("trial %d: kept %v with drop %g, best before %g", i, tr.Kept, tr.Drop, best)
				}
				if tr.Kept {
					best, bestAt = tr.Drop, i
				}
				if tr.FullMeasured != (i > 0 && i == lastKept(rep.Trials)) || (tr.Adopted && !tr.FullMeasured) {
					t.Errorf("trial %d: full measured %v, adopted %v", i, tr.FullMeasured, tr.Adopted)
				}
			}
			if wantBest := max(tc.best, 0); bestAt != wantBest {
				t.Errorf("best trial %d, want %d", bestAt, wantBest)
			}
			if bestAt > 0 && rep.Trials[bestAt].Adopted != tc.adopted {
				t.Errorf("adopted %v, want %v", rep.Trials[bestAt].Adopted, tc.adopted)
			}
			if rep.Trials[0].Step != stepReference || rep.Trials[len(rep.Trials)-1].Step != map[bool]string{true: stepRanges, false: stepBias}[tc.limit > 0] {
				t.Errorf("steps: first %s, last %s", rep.Trials[0].Step, rep.Trials[len(rep.Trials)-1].Step)
			}
		})
	}
}

func lastKept(trs []trial) int {
	k := 0
	for i, tr := range trs {
		if tr.Kept {
			k = i
		}
	}
	return k
}

// TestTuneBiasStepStartsFromTheBest: the bias correction trial changes
// the best ranges trial's parameters, and the base runs follow the grid.
func TestTuneBiasStepStartsFromTheBest(t *testing.T) {
	h := newFake()
	h.tune = mixedQuantile(0.05, 0.05)
	_, rep, err := run(t, h, map[string]any{"maximal_drop": 0.011, "tune_hyperparams": true})
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]any{}
	if err := json.Unmarshal(rep.Trials[len(rep.Trials)-1].Params, &last); err != nil {
		t.Fatal(err)
	}
	winner := map[string]any{}
	if err := json.Unmarshal(rep.Trials[lastKept(rep.Trials)].Params, &winner); err != nil {
		t.Fatal(err)
	}
	winner["use_fast_bias"] = false
	if !reflect.DeepEqual(last, winner) {
		t.Errorf("bias trial %v, want %v", last, winner)
	}
	// The base runs: the starting plan, then each trial with its
	// parameters passed on (maximal_drop and tune_* stay with AA).
	for i, p := range h.runParams[1:] {
		if strings.Contains(p, "maximal_drop") || strings.Contains(p, "tune_hyperparams") {
			t.Errorf("base run %d got AA's parameters: %s", i+1, p)
		}
	}
}

func TestTuneResumes(t *testing.T) {
	params := map[string]any{"maximal_drop": 0.011, "tune_hyperparams": true}
	want := newFake()
	want.tune = mixedQuantile(0.05, 0.05)
	_, wantRep, err := run(t, want, params)
	if err != nil {
		t.Fatal(err)
	}
	// Save 1 is the start of the tuning (killed there, nothing is left
	// to resume), 2..19 its trials, 20 the ranked greedy search.
	for _, kill := range []int{1, 2, 7, 19, 20} {
		t.Run(fmt.Sprint("killed at save ", kill), func(t *testing.T) {
			h := newFake()
			h.tune = want.tune
			h.failSave = kill
			if _, _, err := run(t, h, params); err == nil {
				t.Fatal("the interrupted run did not fail")
			}
			h.failSave = 0
			_, rep, err := run(t, h, params)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := json.Marshal(rep.Trials)
			b, _ := json.Marshal(wantRep.Trials)
			if rep.Resumed != (kill > 1) || fmt.Sprint(rep.Reverted) != fmt.Sprint(wantRep.Reverted) || rep.FinalDrop != wantRep.FinalDrop || string(a) != string(b) {
				t.Errorf("resumed %v: reverted %v, drop %g, trials %s\nuninterrupted: reverted %v, drop %g, trials %s",
					rep.Resumed, rep.Reverted, rep.FinalDrop, a, wantRep.Reverted, wantRep.FinalDrop, b)
			}
		})
	}
}

func TestTuneOffReportsNoTrials(t *testing.T) {
	resp, err := Algorithm{}.Run(t.Context(), newFake(), runRequest(map[string]any{"maximal_drop": 0.011}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(resp.GetReport(), "tune_trials") || len(resp.GetSearch().GetTrials()) != 0 {
		t.Errorf("trials reported without tune_hyperparams: %s", resp.GetReport())
	}
	h := newFake()
	h.tune = mixedQuantile(0.05, 0.05)
	resp, err = Algorithm{}.Run(t.Context(), h, runRequest(map[string]any{"maximal_drop": 0.011, "tune_hyperparams": true}))
	if err != nil {
		t.Fatal(err)
	}
	trs := resp.GetSearch().GetTrials()
	if len(trs) != 19 || !trs[11].GetKept() || !trs[11].GetAdopted() || trs[11].GetParams() == "" {
		t.Errorf("typed trials: %v", trs)
	}
}

func runRequest(params map[string]any) *sdk.RunRequest {
	b, _ := json.Marshal(params)
	return &sdk.RunRequest{ModelID: "m1", Plan: &potv1.QuantizationPlan{}, Params: b,
		Target: &potv1.TargetDescription{Name: "cpu", Device: "CPU"}}
}
