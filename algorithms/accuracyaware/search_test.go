package accuracyaware

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/plan"
)

// fakeHost simulates a model of independent layers: quantizing layer L
// costs full[L] of the metric on the full set and subset[L] on the
// ranking subset (defaulting to full[L]).
type fakeHost struct {
	sdk.Host     // unused methods panic
	layers       []string
	full, subset map[string]float64
	baseline     float64
	samples      int
	state        map[string][]byte
	failSave     int // fail the n-th SaveState (1-based), 0 never
	saves        int
	evaluations  int
	baseRuns     int
	// tune, when set, is the metric a plan gains from the base
	// parameters it was made with (on the full set or the subset); the
	// fake keeps them in the plan's preset field.
	tune      func(params map[string]any, subset bool) float64
	runParams []string
}

func (f *fakeHost) Graph(context.Context, string) (*potv1.Graph, error) {
	return &potv1.Graph{Name: "fake"}, nil
}

func (f *fakeHost) DataInfo(context.Context) (*potv1.DataInfoResponse, error) {
	return &potv1.DataInfoResponse{EvaluationSamples: int64(f.samples), CalibrationSamples: 10, Labelled: true}, nil
}

func (f *fakeHost) RunAlgorithm(_ context.Context, req *potv1.RunAlgorithmRequest) (*potv1.RunResponse, error) {
	f.baseRuns++
	f.runParams = append(f.runParams, req.GetParams())
	p := &potv1.QuantizationPlan{Preset: "performance"}
	if f.tune != nil {
		p.Preset = req.GetParams()
	}
	for _, l := range f.layers {
		p.Quantizers = append(p.Quantizers,
			&potv1.Quantizer{Id: "w:" + l, Weights: true, Consumers: []string{l}},
			&potv1.Quantizer{Id: "a:" + l, Consumers: []string{l}})
	}
	return &potv1.RunResponse{Plan: p}, nil
}

func (f *fakeHost) Evaluate(_ context.Context, req *potv1.HostEvaluateRequest) (*potv1.HostEvaluateResponse, error) {
	f.evaluations++
	v := f.baseline
	subset := len(req.GetIndices()) > 0
	if req.GetPlan() != nil {
		float := plan.FloatNodes(req.GetPlan())
		for _, l := range f.layers {
			if float[l] {
				continue
			}
			cost := f.full[l]
			if c, ok := f.subset[l]; ok && subset {
				cost = c
			}
			v -= cost
		}
		if f.tune != nil {
			m := map[string]any{}
			if err := json.Unmarshal([]byte(req.GetPlan().GetPreset()), &m); err != nil {
				return nil, err
			}
			v += f.tune(m, subset)
		}
	}
	n := f.samples
	if subset {
		n = len(req.GetIndices())
	}
	// Per-sample values: the first round(v·n) samples right.
	per := make([]float64, n)
	right := int(math.Round(v * float64(n)))
	for i := 0; i < right && i < n; i++ {
		per[i] = 1
	}
	r := &potv1.HostEvaluateResponse{Metric: "top1", Value: v, PerSample: per, Samples: int64(n)}
	if req.GetDistance() != "" {
		r.Distances = make([]float64, n)
	}
	return r, nil
}

func (f *fakeHost) Progress(context.Context, *potv1.ProgressRequest) error { return nil }

func (f *fakeHost) SaveState(_ context.Context, key string, b []byte) error {
	f.saves++
	if f.failSave > 0 && f.saves == f.failSave {
		return errors.New("killed")
	}
	f.state[key] = append([]byte(nil), b...)
	return nil
}

func (f *fakeHost) LoadState(_ context.Context, key string) ([]byte, bool, error) {
	b, ok := f.state[key]
	return b, ok, nil
}

func newFake() *fakeHost {
	return &fakeHost{
		layers:   []string{"a", "b", "c", "d"},
		full:     map[string]float64{"a": 0.05, "b": 0.01, "c": 0.002, "d": 0},
		subset:   map[string]float64{},
		baseline: 0.9,
		samples:  1000,
		state:    map[string][]byte{},
	}
}

func run(t *testing.T, h *fakeHost, params map[string]any) (*potv1.QuantizationPlan, *Report, error) {
	t.Helper()
	b, _ := json.Marshal(params)
	return Run(context.Background(), h, &sdk.RunRequest{ModelID: "m1", Plan: &potv1.QuantizationPlan{}, Params: b,
		Target: &potv1.TargetDescription{Name: "cpu", Device: "CPU"}})
}

