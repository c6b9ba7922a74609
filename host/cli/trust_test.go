package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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

// TestPresetsFollowTheTarget: the host resolves the preset against the
// presets the target publishes, from --preset and from a configuration:
// a preset the target lacks is mapped as POT maps it (mixed runs as
// accuracy where the target publishes accuracy but not mixed) and the
// preset reported is the one used; one it lacks with no mapping is
// refused before any model is written, naming what it publishes.
func TestPresetsFollowTheTarget(t *testing.T) {
	extra := testPlugins(t, "pot-target-perfonly", "pot-target-nomixed")
	config := func(t *testing.T, target, preset string) string {
		path := filepath.Join(t.TempDir(), "pot.json")
		src := fmt.Sprintf(`{
  "model": {"model_name": "lenet", "model": %q},
  "engine": {"type": "simplified", "data_source": %q},
  "compression": {"target_device": %q, "algorithms": [{"name": "DefaultQuantization",
    "params": {"preset": %q, "stat_subset_size": 50}}]}
}`, testenv.Example("models", "lenet_mnist.onnx"), testenv.Example("data", "mnist-calib.json"), target, preset)
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name   string
		args   func(t *testing.T, out string) []string
		preset string // the preset used; "" when refused
		err    string
	}{
		{"flag, not published", func(t *testing.T, out string) []string {
			return lenetArgs(out, "--target", "perfonly", "--preset", "mixed")
		}, "", `preset "mixed" is not published by target "perfonly"; it publishes: performance`},
		{"flag, accuracy without mixed to fall back to", func(t *testing.T, out string) []string {
			return lenetArgs(out, "--target", "perfonly", "--preset", "accuracy")
		}, "", `preset "accuracy" is not published by target "perfonly"; it publishes: performance`},
		{"config, not published", func(t *testing.T, out string) []string {
			return []string{"quantize", "-c", config(t, "perfonly", "mixed"), "-o", out}
		}, "", `compression.algorithms[0].params.preset: preset "mixed" is not published by target "perfonly"; it publishes: performance`},
		{"flag, alias of a published preset", func(t *testing.T, out string) []string {
			return lenetArgs(out, "--target", "perfonly", "--preset", "Symmetric")
		}, "performance", ""},
		{"flag, mixed runs as accuracy", func(t *testing.T, out string) []string {
			return lenetArgs(out, "--target", "nomixed", "--preset", "mixed")
		}, "accuracy", ""},
		{"config, mixed runs as accuracy", func(t *testing.T, out string) []string {
			return []string{"quantize", "-c", config(t, "nomixed", "mixed"), "-o", out}
		}, "accuracy", ""},
		{"flag, accuracy runs as mixed on cpu", func(t *testing.T, out string) []string {
			return lenetArgs(out, "--target", "cpu", "--preset", "accuracy")
		}, "mixed", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out.onnx")
			stdout, stderr, code := potWith(t, extra, append(tc.args(t, out), "--json")...)
			if tc.preset == "" {
				if code == 0 {
					t.Fatalf("exit status 0; stdout: %s", stdout)
				}
				if !strings.Contains(stderr, tc.err) {
					t.Errorf("stderr does not say %q:\n%s", tc.err, stderr)
				}
				if entries, _ := os.ReadDir(dir); len(entries) != 0 {
					t.Errorf("files written: %v", entries)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var res quantizeResult
			if err := json.Unmarshal([]byte(stdout), &res); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
			}
			var reports struct {
				Reports struct {
					MinMax struct {
						Preset string `json:"preset"`
					} `json:"MinMaxQuantization"`
				} `json:"reports"`
			}
			if err := json.Unmarshal(res.Reports, &reports); err != nil {
				t.Fatal(err)
			}
			if res.Preset != tc.preset || reports.Reports.MinMax.Preset != tc.preset {
				t.Errorf("preset reported %q, MinMaxQuantization used %q; want %q", res.Preset, reports.Reports.MinMax.Preset, tc.preset)
			}
		})
	}
}

