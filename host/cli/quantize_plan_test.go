package cli

import (
	"bytes"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/potgo/pot/host/dataset"
	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/proto/potv1"
)

// Capabilities of the built-in algorithms, as they describe themselves.
var (
	defaultCaps = map[string]*potv1.AlgorithmCapabilities{"DefaultQuantization": {}}
	smoothCaps  = map[string]*potv1.AlgorithmCapabilities{"SmoothQuant": {PassesParamsTo: "DefaultQuantization",
		PassesParamsToParam: "base_algorithm", FollowedParam: "smooth_only"}}
	accuracyCaps = map[string]*potv1.AlgorithmCapabilities{"AccuracyAwareQuantization": {Evaluates: true,
		MaxDropParam: "maximal_drop", WorkersParam: "workers", Checkpoints: true}}
)

// Targets as they describe themselves: presets and device.
var (
	cpuTarget = &potv1.TargetDescription{Name: "cpu", Device: "CPU", Presets: []string{"performance", "mixed"}}
	gnaTarget = &potv1.TargetDescription{Name: "gna", Device: "GNA", Presets: []string{"performance", "accuracy"}}
)

// flagRun is the run of `pot quantize ARGS` whose chain describes itself
// with caps; no plugin starts. Its log (at info) goes to the buffer.
func flagRun(t *testing.T, caps map[string]*potv1.AlgorithmCapabilities, args ...string) (*run, *bytes.Buffer) {
	t.Helper()
	var stderr bytes.Buffer
	g := &globals{logLevel: "info", stdout: io.Discard, stderr: &stderr}
	f := &quantizeFlags{}
	cmd := quantizeCommand(g, f)
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	r, err := newRun(cmd, g, f)
	if err != nil {
		t.Fatal(err)
	}
	r.chain = &chain{caps: caps}
	return r, &stderr
}

// sizedData is a data set of which only the size is known.
type sizedData struct {
	dataset.Dataset // nil: only Len is called
	n               int
}

func (d *sizedData) Len() int { return d.n }

func fakeData(n int) dataset.Dataset { return &sizedData{n: n} }

