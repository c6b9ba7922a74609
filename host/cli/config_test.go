package cli

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/potgo/pot/host/report"
	"github.com/potgo/pot/host/report/htmlcheck"
	"github.com/potgo/pot/internal/testenv"
)

// writePNGs writes the first n MNIST calibration images as PNG files.
func writePNGs(t *testing.T, dir string, n int) {
	t.Helper()
	f, err := os.Open(testenv.Example("data", "mnist", "calib-1000-images-idx3-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(io.Discard, z, 16); err != nil { // IDX header
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		img := image.NewGray(image.Rect(0, 0, 28, 28))
		if _, err := io.ReadFull(z, img.Pix); err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dir, fmt.Sprintf("img%04d.png", i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(out, img); err != nil {
			t.Fatal(err)
		}
		out.Close()
	}
}

// TestSimplifiedConfigOnPNGFolder quantizes with a POT-style config whose
// simplified engine reads a folder of PNG images, into POT's results
// layout, and checks the model's accuracy.
func TestSimplifiedConfigOnPNGFolder(t *testing.T) {
	dir := t.TempDir()
	writePNGs(t, filepath.Join(dir, "images"), 200)
	cfg := filepath.Join(dir, "lenet_png.json")
	// POT's own layout, with comments and a trailing comma; the model path
	// is relative to the working folder, the data relative to the file.
	lenet, err := filepath.Rel(dir, testenv.Example("models", "lenet_mnist.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(cfg, []byte(`/* POT config */
{
  "model": {"model_name": "lenet_png", "model": "`+lenet+`", "weights": ""},
  "engine": {
    "type": "simplified",
    "data_source": "images", // PNG folder
    // MNIST normalization is not known to a bare folder: the model sees [0, 1] pixels
  },
  "compression": {
    "target_device": "ANY",
    "algorithms": [{"name": "DefaultQuantization", "params": {"preset": "performance", "stat_subset_size": 200}}],
  },
}`), 0o644)
	_, stderr, code := potBin(t, dir, "quantize", "-c", "lenet_png.json", "--output-dir", "out")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	found, _ := filepath.Glob(filepath.Join(dir, "out", "lenet_png_DefaultQuantization", "*", "optimized", "lenet_png.onnx"))
	if len(found) != 1 {
		t.Fatalf("results layout: found %v", found)
	}
	if !regexp.MustCompile(`/\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d/optimized/`).MatchString(found[0]) {
		t.Errorf("no date folder in %s", found[0])
	}
	// The quantized model keeps its accuracy on labelled data.
	stdout, stderr, code := potBin(t, dir, "eval", "--model", found[0], "--data", testenv.Example("data", "mnist-calib.json"), "--json")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	var ev evalResult
	mustJSON(t, stdout, &ev)
	if ev.Metric != "top1" || ev.Value < 0.97 {
		t.Errorf("quantized top-1 = %+v, want >= 0.97", ev)
	}
	// -d writes to OUTPUT-DIR/optimized without algorithm and date.
	stdout, stderr, code = potBin(t, dir, "quantize", "-c", "lenet_png.json", "--output-dir", "direct", "-d", "--json")
	if code != 0 {
		t.Fatalf("-d: exit %d: %s", code, stderr)
	}
	var res quantizeResult
	mustJSON(t, stdout, &res)
	if want := filepath.Join("direct", "optimized", "lenet_png.onnx"); res.Output != want {
		t.Errorf("-d output %q, want %q", res.Output, want)
	}
	if _, err := os.Stat(filepath.Join(dir, res.Output)); err != nil {
		t.Error(err)
	}
}

// TestExampleConfigs runs every shipped configuration as a user of a
// fresh clone would, from the repository root.
func TestExampleConfigs(t *testing.T) {
	configs, _ := filepath.Glob(testenv.Example("configs", "*.json"))
	if len(configs) < 4 {
		t.Fatalf("example configs: %v", configs)
	}
	for _, cfg := range configs {
		name := strings.TrimSuffix(filepath.Base(cfg), ".json")
		t.Run(name, func(t *testing.T) {
			if testing.Short() && !strings.HasPrefix(name, "lenet") && !strings.HasPrefix(name, "mlp") {
				t.Skip("large model; skipped with -short")
			}
			out := filepath.Join(t.TempDir(), name+".onnx")
			rel, _ := filepath.Rel(testenv.RepoRoot(), cfg)
			stdout, stderr, code := potBin(t, testenv.RepoRoot(), "quantize", "-c", rel, "-o", out, "--json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var res quantizeResult
			mustJSON(t, stdout, &res)
			if res.Quantizers == 0 || res.Output != out {
				t.Errorf("result %+v", res)
			}
			if strings.Contains(name, "accuracy_aware") && (res.Metric == nil || res.Metric.Drop > 0.002+1e-9) {
				t.Errorf("accuracy-aware run: metric %+v, want a drop within 0.002", res.Metric)
			}
			if _, err := os.Stat(out); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestReport writes a report from a real run and opens it in Chromium.
func TestReport(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := potBin(t, dir, "quantize", "-q", "accuracy_aware", "-m", testenv.Example("models", "lenet_mnist.onnx"),
		"--data", testenv.Example("data", "mnist-calib.json"), "--eval-data", testenv.Example("data", "mnist-calib.json"),
		"--max-drop", "0.001", "--report", "rep", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res quantizeResult
	mustJSON(t, stdout, &res)
	if !strings.HasPrefix(res.Output, filepath.Join("results", "lenet_mnist_AccuracyAwareQuantization")) {
		t.Errorf("quick mode output %q is not in POT's results layout", res.Output)
	}
	if res.Report != filepath.Join("rep", "report.html") {
		t.Errorf("report = %q", res.Report)
	}
	b, err := os.ReadFile(filepath.Join(dir, "rep", "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep report.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Metric == nil || rep.Metric.Name != "top1" || rep.Metric.Float != res.Metric.Float || !rep.Metric.HigherBetter {
		t.Errorf("report metric %+v, run metric %+v", rep.Metric, res.Metric)
	}
	if len(rep.Quantizers) != res.Quantizers || rep.ModelBytes <= rep.OutputBytes || rep.OutputBytes == 0 || rep.Target != "cpu" {
		t.Errorf("report summary: %d quantizers (run %d), sizes %d -> %d, target %q", len(rep.Quantizers), res.Quantizers, rep.ModelBytes, rep.OutputBytes, rep.Target)
	}
	if len(rep.Layers) < 8 || rep.Layers[0].Node != "/c1/Conv" || rep.Layers[0].SQNR < 25 || rep.LayerSamples != 32 {
		t.Errorf("layers: %d over %d samples, first %+v", len(rep.Layers), rep.LayerSamples, rep.Layers)
	}
	if rep.Trajectory == nil || rep.Trajectory.MaximalDrop == nil || *rep.Trajectory.MaximalDrop != 0.001 {
		t.Errorf("trajectory %+v, want the accuracy-aware report with max drop 0.001", rep.Trajectory)
	}
	browser := htmlcheck.Find()
	if browser == "" {
		t.Skip("no Chromium installed (apt-get install chromium); skipping the browser check of report.html")
	}
	page, err := htmlcheck.Load(context.Background(), browser, filepath.Join(dir, "rep", "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Console) > 0 {
		t.Errorf("console messages: %q", page.Console)
	}
	for _, want := range []string{`id="summary"`, `id="layers"`, `id="quantizers"`, `id="trajectory"`, "/c1/Conv"} {
		if !strings.Contains(page.DOM, want) {
			t.Errorf("rendered page lacks %s", want)
		}
	}
}

func TestAnalyze(t *testing.T) {
	stdout, stderr, code := potBin(t, t.TempDir(), "analyze", "--model", testenv.Example("models", "lenet_mnist.onnx"),
		"--data", testenv.Example("data", "mnist-calib.json"), "--samples", "8", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res analyzeResult
	mustJSON(t, stdout, &res)
	if res.Samples != 8 || len(res.Layers) != 10 || res.Layers[0].OpType != "Conv" || res.Layers[0].SQNR < 25 || res.Layers[0].Cosine < 0.99 {
		t.Errorf("analyze = %+v", res)
	}
}

func TestMetricFlag(t *testing.T) {
	lenet := testenv.Example("models", "lenet_mnist.onnx")
	calib := testenv.Example("data", "mnist-calib.json")
	values := map[string]float64{}
	for _, m := range []string{"top1", "top5", "agreement"} {
		stdout, stderr, code := potBin(t, t.TempDir(), "eval", "--model", lenet, "--data", calib, "--metric", m, "--json")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", m, code, stderr)
		}
		var ev evalResult
		mustJSON(t, stdout, &ev)
		if ev.Metric != m || ev.Samples != 1000 {
			t.Errorf("%s: %+v", m, ev)
		}
		values[m] = ev.Value
	}
	// The float model agrees with itself; top-5 is at least top-1.
	if values["agreement"] != 1 || values["top5"] < values["top1"] || values["top1"] < 0.97 {
		t.Errorf("metric values %v", values)
	}
	stdout, stderr, code := potBin(t, t.TempDir(), "quantize", "--model", lenet, "--data", calib, "--eval-data", calib,
		"--metric", "sqnr", "--subset", "100", "-o", filepath.Join(t.TempDir(), "q.onnx"), "--json")
	if code != 0 {
		t.Fatalf("sqnr: exit %d: %s", code, stderr)
	}
	var res quantizeResult
	mustJSON(t, stdout, &res)
	// SQNR of the float model against itself is the 200 dB cap; the
	// quantized logits are some 20-60 dB from it. The values are rounded
	// to six significant digits, the drop is their difference.
	if m := res.Metric; m == nil || m.Name != "sqnr" || m.Float != 200 || m.Quantized < 20 || m.Quantized > 60 || math.Abs(m.Drop-(m.Float-m.Quantized)) > 1e-9 {
		t.Errorf("sqnr metric %+v", res.Metric)
	}
}

// TestConfigMatchesCommandLine checks that a configuration and the command
// line that mean the same run write the same model, byte for byte, and
// that they differ only by which samples the subset takes: the command
// line draws them with seed 0, a configuration keeps POT's default of the
// first stat_subset_size samples unless shuffle_data is set.
func TestConfigMatchesCommandLine(t *testing.T) {
	dir := t.TempDir()
	cli := filepath.Join(dir, "cli.onnx")
	_, stderr, code := potBin(t, dir, "quantize", "--model", testenv.Example("models", "lenet_mnist.onnx"),
		"--data", testenv.Example("data", "mnist-calib.json"), "--target", "cpu", "--preset", "performance",
		"--subset", "300", "-o", cli)
	if code != 0 {
		t.Fatalf("command line: exit %d: %s", code, stderr)
	}
	want, err := os.ReadFile(cli)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		shuffle bool
		same    bool
	}{
		{shuffle: true, same: true},
		{shuffle: false, same: false},
	} {
		t.Run(fmt.Sprintf("shuffle_data=%v", tc.shuffle), func(t *testing.T) {
			cfg := filepath.Join(dir, fmt.Sprintf("shuffle_%v.json", tc.shuffle))
			os.WriteFile(cfg, []byte(fmt.Sprintf(`{
  "model": {"model_name": "lenet", "model": %q},
  "engine": {"type": "simplified", "data_source": %q},
  "compression": {"target_device": "CPU", "algorithms": [{"name": "DefaultQuantization",
    "params": {"preset": "performance", "stat_subset_size": 300, "shuffle_data": %v}}]}
}`, testenv.Example("models", "lenet_mnist.onnx"), testenv.Example("data", "mnist-calib.json"), tc.shuffle)), 0o644)
			out := filepath.Join(dir, fmt.Sprintf("cfg_%v.onnx", tc.shuffle))
			_, stderr, code := potBin(t, dir, "quantize", "-c", cfg, "-o", out)
			if code != 0 {
				t.Fatalf("config: exit %d: %s", code, stderr)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if same := string(got) == string(want); same != tc.same {
				t.Errorf("config model identical to the command line's: %v, want %v", same, tc.same)
			}
		})
	}
}
