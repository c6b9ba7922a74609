package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/sdk/onnx"
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

// AccuracyAwareQuantization with base_algorithm AdaRound (a POT
// configuration; AdaRound's own parameters pass through AA) on LeNet,
// 4-bit weights for vpu, with a budget of 0 and one iteration at most:
// the search reverts one layer, whose weights in the output are the float
// model's again (not AdaRound's learned ones), and report.html shows
// AdaRound's per-layer table.
func TestAccuracyAwareAdaRound(t *testing.T) {
	dir := t.TempDir()
	data := testenv.Example("data", "mnist-calib.json")
	eval := testenv.Example("data", "mnist-test.json")
	model := testenv.Example("models", "lenet_mnist.onnx")
	cfg := fmt.Sprintf(`{
  "model": {"model_name": "lenet_mnist", "model": %q},
  "engine": {"type": "simplified", "data_source": %q, "eval_data_source": %q},
  "compression": {"target_device": "VPU", "algorithms": [
    {"name": "AccuracyAwareQuantization", "params": {"base_algorithm": "AdaRound", "maximal_drop": 0, "max_iter_num": 1,
      "ranking_subset_size": 100, "preset": "performance", "stat_subset_size": 300, "weights": {"bits": 4}, "iterations": 100}}]}
}`, model, data, eval)
	path := filepath.Join(dir, "aa_adaround.json")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := pot(t, "quantize", "-c", path, "-e", "-d", "--output-dir", dir, "--report", filepath.Join(dir, "report"), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res quantizeResult
	mustJSON(t, stdout, &res)
	if res.Metric == nil || res.DefaultDrop == nil || res.Iterations == nil {
		t.Fatalf("result %s", stdout)
	}
	t.Logf("top-1: float %.4f, AA+AdaRound %.4f; default drop %.4f, reverted %v", res.Metric.Float, res.Metric.Quantized, *res.DefaultDrop, res.Reverted)
	if *res.DefaultDrop <= 0 {
		t.Skipf("AdaRound's plan does not drop (%.4f): nothing to revert", *res.DefaultDrop)
	}
	if len(*res.Iterations) != 1 || len(res.Reverted) == 0 {
		t.Fatalf("iterations %+v, reverted %v: want one iteration that reverts a layer", *res.Iterations, res.Reverted)
	}

	// The reverted layers' weights are the float model's.
	in, err := onnx.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	out, err := onnx.ReadFile(res.Output)
	if err != nil {
		t.Fatal(err)
	}
	inits := func(m *onnxpb.ModelProto) map[string]*onnxpb.TensorProto {
		r := map[string]*onnxpb.TensorProto{}
		for _, t := range m.GetGraph().GetInitializer() {
			r[t.GetName()] = t
		}
		return r
	}
	before, after := inits(in), inits(out)
	reverted := map[string]bool{}
	for _, n := range res.Reverted {
		reverted[n] = true
	}
	learned := 0 // layers whose weights differ from the float model's
	for _, n := range in.GetGraph().GetNode() {
		if len(n.GetInput()) < 2 || before[n.GetInput()[1]] == nil {
			continue
		}
		w := n.GetInput()[1]
		a, ok := after[w]
		same := ok && proto.Equal(a, before[w])
		if reverted[n.GetName()] && !same {
			t.Errorf("reverted layer %s: weights %s are not the float model's", n.GetName(), w)
		}
		if !same {
			learned++
		}
	}
	if learned == 0 {
		t.Error("no layer keeps quantized weights")
	}

	// report.html shows AdaRound's table, a row per layer.
	html, err := os.ReadFile(filepath.Join(dir, "report", "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), "AdaRound: per-layer reconstruction error</h3>") {
		t.Error("report.html has no AdaRound table")
	}
	for _, layer := range []string{"/c1/Conv", "/c2/Conv", "/f1/Gemm", "/f2/Gemm"} {
		if !strings.Contains(string(html), "<tr><td>"+layer+"</td><td class=\"num\">") {
			t.Errorf("report.html: no AdaRound row for %s", layer)
		}
	}
}