// lenetGraph is the graph of the example LeNet.
func lenetGraph(t *testing.T) *potv1.Graph {
	t.Helper()
	_, g, _, _, err := readModel(testenv.Example("models", "lenet_mnist.onnx"), workOpset)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// lenetRunArgs quantize the example LeNet with its calibration data into a
// temporary folder.
func lenetRunArgs(t *testing.T, more ...string) []string {
	return append([]string{"-m", testenv.Example("models", "lenet_mnist.onnx"), "--data", testenv.Example("data", "mnist-calib.json"),
		"-o", filepath.Join(t.TempDir(), "lenet_int8.onnx")}, more...)
}

func TestPlanInputs(t *testing.T) {
	r, _ := flagRun(t, defaultCaps, lenetRunArgs(t, "--eval-data", testenv.Example("data", "mnist-test.json"))...)
	qp, err := r.planInputs()
	if err != nil {
		t.Fatal(err)
	}
	if qp.algorithm != "DefaultQuantization" || qp.paths.model != r.f.output || qp.paths.checkpoint != r.f.output || qp.paths.create {
		t.Errorf("algorithm %q, paths %+v", qp.algorithm, qp.paths)
	}
	if len(qp.graph.GetNodes()) != 10 || qp.base.GetGraph().GetName() == "" || qp.writeOpts.ExternalData || qp.hw != nil {
		t.Errorf("model: %d nodes, base graph %q, external data %v, hw %v", len(qp.graph.GetNodes()), qp.base.GetGraph().GetName(), qp.writeOpts.ExternalData, qp.hw)
	}
	if qp.calib.Len() != 1000 || qp.eval == nil || qp.eval.Len() == 0 {
		t.Errorf("calibration %d samples, evaluation %v", qp.calib.Len(), qp.eval)
	}
	// The chain's needs are not decided yet.
	if qp.workers != 0 || qp.threads != 0 || qp.checkpoint != "" || qp.measure {
		t.Errorf("chain needs planned early: %+v", qp)
	}
}

func TestPlanInputsRefused(t *testing.T) {
	model := testenv.Example("models", "lenet_mnist.onnx")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"output is the input", []string{"-m", model, "--data", testenv.Example("data", "mnist-calib.json"), "-o", model},
			"is the input model: pot does not overwrite its input"},
		{"unknown metric", []string{"--metric", "top2"}, "--metric: "},
		{"missing hardware config", []string{"--hw-config", "/nonexistent/hw.json"}, "--hw-config /nonexistent/hw.json: "},
		{"missing data", []string{"--data", "/nonexistent/calib.json"}, "/nonexistent/calib.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if tc.name != "output is the input" {
				args = lenetRunArgs(t, tc.args...)
			}
			r, _ := flagRun(t, defaultCaps, args...)
			if _, err := r.planInputs(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}

func TestPlanChain(t *testing.T) {
	aa := func(args ...string) []string { return append([]string{"--algorithm", "accuracy_aware"}, args...) }
	configDefault := filepath.Join(testenv.RepoRoot(), "examples", "configs", "lenet_mnist_default.json")
	cores := runtime.NumCPU()
	oneThreadEach := 0 // threads per worker when one worker runs per core
	if cores > 1 {
		oneThreadEach = 1
	}
	tests := []struct {
		name    string
		caps    map[string]*potv1.AlgorithmCapabilities
		args    []string
		threads int // --threads
		noEval  bool
		// What the plan needs: the evaluation data is the calibration
		// data (fallback), workers, threads, checkpoints, measures.
		fallback   bool
		workers    int
		wantThread int
		checkpoint bool
		measure    bool
		log        string
	}{
		{name: "default", caps: defaultCaps, noEval: true},
		{name: "default with evaluation data", caps: defaultCaps, measure: true},
		{name: "-e without evaluation data", caps: defaultCaps, args: []string{"-e"}, noEval: true, fallback: true, measure: true,
			log: "no evaluation data given: evaluating on the calibration data"},
		{name: "accuracy-aware", caps: accuracyCaps, args: aa(), noEval: true, fallback: true, workers: cores, wantThread: oneThreadEach,
			checkpoint: true, measure: true, log: "no evaluation data given: evaluating on the calibration data"},
		{name: "accuracy-aware with --workers", caps: accuracyCaps, args: aa("--workers", "2"), workers: 2, wantThread: max(1, cores/2),
			checkpoint: true, measure: true},
		{name: "--threads kept", caps: accuracyCaps, args: aa("--workers", "2"), threads: 3, workers: 2, checkpoint: true, measure: true},
		{name: "one worker", caps: accuracyCaps, args: aa("--workers", "1"), workers: 1, checkpoint: true, measure: true},
		{name: "higher-is-better metric", caps: accuracyCaps, args: aa("--metric", "sqnr"), workers: cores, wantThread: oneThreadEach,
			checkpoint: true, measure: true},
		{name: "a configuration measures only when asked", caps: defaultCaps, args: []string{"-c", configDefault}},
		{name: "a configuration with -e", caps: defaultCaps, args: []string{"-c", configDefault, "-e"}, measure: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if len(args) == 0 || args[0] != "-c" {
				args = lenetRunArgs(t, args...)
			}
			r, log := flagRun(t, tc.caps, args...)
			r.g.threads = tc.threads
			qp := &quantizePlan{paths: paths{model: "out.onnx", checkpoint: "results/lenet"}, calib: fakeData(1000), eval: fakeData(500)}
			if tc.noEval {
				qp.eval = nil
			}
			if err := r.planChain(qp); err != nil {
				t.Fatal(err)
			}
			if got := qp.eval != nil && qp.eval == qp.calib; got != tc.fallback {
				t.Errorf("evaluates on the calibration data: %v, want %v", got, tc.fallback)
			}
			if qp.workers != tc.workers || qp.threads != tc.wantThread || (qp.checkpoint == "results/lenet") != tc.checkpoint || qp.measure != tc.measure {
				t.Errorf("workers %d, threads %d, checkpoint %q, measure %v; want %d, %d, %v, %v",
					qp.workers, qp.threads, qp.checkpoint, qp.measure, tc.workers, tc.wantThread, tc.checkpoint, tc.measure)
			}
			if !strings.Contains(log.String(), tc.log) {
				t.Errorf("log %q lacks %q", log, tc.log)
			}
		})
	}
}

