package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/potgo/pot/internal/testenv"
)

// TestHostFollowsDescriptions: what pot does for an algorithm follows
// its description, not its name. Budget (capabilities) and OldSearch (a
// plugin of an older SDK: POT's parameter names in its schema, its search
// in the JSON report) are accuracy searches by other names: --max-drop and
// --workers go to their parameters, evaluation falls back to the
// calibration data and the result is measured, a lower-is-better metric
// is refused, and the search is lifted to the top of --json.
func TestHostFollowsDescriptions(t *testing.T) {
	extra := testPlugins(t, "pot-algorithm-Budget", "pot-algorithm-OldSearch")
	for _, tc := range []struct{ algo, budget, workers string }{
		{"Budget", "budget", "parallel"},
		{"OldSearch", "maximal_drop", "workers"},
	} {
		t.Run(tc.algo, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.onnx")
			stdout, stderr, code := potWith(t, extra, lenetArgs(out, "--algorithm", tc.algo, "--max-drop", "0.02", "--workers", "2", "--json")...)
			if code != 0 {
				t.Fatalf("exit status %d: %s", code, stderr)
			}
			var res struct {
				quantizeResult
				Reports struct {
					Own map[string]float64 `json:"own"`
				} `json:"reports"`
			}
			mustJSON(t, stdout, &res)
			if own := res.Reports.Own; len(own) != 2 || own[tc.budget] != 0.02 || own[tc.workers] != 2 {
				t.Errorf("the algorithm's own parameters %v, want %s 0.02 and %s 2", own, tc.budget, tc.workers)
			}
			if res.Metric == nil || res.Metric.Samples != 1000 {
				t.Errorf("metric %+v, want the result measured on the 1000 calibration samples", res.Metric)
			}
			if !slices.Equal(res.Reverted, []string{"/f1/Gemm"}) || res.DefaultDrop == nil || *res.DefaultDrop != 0.03 ||
				res.FinalDrop == nil || *res.FinalDrop != 0.01 || res.BudgetMet == nil || !*res.BudgetMet ||
				res.Iterations == nil || len(*res.Iterations) != 1 || (*res.Iterations)[0].Metric != 0.89 {
				t.Errorf("search not lifted: %s", stdout)
			}
			_, stderr, code = potWith(t, extra, lenetArgs(out, "--algorithm", tc.algo, "--metric", "mse")...)
			if code == 0 || !strings.Contains(stderr, "--metric mse is lower-is-better; "+tc.algo+" needs a metric where higher is better") {
				t.Errorf("lower-is-better metric: exit %d, %s", code, stderr)
			}
		})
	}
	// An algorithm that takes no budget refuses one.
	out := filepath.Join(t.TempDir(), "out.onnx")
	_, stderr, code := potWith(t, extra, lenetArgs(out, "--max-drop", "0.02")...)
	if code == 0 || !strings.Contains(stderr, "--max-drop applies to an algorithm that takes an accuracy budget") {
		t.Errorf("--max-drop with DefaultQuantization: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output written (%v)", err)
	}
}

// TestPassedOnParameters: a key passed on through
// AccuracyAwareQuantization to DefaultQuantization is checked against
// DefaultQuantization's schema; a mistyped key gets "did you mean" from
// the algorithm that owns the nearest key.
func TestPassedOnParameters(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "aa.json")
	conf := map[string]any{
		"model":  map[string]any{"model": testenv.Example("models", "lenet_mnist.onnx")},
		"engine": map[string]any{"type": "simplified", "data_source": testenv.Example("data", "mnist-calib.json")},
		"compression": map[string]any{"target_device": "CPU", "algorithms": []any{map[string]any{
			"name": "AccuracyAwareQuantization",
			"params": map[string]any{"maximal_dorp": 0.01, "presett": "performance", "stat_subset_size": "300",
				"weights": map[string]any{"bitz": 8}},
		}}},
	}
	b, _ := json.Marshal(conf)
	if err := os.WriteFile(cfg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := potWith(t, "", "quantize", "-c", cfg, "-o", filepath.Join(dir, "out.onnx"))
	if code == 0 {
		t.Fatal("exit status 0")
	}
	p := "compression.algorithms[0].params."
	for _, want := range []string{
		"4 problems",
		p + `maximal_dorp: unknown key; did you mean "maximal_drop"?`,
		p + `presett: unknown key; did you mean "preset" (a parameter of DefaultQuantization)?`,
		p + "stat_subset_size: is string, want integer",
		p + `weights.bitz: unknown key; did you mean "bits"?`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
}