func TestBudgetMetByDefault(t *testing.T) {
	h := newFake()
	_, rep, err := run(t, h, map[string]any{"maximal_drop": 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Reverted) != 0 || !rep.Met || len(rep.Iterations) != 0 {
		t.Errorf("report = %+v", rep)
	}
	// The float baseline and the default model: one evaluation beyond
	// DefaultQuantization's own.
	if h.evaluations != 2 || h.baseRuns != 1 {
		t.Errorf("%d evaluations and %d base runs, want 2 and 1", h.evaluations, h.baseRuns)
	}
}

func TestRevertsMostHarmfulFirst(t *testing.T) {
	h := newFake()
	p, rep, err := run(t, h, map[string]any{"maximal_drop": 0.011})
	if err != nil {
		t.Fatal(err)
	}
	// Default drop 0.062; reverting a leaves 0.012 > 0.011; then b: 0.002.
	if got := strings.Join(rep.Reverted, ","); got != "a,b" {
		t.Errorf("reverted %s, want a,b", got)
	}
	if !rep.Met || math.Abs(rep.DefaultDrop-0.062) > 1e-9 || math.Abs(rep.FinalDrop-0.002) > 1e-9 {
		t.Errorf("report = %+v", rep)
	}
	if len(rep.Iterations) != 2 || math.Abs(rep.Iterations[0].Drop-0.012) > 1e-9 {
		t.Errorf("iterations = %+v", rep.Iterations)
	}
	for _, q := range p.GetQuantizers() {
		if slices.Contains(q.GetConsumers(), "a") || slices.Contains(q.GetConsumers(), "b") {
			t.Errorf("quantizer %s of a reverted layer is still in the plan", q.GetId())
		}
	}
}

func TestStepBack(t *testing.T) {
	h := newFake()
	// The ranking subset says reverting e helps most, but on the full set
	// quantizing e helps: reverting it makes the drop grow.
	h.layers = append(h.layers, "e")
	h.full["e"] = -0.02
	h.subset["e"] = 0.5
	_, rep, err := run(t, h, map[string]any{"maximal_drop": 0.011})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Iterations) < 2 || rep.Iterations[0].Accepted || !rep.Iterations[0].Reranked || rep.Iterations[0].Reverted[0] != "e" {
		t.Fatalf("first iteration should try e, step back and re-rank: %+v", rep.Iterations)
	}
	if slices.Contains(rep.Reverted, "e") || !rep.Met {
		t.Errorf("report = %+v", rep)
	}
}

func TestResumeReachesSameResult(t *testing.T) {
	want := newFake()
	_, wantRep, err := run(t, want, map[string]any{"maximal_drop": 0.0015})
	if err != nil {
		t.Fatal(err)
	}
	for kill := 2; kill <= 4; kill++ {
		t.Run(fmt.Sprint("killed at save ", kill), func(t *testing.T) {
			h := newFake()
			h.failSave = kill
			if _, _, err := run(t, h, map[string]any{"maximal_drop": 0.0015}); err == nil {
				t.Fatal("the interrupted run did not fail")
			}
			h.failSave = 0
			_, rep, err := run(t, h, map[string]any{"maximal_drop": 0.0015})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Resumed || fmt.Sprint(rep.Reverted) != fmt.Sprint(wantRep.Reverted) || rep.FinalDrop != wantRep.FinalDrop {
				t.Errorf("resumed: %+v\nuninterrupted: %+v", rep, wantRep)
			}
		})
	}
	// A checkpoint of other parameters is refused.
	h := newFake()
	h.failSave = 3
	run(t, h, map[string]any{"maximal_drop": 0.0015})
	h.failSave = 0
	if _, _, err := run(t, h, map[string]any{"maximal_drop": 0.002}); err == nil || !strings.Contains(err.Error(), "another run") {
		t.Errorf("mismatched checkpoint: %v", err)
	}
}

