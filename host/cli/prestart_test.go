package cli

import (
	"regexp"
	"strings"
	"testing"

	"github.com/potgo/pot/internal/testenv"
)

// TestChainPluginsStartAhead quantizes LeNet with DefaultQuantization:
// its description names its chain (AlgorithmCapabilities.runs), so the
// host starts ActivationChannelAlignment's, MinMaxQuantization's and
// FastBiasCorrection's plugins while it starts the target and loads the
// model, not when DefaultQuantization calls them; each starts once, and
// the model is written.
func TestChainPluginsStartAhead(t *testing.T) {
	dir := t.TempDir()
	_, stderr, code := potBin(t, dir, "--log-level", "debug", "--progress-bar=false", "quantize",
		"-m", testenv.Example("models", "lenet_mnist.onnx"), "--data", testenv.Example("data", "mnist-calib.json"),
		"--subset", "64", "-o", "lenet_int8.onnx")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	starts := map[string]int{}
	order := map[string]int{}
	start := regexp.MustCompile(`starting plugin: path=\S*pot-algorithm-(\w+)`)
	for i, line := range strings.Split(stderr, "\n") {
		if m := start.FindStringSubmatch(line); m != nil {
			starts[m[1]]++
			order["start "+m[1]] = i
		}
		if strings.Contains(line, "running algorithm: name=ActivationChannelAlignment") {
			order["run ActivationChannelAlignment"] = i
		}
		if strings.Contains(line, "model loaded") {
			order["model loaded"] = i
		}
	}
	for _, a := range []string{"DefaultQuantization", "ActivationChannelAlignment", "MinMaxQuantization", "FastBiasCorrection"} {
		if starts[a] != 1 {
			t.Errorf("%s started %d times, want once", a, starts[a])
		}
	}
	run, ok := order["run ActivationChannelAlignment"]
	if !ok {
		t.Fatalf("no ActivationChannelAlignment run logged:\n%s", stderr)
	}
	loaded, ok := order["model loaded"]
	if !ok {
		t.Fatalf("no model load logged:\n%s", stderr)
	}
	for _, a := range []string{"ActivationChannelAlignment", "MinMaxQuantization", "FastBiasCorrection"} {
		if order["start "+a] > loaded || order["start "+a] > run {
			t.Errorf("%s started after the model was loaded, not ahead", a)
		}
	}
}
