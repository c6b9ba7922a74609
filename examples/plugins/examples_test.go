// Package plugins_test runs the example plugins of examples/plugins with
// pot: the Go algorithm in its own module (mse-ranges), the vendor target
// in its own module (npu) and the Python algorithm (python).
package plugins_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/sdk/plugintest"
)

// bin holds pot, the cpu target and the built-in algorithms, built once.
var bin string

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, &bin, "./host/cmd/pot", "./targets/cmd/pot-target-cpu", "./algorithms/cmd/..."))
}

type result struct {
	Quantizers int `json:"quantizers"`
	Metric     struct {
		Quantized float64 `json:"quantized"`
		Drop      float64 `json:"drop"`
	} `json:"metric"`
	Reports json.RawMessage `json:"reports"`
}

// quantize runs pot quantize on LeNet with the plugins of pluginDir found
// through --plugin-path.
func quantize(t *testing.T, pluginDir, algorithm string) *result {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.onnx")
	cmd := exec.Command(filepath.Join(bin, "pot"), "quantize", "--plugin-path", pluginDir, "--algorithm", algorithm,
		"--model", testenv.Example("models", "lenet_mnist.onnx"), "--data", testenv.Example("data", "mnist-calib.json"),
		"--eval-data", testenv.Example("data", "mnist-calib.json"), "--subset", "300", "-o", out, "--json", "--log-level", "info")
	cmd.Env = append(os.Environ(), "POT_PLUGIN_PATH=", "POT_PLUGIN_LOCK=", "XDG_DATA_HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("pot quantize --algorithm %s: %v\n%s", algorithm, err, stderr.String())
	}
	var r result
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("%v: %s", err, stdout.String())
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("no output model: %v", err)
	}
	t.Logf("%s: %d quantizers, top-1 %.4f (drop %.4f)", algorithm, r.Quantizers, r.Metric.Quantized, r.Metric.Drop)
	if _, err := os.Stat(filepath.Join(pluginDir, "pot-algorithm-"+algorithm)); err == nil &&
		!strings.Contains(stderr.String(), "[INFO]  pot.pot-algorithm-"+algorithm+": ") {
		t.Errorf("the plugin's log lines are not shown under its name:\n%s", stderr.String())
	}
	return &r
}

// The Go example, built in its own module against sdk alone, is found
// through --plugin-path and run by pot; its ranges keep LeNet's accuracy
// as MinMaxQuantization's do.
func TestMSERangesPlugin(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "pot-algorithm-MSERanges"), ".")
	cmd.Dir = testenv.Example("plugins", "mse-ranges")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the example module: %v\n%s", err, out)
	}
	mse := quantize(t, dir, "MSERanges")
	minmax := quantize(t, dir, "MinMaxQuantization")
	if mse.Quantizers != minmax.Quantizers {
		t.Errorf("%d quantizers, MinMaxQuantization places %d", mse.Quantizers, minmax.Quantizers)
	}
	var rep struct {
		Samples    int `json:"samples"`
		Quantizers []struct {
			Ratio  float64 `json:"ratio"`
			MinMax float64 `json:"mse_minmax"`
			MSE    float64 `json:"mse"`
		} `json:"quantizers"`
	}
	if err := json.Unmarshal(mse.Reports, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Samples != 300 || len(rep.Quantizers) != 4 {
		t.Errorf("report %s", mse.Reports)
	}
	for _, q := range rep.Quantizers {
		if q.MSE > q.MinMax || q.MinMax <= 0 || q.Ratio <= 0 {
			t.Errorf("quantizer %+v: the search made the MSE worse", q)
		}
	}
	if mse.Metric.Drop > minmax.Metric.Drop+0.005 {
		t.Errorf("top-1 drop %.4f with MSE ranges, %.4f with min/max", mse.Metric.Drop, minmax.Metric.Drop)
	}
}

// pythonPackages are the Debian packages the Python plugin needs.
const pythonPackages = "python3-grpcio python3-protobuf python3-grpc-tools"

// The Python example plugin: pot discovers it, handshakes with it over
// go-plugin, runs it (its Run calls back into pot's Host service through
// the go-plugin broker: graph, MinMaxQuantization, statistics, progress),
// and it passes the conformance kit.
func TestPythonPlugin(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import grpc, google.protobuf, grpc_tools").Run(); err != nil {
		t.Skipf("/usr/bin/python3 with gRPC is not available (%v): install the Debian packages %s", err, pythonPackages)
	}
	dir := t.TempDir()
	src := testenv.Example("plugins", "python")
	for _, f := range []string{"pot-algorithm-PyPercentile", "potplugin.py"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command(filepath.Join(src, "gen.sh"), filepath.Join(dir, "gen")).CombinedOutput(); err != nil {
		t.Fatalf("gen.sh: %v\n%s", err, out)
	}
	r := quantize(t, dir, "PyPercentile")
	var rep struct {
		Language   string `json:"language"`
		GraphNodes int    `json:"graph_nodes"`
		Bytes      int    `json:"initializer_bytes"`
		Samples    int    `json:"calibration_samples"`
		Quantizers []struct {
			Ratio float64 `json:"ratio"`
		} `json:"quantizers"`
	}
	if err := json.Unmarshal(r.Reports, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Language != "python" || rep.GraphNodes != 10 || rep.Bytes < 400000 || rep.Samples != 1000 || len(rep.Quantizers) != 4 || r.Quantizers != 8 {
		t.Errorf("report %s, %d quantizers", r.Reports, r.Quantizers)
	}
	for _, q := range rep.Quantizers {
		if q.Ratio <= 0 || q.Ratio > 1 {
			t.Errorf("ratio %g", q.Ratio)
		}
	}
	if r.Metric.Drop > 0.01 {
		t.Errorf("top-1 drop %.4f", r.Metric.Drop)
	}
	t.Run("conformance", func(t *testing.T) {
		plugintest.TestAlgorithmBinary(t, filepath.Join(dir, "pot-algorithm-PyPercentile"),
			plugintest.WithTargetBinary(filepath.Join(bin, "pot-target-cpu")), plugintest.WithPluginDir(bin))
	})
}
