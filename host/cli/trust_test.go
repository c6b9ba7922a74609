package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/potgo/pot/internal/testenv"
)

// testPlugins makes a plugin folder holding the test plugins of
// testdata/testplugins under the given names (pot-algorithm-BadPlan,
// pot-target-perfonly, ...), as hard links: the binary reads its name.
func testPlugins(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range names {
		if err := os.Link(filepath.Join(pluginDir, "testplugins"), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// potWith runs the command line with the built-in plugins and those of
// extra.
func potWith(t *testing.T, extra string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	t.Setenv("POT_PLUGIN_PATH", pluginDir+":"+extra)
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	var o, e bytes.Buffer
	code = Run(context.Background(), args, &o, &e)
	return o.String(), e.String(), code
}

// lenetArgs are the arguments of a quick LeNet quantization.
func lenetArgs(out string, more ...string) []string {
	return append([]string{"quantize", "--model", testenv.Example("models", "lenet_mnist.onnx"),
		"--data", testenv.Example("data", "mnist-calib.json"), "--subset", "50", "-o", out}, more...)
}

// TestInvalidPlanBlamesTheAlgorithm: an algorithm whose plan quantizes a
// tensor the model does not have fails the run before the plan reaches
// the target (also with evaluation data, where the target would be the
// first to trip over it), naming the algorithm and the problem, and no
// model is written.
func TestInvalidPlanBlamesTheAlgorithm(t *testing.T) {
	extra := testPlugins(t, "pot-algorithm-BadPlan")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"calibration only", nil},
		{"with evaluation data", []string{"--eval-data", testenv.Example("data", "mnist-calib.json")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out.onnx")
			stdout, stderr, code := potWith(t, extra, lenetArgs(out, append([]string{"--algorithm", "BadPlan"}, tc.args...)...)...)
			if code == 0 {
				t.Fatalf("exit status 0; stdout: %s", stdout)
			}
			want := `algorithm BadPlan returned an invalid plan: quantizer 8 on tensor "nope": no such tensor in the model`
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, stderr)
			}
			if strings.Contains(stderr, "target") {
				t.Errorf("stderr blames a target:\n%s", stderr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("files written: %v", entries)
			}
		})
	}
}
