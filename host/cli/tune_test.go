package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/potgo/pot/host/report"
	"github.com/potgo/pot/internal/testenv"
)

// tuneConfig is a POT configuration of the accuracy-aware search of
// aaArgs (LeNet, 2-bit weights on vpu, no drop accepted), with or
// without tune_hyperparams.
func tuneConfig(t *testing.T, dir string, tune bool) string {
	t.Helper()
	params := map[string]any{"preset": "performance", "stat_subset_size": 300, "shuffle_data": true, "seed": 0,
		"weights": map[string]any{"bits": 2}, "maximal_drop": 0}
	if tune {
		params["tune_hyperparams"] = true
		params["tune_hyperparams_trials"] = 8
	}
	cfg := map[string]any{
		"model": map[string]any{"model_name": "lenet_mnist", "model": testenv.Example("models", "lenet_mnist.onnx")},
		"engine": map[string]any{"type": "simplified", "data_source": testenv.Example("data", "mnist-calib.json"),
			"eval_data_source": testenv.Example("data", "mnist-calib.json")},
		"compression": map[string]any{"target_device": "VPU",
			"algorithms": []any{map[string]any{"name": "AccuracyAwareQuantization", "params": params}}},
	}
	b, _ := json.Marshal(cfg)
	path := filepath.Join(dir, map[bool]string{true: "tuned.json", false: "untuned.json"}[tune])
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTuneHyperparams: with tune_hyperparams the accuracy-aware search
// reports its trials (--json and report.json, report.html), starts from a
// plan no worse than DefaultQuantization's, and ends no worse than
// without tuning: its drop within the budget when the untuned one is,
// and no more layers in float.
func TestTuneHyperparams(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two accuracy-aware searches, one with eight extra quantizations")
	}
	dir := t.TempDir()
	type result struct {
		aaResult
		Trials []report.Trial `json:"tune_trials"`
	}
	var res [2]result
	for i, tune := range []bool{false, true} {
		rep := filepath.Join(dir, "report", map[bool]string{true: "tuned", false: "untuned"}[tune])
		stdout, stderr, code := potBin(t, dir, "quantize", "-c", tuneConfig(t, dir, tune), "--workers", "1", "--json",
			"-o", filepath.Join(dir, "out.onnx"), "--report", rep)
		if code != 0 {
			t.Fatalf("tune %v: exit %d: %s", tune, code, stderr)
		}
		mustJSON(t, stdout, &res[i])
		html, err := os.ReadFile(filepath.Join(rep, "report.html"))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(html), `<section id="tuning">`); got != tune {
			t.Errorf("tune %v: report.html has a trials table: %v", tune, got)
		}
	}
	off, on := res[0], res[1]
	if len(off.Trials) != 0 {
		t.Errorf("trials without tune_hyperparams: %+v", off.Trials)
	}
	if len(on.Trials) != 9 || on.Trials[0].Step != "reference" || on.Trials[0].Params != "{}" {
		t.Fatalf("trials %+v, want the reference and 8", on.Trials)
	}
	t.Logf("untuned: default drop %g, final %g, reverted %v", *off.DefaultDrop, *off.FinalDrop, off.Reverted)
	for _, tr := range on.Trials {
		t.Logf("trial %d %s %s: subset drop %.4f kept %v, full drop %.4f (measured %v) adopted %v",
			tr.Trial, tr.Step, tr.Params, tr.Drop, tr.Kept, tr.FullDrop, tr.FullMeasured, tr.Adopted)
	}
	t.Logf("tuned: default drop %g, final %g, reverted %v", *on.DefaultDrop, *on.FinalDrop, on.Reverted)
	if *on.DefaultDrop != *off.DefaultDrop {
		t.Errorf("default drop %g with tuning, %g without: the base quantization differs", *on.DefaultDrop, *off.DefaultDrop)
	}
	for _, tr := range on.Trials {
		if tr.Adopted && tr.FullDrop >= *on.DefaultDrop {
			t.Errorf("trial %d adopted with full drop %g, not below the default %g", tr.Trial, tr.FullDrop, *on.DefaultDrop)
		}
	}
	if (*off.FinalDrop <= 0 && *on.FinalDrop > 0) || len(on.Reverted) > len(off.Reverted) {
		t.Errorf("tuned: drop %g with %d layers in float; untuned: drop %g with %d", *on.FinalDrop, len(on.Reverted), *off.FinalDrop, len(off.Reverted))
	}
}
