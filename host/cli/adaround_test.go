package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/potgo/pot/internal/testenv"
)

// AdaRound after DefaultQuantization (a POT configuration chain) on LeNet
// with 4-bit weights for vpu: accuracy on the 10 000 test images at
// least DefaultQuantization's alone, and
// every layer's reconstruction error lower than with nearest rounding.
func TestQuantizeAdaRoundLeNet(t *testing.T) {
	dir := t.TempDir()
	data := testenv.Example("data", "mnist-calib.json")
	eval := testenv.Example("data", "mnist-test.json")
	model := testenv.Example("models", "lenet_mnist.onnx")
	stdout, stderr, code := pot(t, "quantize", "--model", model, "--data", data, "--eval-data", eval,
		"--target", "vpu", "--weight-bits", "4", "-o", filepath.Join(dir, "dq.onnx"), "--json")
	if code != 0 {
		t.Fatalf("DefaultQuantization: exit %d: %s", code, stderr)
	}
	var dq quantizeResult
	mustJSON(t, stdout, &dq)

	// The same DefaultQuantization as the command line's, then AdaRound.
	cfg := fmt.Sprintf(`{
  "model": {"model_name": "lenet_mnist", "model": %q},
  "engine": {"type": "simplified", "data_source": %q, "eval_data_source": %q},
  "compression": {"target_device": "VPU", "algorithms": [
    {"name": "DefaultQuantization", "params": {"preset": "performance", "stat_subset_size": 300, "shuffle_data": true, "seed": 0, "weights": {"bits": 4}}},
    {"name": "AdaRound", "params": {"iterations": 500}}]}
}`, model, data, eval)
	path := filepath.Join(dir, "adaround.json")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = pot(t, "quantize", "-c", path, "-e", "-d", "--output-dir", dir, "--json")
	if code != 0 {
		t.Fatalf("AdaRound: exit %d: %s", code, stderr)
	}
	var ada struct {
		quantizeResult
		Reports json.RawMessage `json:"reports"` // the last algorithm's
	}
	mustJSON(t, stdout, &ada)
	if dq.Metric == nil || ada.Metric == nil || ada.Metric.Samples != dq.Metric.Samples {
		t.Fatalf("metrics %+v and %+v", dq.Metric, ada.Metric)
	}
	t.Logf("top-1: float %.4f, DefaultQuantization %.4f, + AdaRound %.4f", dq.Metric.Float, dq.Metric.Quantized, ada.Metric.Quantized)
	if ada.Metric.Quantized < dq.Metric.Quantized {
		t.Errorf("AdaRound top-1 %.4f below DefaultQuantization's %.4f", ada.Metric.Quantized, dq.Metric.Quantized)
	}
	var rep struct {
		Layers []struct {
			Layer             string
			Nearest, AdaRound float64
		}
	}
	if err := json.Unmarshal(ada.Reports, &rep); err != nil || len(rep.Layers) != 4 {
		t.Fatalf("AdaRound report %s: %v; want the 4 layers of LeNet", ada.Reports, err)
	}
	for _, l := range rep.Layers {
		if !(l.AdaRound < l.Nearest) {
			t.Errorf("layer %s: error %g with AdaRound, %g nearest", l.Layer, l.AdaRound, l.Nearest)
		}
	}
}
