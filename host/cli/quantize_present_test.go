package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/potgo/pot/host/pipeline"
	"github.com/potgo/pot/proto/potv1"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ with what the tests produce")

// golden compares got with the file testdata/NAME (rewriting it with
// -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -run %s -update rewrites it):\ngot\n%s\nwant\n%s", path, t.Name(), got, want)
	}
}

// lenetResult is the result of quantizing the example LeNet with the
// chain's last report and search (an accuracy-aware run), as
// newQuantizeResult makes it.
func lenetResult(algorithm string, search *potv1.SearchResult) *quantizeResult {
	plan := &potv1.QuantizationPlan{Preset: "performance", Quantizers: make([]*potv1.Quantizer, 14)}
	reports := []pipeline.StepReport{{Name: algorithm, Report: json.RawMessage(`{"evaluations":8}`), Search: search}}
	res := newQuantizeResult("results/lenet_int8.onnx", "cpu", algorithm, plan, nil, reports)
	res.Seconds = 2.345
	return res
}

func TestPresentQuantize(t *testing.T) {
	search := func(met bool, reverted ...string) *potv1.SearchResult {
		s := &potv1.SearchResult{Metric: "top1", Baseline: 0.988, MaxDrop: 0.005, DefaultDrop: 0.0123000001, FinalDrop: 0.0041, Met: met,
			Reverted: reverted, FinalMetric: 0.9839, Evaluations: 8}
		drops, metrics := []float64{0.0083, 0.0052, 0.0041}, []float64{0.9797, 0.9828, 0.9839}
		for i := range reverted {
			s.Iterations = append(s.Iterations, &potv1.SearchIteration{Iteration: int32(i + 1), Reverted: reverted[:i+1],
				Drop: drops[i], Metric: metrics[i], Accepted: true, Reranked: i == 1})
		}
		return s
	}
	top1 := &metricResult{Name: "top1", Float: 0.988, Quantized: 0.9839, Drop: 0.0041, Samples: 1000}
	tests := []struct {
		name string
		res  *quantizeResult
	}{
		{"default", lenetResult("DefaultQuantization", nil)},
		{"top1", with(lenetResult("DefaultQuantization", nil), func(r *quantizeResult) { r.Metric = top1 })},
		{"sqnr", with(lenetResult("DefaultQuantization", nil), func(r *quantizeResult) {
			r.Metric = &metricResult{Name: "sqnr", Float: 0, Quantized: 31.2468, Drop: 0, Samples: 300}
		})},
		{"agreement", with(lenetResult("DefaultQuantization", nil), func(r *quantizeResult) {
			r.Metric = &metricResult{Name: "agreement", Float: 1, Quantized: 0.9967, Drop: 0.0033, Samples: 300}
		})},
		{"accuracy_aware_met", with(lenetResult("AccuracyAwareQuantization", search(true, "/f1/Gemm", "/c2/Conv", "/f2/Gemm")), func(r *quantizeResult) {
			r.Metric, r.Report = top1, "results/report/report.html"
		})},
		{"accuracy_aware_not_met", with(lenetResult("AccuracyAwareQuantization", search(false)), func(r *quantizeResult) { r.Metric = top1 })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, out := range []struct {
				json bool
				ext  string
			}{{false, ".txt"}, {true, ".json"}} {
				var b bytes.Buffer
				if err := presentQuantize(&b, out.json, tc.res); err != nil {
					t.Fatal(err)
				}
				golden(t, filepath.Join("quantize", tc.name+out.ext), b.Bytes())
			}
		})
	}
}

func with(r *quantizeResult, change func(*quantizeResult)) *quantizeResult {
	change(r)
	return r
}

func TestUsedPreset(t *testing.T) {
	steps := []pipeline.Step{{Name: "A", Params: json.RawMessage(`{"preset":"mixed"}`)}, {Name: "B", Params: json.RawMessage(`{"seed":0}`)}}
	tests := []struct {
		name  string
		plan  *potv1.QuantizationPlan
		steps []pipeline.Step
		want  string
	}{
		{"the plan's", &potv1.QuantizationPlan{Preset: "accuracy"}, steps, "accuracy"},
		{"the last step's that has one", &potv1.QuantizationPlan{}, steps, "mixed"},
		{"none", nil, steps[1:], ""},
	}
	for _, tc := range tests {
		if got := usedPreset(tc.plan, tc.steps); got != tc.want {
			t.Errorf("%s: usedPreset = %q, want %q", tc.name, got, tc.want)
		}
	}
}
