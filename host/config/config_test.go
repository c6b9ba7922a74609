package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/potgo/pot/host/dataset"
	"github.com/potgo/pot/host/feed"
	"github.com/potgo/pot/proto/potv1"
)

const potConfig = `/* A POT configuration, as POT users write them. */
{
  "model": {
    "model_name": "lenet", // output name
    "model": "lenet.onnx",
    "weights": "lenet.bin",
  },
  "engine": {
    "type": "simplified",
    "data_source": "images",
    "layout": "NCHW",
    "device": "CPU"
  },
  "compression": {
    "target_device": "ANY",
    "model_type": "None",
    "inplase_statistics": false,
    "algorithms": [
      {
        "name": "DefaultQuantization",
        "params": {"preset": "performance", "stat_subset_size": 300}
      }
    ]
  }
}`

// TestParseIRModel checks an OpenVINO IR in model.model with its
// weights in model.weights.
func TestParseIRModel(t *testing.T) {
	dir := t.TempDir()
	cfg, err := Parse([]byte(`{"model": {"model": "m.xml", "weights": "w/m.bin"}, "engine": {"data_source": "d"},
		"compression": {"algorithms": [{"name": "DefaultQuantization"}]}}`), "pot.json", dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Model.Path != filepath.Join(dir, "m.xml") || cfg.Model.Weights != filepath.Join(dir, "w", "m.bin") || len(cfg.Warnings) != 0 {
		t.Errorf("model %+v, warnings %q", cfg.Model, cfg.Warnings)
	}
}

func TestParsePOTConfig(t *testing.T) {
	dir := t.TempDir()
	cfg, err := Parse([]byte(potConfig), "pot.json", dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Model.Name != "lenet" || cfg.Model.Path != filepath.Join(dir, "lenet.onnx") {
		t.Errorf("model = %+v", cfg.Model)
	}
	if cfg.Engine.Type != EngineSimplified || cfg.Engine.DataSource != filepath.Join(dir, "images") || cfg.Engine.Layout != "NCHW" {
		t.Errorf("engine = %+v", cfg.Engine)
	}
	if cfg.Target() != "cpu" || len(cfg.Compression.Algorithms) != 1 {
		t.Errorf("target %q, algorithms %+v", cfg.Target(), cfg.Compression.Algorithms)
	}
	if len(cfg.Warnings) != 2 {
		t.Errorf("warnings = %q, want weights and engine.device", cfg.Warnings)
	}
	raw, err := cfg.AlgorithmParams(0, "CPU")
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"preset": "performance", "stat_subset_size": 300.0, "target_device": "CPU", "inplace_statistics": false}
	if len(p) != len(want) {
		t.Errorf("params = %v, want %v", p, want)
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("params[%s] = %v, want %v", k, p[k], v)
		}
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		cfg  string
		want []string // every problem, in order
	}{
		{"not json", `{"model": `, []string{"not JSON"}},
		{"unknown keys everywhere", `{
			"modle": {},
			"engine": {"type": "simplified", "data_sorce": "x"},
			"compression": {"target_devise": "CPU", "algorithms": [{"name": "DefaultQuantization", "parms": {}}]}
		}`, []string{
			`modle: unknown key; did you mean "model"?`,
			`model: is required`,
			`compression.target_devise: unknown key; did you mean "target_device"?`,
			`compression.algorithms[0].parms: unknown key; did you mean "params"?`,
			`engine.data_sorce: unknown key; did you mean "data_source"?`,
			`engine.data_source: is required`,
		}},
		{"wrong types", `{
			"model": {"model": 5},
			"engine": {"type": "simplified", "data_source": ["a"]},
			"compression": {"target_device": "CPU", "inplace_statistics": "yes", "algorithms": {"name": "x"}}
		}`, []string{
			"model.model: is a number, want a string",
			"compression.inplace_statistics: is a string, want true or false",
			`compression.algorithms: is an object, want an array`,
			"engine.data_source: is an array, want a string",
		}},
		{"bad values", `{
			"model": {"model": "m.bin"},
			"engine": {"type": "simplifed", "data_source": "d"},
			"compression": {"target_device": "CPX", "model_type": "transfomer", "algorithms": []}
		}`, []string{
			"model.model: m.bin is an OpenVINO IR weights file",
			`compression.target_device: "CPX" is not a device`,
			`compression.model_type: "transfomer" is not one of None, transformer; did you mean "transformer"?`,
			"compression.algorithms: is empty",
			`engine.type: "simplifed" is not one of simplified, data_free; did you mean "simplified"?`,
		}},
		{"model cascade", `{"model": {"cascade": [{"name": "pnet", "model": "p.onnx"}, {"name": "rnet", "model": "r.onnx"}]},
			"engine": {"data_source": "d"}, "compression": {"algorithms": [{"name": "DefaultQuantization"}]}}`,
			[]string{"model.cascade: model cascades are not supported: running one model on another's outputs needs an engine of its own"}},
		{"accuracy checker", `{"model": {"model": "m.onnx"}, "engine": {"config": "ac.yaml"},
			"compression": {"algorithms": [{"name": "DefaultQuantization"}]}}`,
			[]string{`engine.type: "accuracy_checker" is not supported`}},
		{"data free keys on simplified", `{"model": {"model": "m.onnx"}, "engine": {"data_source": "d", "shape": [1]},
			"compression": {"algorithms": [{"name": "DefaultQuantization"}]}}`,
			[]string{`engine.shape: applies to the "data_free" engine only`}},
		{"bad inline descriptor", `{"model": {"model": "m.onnx"}, "engine": {"dataset": {"format": "idx", "imagez": "a"}},
			"compression": {"algorithms": [{"name": "DefaultQuantization"}]}}`,
			[]string{`engine.dataset: unknown key "imagez" (did you mean "images"?)`}},
		{"hw_config not a path", `{"model": {"model": "m.onnx"}, "engine": {"data_source": "d", "hw_config": {"type": "Conv"}},
			"compression": {"algorithms": [{"name": "DefaultQuantization"}]}}`,
			[]string{"engine.hw_config: is an object, want a string"}},
		{"hw_config empty", `{"model": {"model": "m.onnx"}, "engine": {"data_source": "d", "hw_config": ""},
			"compression": {"algorithms": [{"name": "DefaultQuantization"}]}}`,
			[]string{"engine.hw_config: is empty"}},
		{"bad shape", `{"model": {"model": "m.onnx"}, "engine": {"type": "data_free", "shape": [1, 0, "a"]},
			"compression": {"algorithms": [{"name": "DefaultQuantization"}]}}`,
			[]string{"engine.shape[1]: is 0, want at least 1", "engine.shape[2]: is a string, want an integer"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.cfg), "c.json", t.TempDir())
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *config.Error", err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			if !strings.HasPrefix(msg, "c.json: ") {
				t.Errorf("error does not name the file: %q", msg)
			}
			if len(ce.Problems) != len(tc.want) {
				t.Fatalf("%d problems, want %d: %s", len(ce.Problems), len(tc.want), msg)
			}
			for i, w := range tc.want {
				if got := ce.Problems[i].String(); !strings.Contains(got, w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got, w)
				}
			}
		})
	}
}