func TestParams(t *testing.T) {
	for _, bad := range []string{`{"drop_type": "percent"}`, `{"maximal_drop": -1}`, `{"maximal_drop": "x"}`, `{"preset": "fast"}`} {
		if _, _, _, err := parse([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	p, base, _, err := parse([]byte(`{"maximal_drop": 0.005, "preset": "mixed", "stat_subset_size": 300}`))
	if err != nil || p.MaximalDrop != 0.005 || !p.UsePrevIfDropIncrease || strings.Contains(string(base), "maximal_drop") || !strings.Contains(string(base), "mixed") {
		t.Errorf("parse: %+v %s %v", p, base, err)
	}
}

func TestNaiveOrders(t *testing.T) {
	// In graph order (a, b, c, d) the search reverts a then b; the ranking
	// gets there too. In random order it may need more layers, never
	// fewer than the ranking.
	for _, order := range []string{"graph", "random"} {
		h := newFake()
		_, rep, err := run(t, h, map[string]any{"maximal_drop": 0.011, "revert_order": order})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Met || len(rep.Reverted) < 2 {
			t.Errorf("%s: %+v", order, rep)
		}
		// No ranking evaluations: the float model, the default model and
		// one per iteration.
		if h.evaluations != 2+len(rep.Iterations) {
			t.Errorf("%s: %d evaluations for %d iterations", order, h.evaluations, len(rep.Iterations))
		}
	}
}

func TestDropEqualToBudgetMeetsIt(t *testing.T) {
	h := newFake()
	h.baseline = 0.9204
	h.full = map[string]float64{"a": 0.0018, "b": 0.0036, "c": 0, "d": 0}
	// Reverting b leaves 0.9204 - 0.0018, whose difference from the
	// baseline is 0.0018000000000000238 in float64.
	_, rep, err := run(t, h, map[string]any{"maximal_drop": 0.0018})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Met || len(rep.Reverted) != 1 || rep.Reverted[0] != "b" {
		t.Errorf("report = %+v", rep)
	}
}

// TestPluginTypedResult: the plugin's answer carries the search typed
// (what the host reads) and the same figures in its JSON report (kept
// for the report's readers).
func TestPluginTypedResult(t *testing.T) {
	b, _ := json.Marshal(map[string]any{"maximal_drop": 0.011})
	resp, err := Algorithm{}.Run(context.Background(), newFake(), &sdk.RunRequest{ModelID: "m1", Plan: &potv1.QuantizationPlan{},
		Params: b, Target: &potv1.TargetDescription{Name: "cpu", Device: "CPU"}})
	if err != nil {
		t.Fatal(err)
	}
	s := resp.GetSearch()
	if s == nil {
		t.Fatal("no typed search result")
	}
	var js struct {
		Metric      string  `json:"metric"`
		Baseline    float64 `json:"baseline"`
		MaxDrop     float64 `json:"max_drop"`
		DefaultDrop float64 `json:"default_drop"`
		FinalDrop   float64 `json:"final_drop"`
		Final       float64 `json:"final_metric"`
		Met         bool    `json:"met"`
		Reverted    []string
		Iterations  []iteration
		Evaluations int64
	}
	if err := json.Unmarshal([]byte(resp.GetReport()), &js); err != nil {
		t.Fatal(err)
	}
	if s.GetMetric() != js.Metric || s.GetBaseline() != js.Baseline || s.GetMaxDrop() != js.MaxDrop || s.GetDefaultDrop() != js.DefaultDrop ||
		s.GetFinalDrop() != js.FinalDrop || s.GetFinalMetric() != js.Final || s.GetMet() != js.Met || s.GetEvaluations() != js.Evaluations ||
		!slices.Equal(s.GetReverted(), js.Reverted) || len(s.GetIterations()) != len(js.Iterations) {
		t.Fatalf("typed %v, report %s", s, resp.GetReport())
	}
	if fmt.Sprint(s.GetReverted()) != "[a b]" || !s.GetMet() || s.GetMaxDrop() != 0.011 {
		t.Errorf("typed %v", s)
	}
	for i, it := range s.GetIterations() {
		want := js.Iterations[i]
		if int(it.GetIteration()) != want.Iteration || !slices.Equal(it.GetReverted(), want.Reverted) || it.GetDrop() != want.Drop ||
			it.GetMetric() != want.Metric || it.GetAccepted() != want.Accepted || it.GetReranked() != want.Reranked {
			t.Errorf("iteration %d: typed %v, report %+v", i, it, want)
		}
	}
}