// TestHardwareConfigFile: a POT user's hardware config (POT's cpu.json,
// OpenVINO operation names) given with --hw-config or engine.hw_config
// replaces the target's and quantizes LeNet exactly as the built-in cpu
// config does; a config that quantizes less changes the model; a
// misspelt operation type and a 9-bit alias are refused before anything
// is written.
func TestHardwareConfigFile(t *testing.T) {
	potCPU := filepath.Join(testenv.RepoRoot(), "sdk", "hwconfig", "testdata", "pot_cpu.json")
	src, err := os.ReadFile(potCPU)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	variant := func(name string, edit func(doc map[string]any)) string {
		var doc map[string]any
		if err := json.Unmarshal(src, &doc); err != nil {
			t.Fatal(err)
		}
		edit(doc)
		b, _ := json.Marshal(doc)
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	ops := func(doc map[string]any) []any { return doc["operations"].([]any) }
	noConv := variant("no_conv.json", func(doc map[string]any) {
		doc["operations"] = slices.DeleteFunc(ops(doc), func(op any) bool { return op.(map[string]any)["type"] == "Convolution" })
	})
	typo := variant("typo.json", func(doc map[string]any) { ops(doc)[0].(map[string]any)["type"] = "Convolutionn" })
	nineBits := variant("nine.json", func(doc map[string]any) {
		doc["config"].(map[string]any)["quantization"].(map[string]any)["q8_a"].(map[string]any)["bits"] = 9
	})
	// A configuration naming the hardware config relative to itself.
	if err := os.WriteFile(filepath.Join(dir, "cpu_pot.json"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	potConfig := func(name, hw string) string {
		engine := fmt.Sprintf(`"type": "simplified", "data_source": %q`, testenv.Example("data", "mnist-calib.json"))
		if hw != "" {
			engine += fmt.Sprintf(`, "hw_config": %q`, hw)
		}
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(fmt.Sprintf(`{
  "model": {"model_name": "lenet", "model": %q},
  "engine": {%s},
  "compression": {"target_device": "CPU", "algorithms": [{"name": "DefaultQuantization",
    "params": {"preset": "performance", "stat_subset_size": 50, "shuffle_data": true}}]}
}`, testenv.Example("models", "lenet_mnist.onnx"), engine)), 0o644)
		return path
	}
	lenet := func(more ...string) []string {
		return append([]string{"quantize", "--model", testenv.Example("models", "lenet_mnist.onnx"),
			"--data", testenv.Example("data", "mnist-calib.json"), "--subset", "50"}, more...)
	}
	quantize := func(t *testing.T, args ...string) (string, []byte) {
		t.Helper()
		out := filepath.Join(t.TempDir(), "out.onnx")
		_, stderr, code := pot(t, append(args, "-o", out)...)
		b, _ := os.ReadFile(out)
		if code != 0 {
			return stderr, nil
		}
		return stderr, b
	}
	_, builtin := quantize(t, lenet()...)
	_, builtinCfg := quantize(t, "quantize", "-c", potConfig("plain.json", ""))
	if builtin == nil || builtinCfg == nil {
		t.Fatal("the built-in config does not quantize LeNet")
	}
	tests := []struct {
		name  string
		args  []string
		want  []byte // the model; nil: refused
		stder string // in stderr
	}{
		{"--hw-config POT's cpu.json", lenet("--hw-config", potCPU), builtin, ""},
		{"engine.hw_config POT's cpu.json", []string{"quantize", "-c", potConfig("with_hw.json", "cpu_pot.json")}, builtinCfg, ""},
		{"-c with --hw-config", []string{"quantize", "-c", potConfig("plain2.json", ""), "--hw-config", potCPU}, builtinCfg, ""},
		{"misspelt type", lenet("--hw-config", typo), nil,
			`unknown operation type "Convolutionn" (neither an ONNX operator nor an OpenVINO one pot maps); did you mean "Convolution"?`},
		{"misspelt type in engine.hw_config", []string{"quantize", "-c", potConfig("typo_cfg.json", typo)}, nil,
			`engine.hw_config ` + typo + `: operation 0: unknown operation type "Convolutionn"`},
		{"9 bits", lenet("--hw-config", nineBits), nil, "alias q8_a: bits 9: want 2 to 8, 16 or 32 bits"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stderr, got := quantize(t, tc.args...)
			switch {
			case tc.want == nil && got != nil:
				t.Fatal("refused config accepted: a model was written")
			case tc.want == nil && !strings.Contains(stderr, tc.stder):
				t.Errorf("stderr does not say %q:\n%s", tc.stder, stderr)
			case tc.want != nil && got == nil:
				t.Fatalf("failed: %s", stderr)
			case tc.want != nil && !bytes.Equal(got, tc.want):
				t.Error("the model differs from the built-in config's")
			}
		})
	}
	// The file is used, not ignored: without Convolution the convolutions
	// stay float.
	if _, got := quantize(t, lenet("--hw-config", noConv)...); got == nil || bytes.Equal(got, builtin) {
		t.Error("a config without Convolution gives the built-in config's model (or none)")
	}
}
