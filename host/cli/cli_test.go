package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/sdk/onnx"
)

// pluginDir holds the pot binary and the built-in plugins, built once for
// the package's tests.
var pluginDir string

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, &pluginDir, "./host/cmd/pot", "./targets/cmd/...", "./algorithms/cmd/...", "./host/cli/testdata/testplugins"))
}

// pot runs the command line in-process with the test plugins.
func pot(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	t.Setenv("POT_PLUGIN_PATH", pluginDir)
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("POT_PLUGIN_LOCK", "")
	var o, e bytes.Buffer
	code = Run(context.Background(), args, &o, &e)
	return o.String(), e.String(), code
}

func TestQuantizeLeNet(t *testing.T) {
	out := filepath.Join(t.TempDir(), "lenet_int8.onnx")
	// The calibration file has labels: use it as evaluation data too, to
	// keep the test quick.
	stdout, stderr, code := pot(t, "quantize", "--model", testenv.Example("models", "lenet_mnist.onnx"),
		"--data", testenv.Example("data", "mnist-calib.json"), "--eval-data", testenv.Example("data", "mnist-calib.json"),
		"--target", "cpu", "--subset", "300", "-o", out, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res quantizeResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout)
	}
	if res.Output != out || res.Target != "cpu" || res.Preset != "performance" || res.Quantizers == 0 || res.Seconds <= 0 {
		t.Errorf("result = %+v", res)
	}
	m := res.Metric
	if m == nil || m.Name != "top1" || m.Samples != 1000 {
		t.Fatalf("metric = %+v", m)
	}
	if m.Float < 0.97 || m.Drop > 0.01 {
		t.Errorf("float top-1 %.4f, drop %.4f: want >= 0.97 and <= 0.01", m.Float, m.Drop)
	}
	model, err := onnx.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	q, dq := 0, 0
	for _, n := range model.GetGraph().GetNode() {
		switch n.GetOpType() {
		case "QuantizeLinear":
			q++
		case "DequantizeLinear":
			dq++
		}
	}
	if q == 0 || dq <= q {
		t.Errorf("output has %d QuantizeLinear and %d DequantizeLinear nodes", q, dq)
	}
	// The written QDQ model scores like the simulation that produced it.
	stdout, stderr, code = pot(t, "eval", "--model", out, "--data", testenv.Example("data", "mnist-calib.json"), "--json")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	var ev evalResult
	if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Metric != "top1" || ev.Samples != 1000 || diff(ev.Value, m.Quantized) > 0.002 {
		t.Errorf("eval of the QDQ file: %+v; quantize reported %.4f", ev, m.Quantized)
	}
}

func diff(a, b float64) float64 {
	if a > b {
		return a - b
	}
	return b - a
}

func TestQuantizeFailureWritesNothing(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.onnx")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing target", []string{"--target", "nosuch"}, `target plugin "nosuch" not found`},
		{"missing algorithm", []string{"--algorithm", "NoSuchAlgorithm"}, `algorithm plugin "NoSuchAlgorithm" not found`},
		{"missing model", []string{"--model", filepath.Join(dir, "none.onnx")}, "none.onnx"},
		{"missing data", []string{"--data", filepath.Join(dir, "none.json")}, "none.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"quantize", "--model", testenv.Example("models", "lenet_mnist.onnx"),
				"--data", testenv.Example("data", "mnist-calib.json"), "--subset", "50", "-o", out}
			args = append(args, tc.args...)
			_, stderr, code := pot(t, args...)
			if code == 0 {
				t.Fatal("exit status 0")
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q does not mention %q", stderr, tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("output file written (stat: %v)", err)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 0 {
				t.Errorf("left files behind: %v", entries)
			}
		})
	}
}

func TestPluginsListAndVersion(t *testing.T) {
	stdout, stderr, code := pot(t, "plugins", "list", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rows []map[string]string
	if err := json.Unmarshal([]byte(stdout), &rows); err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, r := range rows {
		if r["version"] == "" || r["path"] == "" {
			t.Errorf("row without version or path: %v", r)
		}
		found[r["kind"]+"/"+r["name"]] = true
	}
	for _, want := range []string{"target/cpu", "algorithm/DefaultQuantization", "algorithm/MinMaxQuantization"} {
		if !found[want] {
			t.Errorf("plugins list lacks %s: %v", want, rows)
		}
	}
	stdout, _, code = pot(t, "version", "--json")
	if code != 0 || !strings.Contains(stdout, `"protocol":1`) {
		t.Errorf("version: %d %s", code, stdout)
	}
}

// `pot plugins describe` wants KIND NAME; given a name alone, it says
// which command to run.
func TestDescribeNeedsKind(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"name alone", []string{"DefaultQuantization"}, "`pot plugins describe algorithm DefaultQuantization`"},
		{"name in other case", []string{"CPU"}, "`pot plugins describe target cpu`"},
		{"unknown name", []string{"NoSuchPlugin"}, `no plugin is named "NoSuchPlugin"`},
		{"kind alone", []string{"target"}, "e.g. `pot plugins describe target cpu`"},
		{"nothing", nil, "needs KIND NAME, KIND being target or algorithm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := pot(t, append([]string{"plugins", "describe"}, tc.args...)...)
			if code != 1 || stdout != "" {
				t.Fatalf("exit %d, stdout %q", code, stdout)
			}
			if !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr %q: want one line with %q", stderr, tc.want)
			}
		})
	}
}