func TestPlanChainRefused(t *testing.T) {
	tests := []struct {
		name string
		caps map[string]*potv1.AlgorithmCapabilities
		args []string
		want string
	}{
		{"--max-drop without a budget", defaultCaps, []string{"--max-drop", "0.01"},
			"--max-drop applies to an algorithm that takes an accuracy budget (-q accuracy_aware or --algorithm accuracy_aware); DefaultQuantization takes none"},
		{"a lower-is-better metric for a search", accuracyCaps, []string{"-q", "accuracy_aware", "--metric", "mse"},
			"--metric mse is lower-is-better; AccuracyAwareQuantization needs a metric where higher is better (top1, top5, agreement, sqnr, cosine, psnr)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := flagRun(t, tc.caps, lenetRunArgs(t, tc.args...)...)
			err := r.planChain(&quantizePlan{calib: fakeData(10)})
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestPlanSteps: the steps' parameters from the flags or a configuration,
// their presets resolved for the target.
func TestPlanSteps(t *testing.T) {
	configAA := filepath.Join(testenv.RepoRoot(), "examples", "configs", "lenet_mnist_accuracy_aware.json")
	tests := []struct {
		name    string
		caps    map[string]*potv1.AlgorithmCapabilities
		args    []string
		target  *potv1.TargetDescription
		calib   int
		workers int
		want    string // the steps, NAME PARAMS per line, or the error
	}{
		{"defaults", defaultCaps, nil, cpuTarget, 1000, 0,
			`DefaultQuantization {"preset":"performance","seed":0,"shuffle_data":true,"stat_subset_size":300,"target_device":"CPU"}`},
		{"every sample: no shuffle", defaultCaps, []string{"--subset", "0"}, cpuTarget, 1000, 0,
			`DefaultQuantization {"preset":"performance","seed":0,"shuffle_data":false,"stat_subset_size":0,"target_device":"CPU"}`},
		{"fewer samples than the subset", defaultCaps, nil, cpuTarget, 200, 0,
			`DefaultQuantization {"preset":"performance","seed":0,"shuffle_data":false,"stat_subset_size":300,"target_device":"CPU"}`},
		{"accuracy runs as mixed on cpu", defaultCaps, []string{"--preset", "accuracy"}, cpuTarget, 1000, 0,
			`DefaultQuantization {"preset":"mixed","seed":0,"shuffle_data":true,"stat_subset_size":300,"target_device":"CPU"}`},
		{"mixed runs as accuracy on gna", defaultCaps, []string{"--preset", "mixed"}, gnaTarget, 1000, 0,
			`DefaultQuantization {"preset":"accuracy","seed":0,"shuffle_data":true,"stat_subset_size":300,"target_device":"GNA"}`},
		{"a preset the target does not publish", defaultCaps, []string{"--preset", "fast"}, cpuTarget, 1000, 0,
			`preset "fast" is not published by target "cpu"; it publishes: performance, mixed`},
		{"weights, activations, bias, model type", defaultCaps, []string{"--weight-bits", "4", "--weight-granularity", "perchannel",
			"--activation-mode", "asymmetric", "--range-estimator", "quantile", "--no-fast-bias", "--saturation-fix", "all", "--model-type", "transformer"}, cpuTarget, 1000, 0,
			`DefaultQuantization {"activations":{"mode":"asymmetric"},"model_type":"transformer","preset":"performance","range_estimator":{"preset":"quantile"},` +
				`"saturation_fix":"all","seed":0,"shuffle_data":true,"stat_subset_size":300,"target_device":"CPU","use_fast_bias":false,"weights":{"bits":4,"granularity":"perchannel"}}`},
		{"smooth_quant_alpha for transformers", defaultCaps, []string{"--model-type", "transformer", "--smooth-quant-alpha", "0.5"}, cpuTarget, 1000, 0,
			`DefaultQuantization {"model_type":"transformer","preset":"performance","seed":0,"shuffle_data":true,"smooth_quant_alpha":0.5,"stat_subset_size":300,"target_device":"CPU"}`},
		{"smooth_quant_alpha off", defaultCaps, []string{"--model-type", "transformer", "--smooth-quant-alpha", "-1"}, cpuTarget, 1000, 0,
			`DefaultQuantization {"model_type":"transformer","preset":"performance","seed":0,"shuffle_data":true,"smooth_quant_alpha":-1,"stat_subset_size":300,"target_device":"CPU"}`},
		{"SmoothQuant's alpha", smoothCaps, []string{"--algorithm", "SmoothQuant", "--smooth-quant-alpha", "0"}, cpuTarget, 1000, 0,
			`SmoothQuant {"preset":"performance","seed":0,"shuffle_data":true,"smooth_quant_alpha":0,"stat_subset_size":300,"target_device":"CPU"}`},
		{"smooth_quant_alpha above 1", defaultCaps, []string{"--smooth-quant-alpha", "1.5"}, cpuTarget, 1000, 0,
			`--smooth-quant-alpha 1.5: want α in [0, 1] (negative: off)`},
		{"ignored nodes and types", defaultCaps, []string{"--ignore", "/f2/Gemm", "--ignore", "MaxPool"}, cpuTarget, 1000, 0,
			`DefaultQuantization {"ignored":{"operations":[{"type":"MaxPool"}],"scope":["/f2/Gemm"]},"preset":"performance","seed":0,"shuffle_data":true,"stat_subset_size":300,"target_device":"CPU"}`},
		{"an ignored node not in the model", defaultCaps, []string{"--ignore", "/f2/Gem"}, cpuTarget, 1000, 0,
			`--ignore "/f2/Gem": the model has no node or operation type of that name; did you mean "/f2/Gemm"?`},
		{"a bad model type", defaultCaps, []string{"--model-type", "cnn"}, cpuTarget, 1000, 0, `--model-type "cnn": want transformer (or None)`},
		{"accuracy-aware: budget and workers", accuracyCaps, []string{"-q", "accuracy_aware", "--max-drop", "0.005"}, cpuTarget, 1000, 4,
			`AccuracyAwareQuantization {"maximal_drop":0.005,"preset":"performance","seed":0,"shuffle_data":true,"stat_subset_size":300,"target_device":"CPU","workers":4}`},
		{"a zero budget is a budget", accuracyCaps, []string{"-q", "accuracy_aware", "--max-drop", "0"}, cpuTarget, 1000, 0,
			`AccuracyAwareQuantization {"maximal_drop":0,"preset":"performance","seed":0,"shuffle_data":true,"stat_subset_size":300,"target_device":"CPU"}`},
		{"a configuration, with workers", accuracyCaps, []string{"-c", configAA}, cpuTarget, 1000, 2,
			`AccuracyAwareQuantization {"drop_type":"absolute","max_iter_num":10,"maximal_drop":0.002,"metric_subset_ratio":0.5,"preset":"performance",` +
				`"ranking_subset_size":300,"stat_subset_size":300,"target_device":"CPU","workers":2}`},
		{"a configuration's preset the target does not publish", accuracyCaps, []string{"-c", configAA},
			&potv1.TargetDescription{Name: "npu", Device: "NPU", Presets: []string{"accuracy"}}, 1000, 0,
			configAA + `: compression.algorithms[0].params.preset: preset "performance" is not published by target "npu"; it publishes: accuracy`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if len(args) == 0 || args[0] != "-c" {
				args = lenetRunArgs(t, args...)
			}
			r, _ := flagRun(t, tc.caps, args...)
			qp := &quantizePlan{graph: lenetGraph(t), calib: fakeData(tc.calib), workers: tc.workers}
			steps, err := r.planSteps(qp, tc.target)
			var got []string
			for _, st := range steps {
				got = append(got, st.Name+" "+string(st.Params))
			}
			if err != nil {
				got = []string{err.Error()}
			}
			if strings.Join(got, "\n") != tc.want {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), tc.want)
			}
		})
	}
}