// TestHWConfigPath: engine.hw_config is a path resolved against the
// configuration's folder, in both engines.
func TestHWConfigPath(t *testing.T) {
	dir := t.TempDir()
	for _, engine := range []string{`"data_source": "d"`, `"type": "data_free"`} {
		cfg, err := Parse([]byte(`{"model": {"model": "m.onnx"}, "engine": {`+engine+`, "hw_config": "hw/cpu.json"},
			"compression": {"algorithms": [{"name": "DefaultQuantization"}]}}`), "c.json", dir)
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(dir, "hw", "cpu.json"); cfg.Engine.HWConfig != want {
			t.Errorf("%s: hw_config %q, want %q", engine, cfg.Engine.HWConfig, want)
		}
	}
}

func TestTargetMapping(t *testing.T) {
	for dev, want := range map[string]string{"": "cpu", "ANY": "cpu", "CPU": "cpu", "GPU": "gpu", "VPU": "vpu",
		"NPU": "vpu", "GNA3": "gna", "gna": "gna", "acme-npu": "acme-npu", "cpu": "cpu", "npu": "npu", "Gna3": "Gna3"} {
		cfg := &Config{Compression: Compression{TargetDevice: dev}}
		if got := cfg.Target(); got != want {
			t.Errorf("Target(%q) = %q, want %q", dev, got, want)
		}
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "here.onnx"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cwd := t.TempDir()
	t.Chdir(cwd)
	if err := os.WriteFile("only-cwd.onnx", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := &Config{Dir: dir}
	for in, want := range map[string]string{
		"here.onnx":     filepath.Join(dir, "here.onnx"),
		"only-cwd.onnx": "only-cwd.onnx",
		"none.onnx":     filepath.Join(dir, "none.onnx"),
		"/abs/x.onnx":   "/abs/x.onnx",
	} {
		if got := cfg.Resolve(in); got != want {
			t.Errorf("Resolve(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDataFree(t *testing.T) {
	cfg, err := Parse([]byte(`{"model": {"model": "m.onnx"},
		"engine": {"type": "data_free", "seed": 7},
		"compression": {"algorithms": [{"name": "DefaultQuantization", "params": {"stat_subset_size": 20}}]}}`), "c.json", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	calib, eval, err := cfg.Open(one(-1, 1, 4, 4))
	if err != nil {
		t.Fatal(err)
	}
	if eval != nil || calib.Len() != 20 || calib.Labelled() || len(calib.SampleShape()) != 3 {
		t.Fatalf("calib %v (%d samples, shape %v), eval %v", calib, calib.Len(), calib.SampleShape(), eval)
	}
	a, b := make([]float32, 16), make([]float32, 16)
	if _, err := calib.Read(3, a); err != nil {
		t.Fatal(err)
	}
	again, _ := Generate(one(-1, 1, 4, 4), nil, nil, nil, 20, 7)
	if _, err := again.Read(3, b); err != nil {
		t.Fatal(err)
	}
	var sum, sq float64
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("sample 3 differs between runs: %v vs %v", a, b)
		}
		sum += float64(a[i])
		sq += float64(a[i]) * float64(a[i])
	}
	if sq == 0 {
		t.Error("sample is all zeros")
	}
	other := make([]float32, 16)
	if _, err := calib.Read(4, other); err != nil || other[0] == a[0] {
		t.Errorf("samples 3 and 4 start alike (%v, %v): %v", a[0], other[0], err)
	}

	for _, tc := range []struct {
		input, shape []int
		want         string
	}{
		{[]int{-1, 3, -1, -1}, nil, "symbolic sizes; give its shape"},
		{[]int{-1, 1, 28, 28}, []int{1, 3, 28, 28}, `does not fit input "x" [N 1 28 28]`},
		{[]int{-1, 1, 28, 28}, []int{28, 28}, `does not fit input "x" [N 1 28 28]`},
		// Shapes from --shape, which once made Generate panic or allocate
		// their size.
		{[]int{-1, -1}, []int{99999999999999}, `data_free engine: input "x": a sample of shape [99999999999999] has 99999999999999 elements, more than the 67108864 pot builds per sample`},
		{[]int{-1, -1, -1}, []int{3037000500, 3037000500}, `data_free engine: input "x": sample shape [3037000500 3037000500] has more elements than an int holds`},
	} {
		if _, err := Generate(one(tc.input...), tc.shape, nil, nil, 4, 0); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Generate(%v, %v): %v, want %q", tc.input, tc.shape, err, tc.want)
		}
	}
	if g, err := Generate(one(-1, 3, -1, -1), []int{1, 3, 8, 8}, nil, nil, 4, 0); err != nil || len(g.SampleShape()) != 3 || g.SampleShape()[2] != 8 {
		t.Errorf("Generate with shape: %v, %v", g, err)
	}
}

// one is a model with one float input of the given shape.
func one(shape ...int) []feed.Input {
	dims := make([]*potv1.Dim, len(shape))
	for i, d := range shape {
		if d > 0 {
			dims[i] = &potv1.Dim{Value: &potv1.Dim_Size{Size: int64(d)}}
		} else {
			dims[i] = &potv1.Dim{Value: &potv1.Dim_Param{Param: "N"}}
		}
	}
	return []feed.Input{{Name: "x", DType: potv1.DataType_DATA_TYPE_FLOAT, Shape: shape, Dims: dims}}
}

// TestDataFreeInputs generates data for a model with several inputs: a
// shape per input, constants for the integer ones.
func TestDataFreeInputs(t *testing.T) {
	vad := []feed.Input{
		{Name: "input", DType: potv1.DataType_DATA_TYPE_FLOAT, Shape: []int{-1, -1}},
		{Name: "sr", DType: potv1.DataType_DATA_TYPE_INT64, Shape: []int{}},
		{Name: "h", DType: potv1.DataType_DATA_TYPE_FLOAT, Shape: []int{2, -1, 64}},
	}
	consts := map[string]dataset.Constant{"sr": {Values: []float64{16000}}}
	for _, tc := range []struct {
		name   string
		one    []int
		shapes map[string][]int
		consts map[string]dataset.Constant
		want   string // error text; "" for success
	}{
		{"integer input without constant", nil, map[string][]int{"input": {512}, "h": {2, 1, 64}}, nil, `holds int64 values, which pot does not generate: give its value (--constant sr=VALUE`},
		{"one shape for several inputs", []int{1, 512}, nil, consts, "give a shape per input"},
		{"symbolic without shape", nil, map[string][]int{"input": {512}}, consts, `input "h" [2 ? 64] has symbolic sizes`},
		{"unknown input", nil, map[string][]int{"input": {512}, "h": {2, 1, 64}, "c": {2, 1, 64}}, consts, `shape of "c": the model has no input of that name`},
		{"too much to hold", nil, map[string][]int{"input": {1 << 26}, "h": {2, 1, 64}}, consts, `data_free engine: input "input": 5 samples of shape [67108864] are more than the 268435456 elements pot builds at once`},
		{"fits", nil, map[string][]int{"input": {512}, "h": {2, 1, 64}}, consts, ""},
	} {
		ds, err := Generate(vad, tc.one, tc.shapes, tc.consts, 5, 1)
		if tc.want != "" {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		named, ok := dataset.NamedOf(ds)
		if !ok || len(named.Arrays()) != 2 || ds.Len() != 5 {
			t.Fatalf("%s: %v", tc.name, ds)
		}
		if a := named.Arrays()[1]; a.Name != "h" || fmt.Sprint(a.Shape) != "[5 2 1 64]" {
			t.Errorf("%s: array %q of shape %v", tc.name, a.Name, a.Shape)
		}
	}
}

func TestOpenInlineDescriptor(t *testing.T) {
	examples, err := filepath.Abs("../../examples/data")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse([]byte(`{"model": {"model": "m.onnx"},
		"engine": {"dataset": {"format": "idx", "images": "mnist/calib-1000-images-idx3-ubyte.gz",
			"labels": "mnist/calib-1000-labels-idx1-ubyte.gz"},
			"eval_data_source": "mnist-test.json"},
		"compression": {"algorithms": [{"name": "DefaultQuantization"}]}}`), "c.json", examples)
	if err != nil {
		t.Fatal(err)
	}
	calib, eval, err := cfg.Open(one(-1, 1, 28, 28))
	if err != nil {
		t.Fatal(err)
	}
	if calib.Len() != 1000 || !calib.Labelled() || eval == nil || eval.Len() != 10000 {
		t.Errorf("calib %d labelled %v, eval %v", calib.Len(), calib.Labelled(), eval)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(potConfig))
	f.Add([]byte(`{"model": {"model": 1}, "engine": [], "compression": {"algorithms": [1, {"name": null}]}}`))
	f.Add([]byte(`// only a comment`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "f.json", "/nonexistent")
		if err == nil && cfg == nil {
			t.Fatal("nil config without error")
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("multi-line error %q", err)
		}
	})
}

// TestEngineInputs reads pot's engine keys for models with several
// inputs: constants, the metric's output and a shape per input.
func TestEngineInputs(t *testing.T) {
	cfg, err := Parse([]byte(`{"model": {"model": "m.onnx"},
		"engine": {"type": "data_free", "shape": {"input": [1, 512], "h": [2, 1, 64]},
			"constants": {"sr": 16000, "c": [[[0, 0]], [[0, 0]]]}, "output": "hn"},
		"compression": {"algorithms": [{"name": "DefaultQuantization"}]}}`), "c.json", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.Engine
	if fmt.Sprint(e.Shapes) != "map[h:[2 1 64] input:[1 512]]" || e.Output != "hn" || e.Constants["sr"].Values[0] != 16000 ||
		fmt.Sprint(e.Constants["c"].Shape) != "[2 1 2]" {
		t.Errorf("engine %+v", e)
	}
	_, err = Parse([]byte(`{"model": {"model": "m.onnx"},
		"engine": {"type": "data_free", "shape": {"input": [0]}, "constants": {"sr": "16000"}, "output": 3},
		"compression": {"algorithms": [{"name": "DefaultQuantization"}]}}`), "c.json", t.TempDir())
	for _, want := range []string{"engine.shape.input[0]", `engine.constants: constant "sr": want a number or a nested list`, "engine.output"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %q", err, want)
		}
	}
}

// TestRemoteTargets: engine.remote_targets and engine.remote_tls, with
// paths resolved against the configuration's folder, and their errors.
func TestRemoteTargets(t *testing.T) {
	dir := t.TempDir()
	cfg, err := Parse([]byte(`{"model": {"model": "m.onnx"}, "engine": {"data_source": "d",
		"remote_targets": ["127.0.0.2:7443", "lab-1.example.com:7443"],
		"remote_tls": {"ca": "certs/ca.pem", "cert": "certs/host.pem", "key": "certs/host-key.pem"}},
		"compression": {"algorithms": [{"name": "DefaultQuantization"}]}}`), "c.json", dir)
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.Engine
	if strings.Join(e.RemoteTargets, ",") != "127.0.0.2:7443,lab-1.example.com:7443" {
		t.Errorf("remote_targets %v", e.RemoteTargets)
	}
	if want := filepath.Join(dir, "certs", "ca.pem"); e.RemoteTLS.CA != want || e.RemoteTLS.Key != filepath.Join(dir, "certs", "host-key.pem") {
		t.Errorf("remote_tls %+v, want paths under %s", e.RemoteTLS, dir)
	}
	for _, c := range []struct{ engine, want string }{
		{`"remote_targets": "h:1"`, `engine.remote_targets: is a string, want an array`},
		{`"remote_targets": ["nohost"]`, `engine.remote_targets[0]: "nohost" is not HOST:PORT`},
		{`"remote_tls": {"certs": "x"}`, `engine.remote_tls.certs: unknown key; did you mean "cert"?`},
		{`"remote_tls": {"insecure": "yes"}`, `engine.remote_tls.insecure`},
	} {
		_, err := Parse([]byte(`{"model": {"model": "m.onnx"}, "engine": {"data_source": "d", `+c.engine+`},
			"compression": {"algorithms": [{"name": "DefaultQuantization"}]}}`), "c.json", dir)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.engine, err, c.want)
		}
	}
}
