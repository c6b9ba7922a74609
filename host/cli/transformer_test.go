package cli

import (
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/targets/interp/kernels"
)

// testSubset writes the first n images and labels of the Fashion-MNIST
// test set into dir and returns a descriptor of them.
func testSubset(t *testing.T, dir string, n int) string {
	t.Helper()
	for _, kind := range []string{"images-idx3", "labels-idx1"} {
		src := testenv.Example("data", "fmnist", "t10k-"+kind+"-ubyte.gz")
		f, err := os.Open(src)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		// IDX: magic (rank in the low byte), then the dimensions.
		rank := int(b[3])
		header := 4 + 4*rank
		per := 1
		for i := 1; i < rank; i++ {
			per *= int(binary.BigEndian.Uint32(b[4+4*i:]))
		}
		out := append([]byte(nil), b[:header+n*per]...)
		binary.BigEndian.PutUint32(out[4:], uint32(n))
		if err := os.WriteFile(filepath.Join(dir, kind), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	desc := filepath.Join(dir, "test.json")
	d := `{"format": "idx", "images": "images-idx3", "labels": "labels-idx1", "mean": [0.286], "std": [0.353]}`
	if err := os.WriteFile(desc, []byte(d), 0o644); err != nil {
		t.Fatal(err)
	}
	return desc
}

// transformerTestSamples is the number of test images the end-to-end
// transformer test evaluates on.
const transformerTestSamples = 2000

// TestQuantizeTransformer quantizes vit_fmnist, a ViT of three
// nn.TransformerEncoderLayers exported by PyTorch at opset 13 (shape
// arithmetic on int64 tensors, LayerNorm and GELU decomposed, MatMuls of
// two activations in the attention), with the default flags, with
// --model-type transformer and with full BiasCorrection. Each run must
// succeed and write a model whose quantizers all take float tensors from
// outside the LayerNorms and GELUs and whose attention products Q·Kᵀ and
// softmax·V read quantized operands on both sides; the bias corrections
// must locate the channels of every layer (the feed-forward MatMuls read
// [batch, tokens, channels], the attention's input projections
// [tokens, batch, channels]); and top-1 on 2000 test images must stay
// within 1 point of float. Measured on all 10 000 test images (cpu, gpu,
// vpu, both modes), the drop is at most 0.08 point and 1.1% of the
// predictions change: on 2000 images about 22 change, so the measured
// drop moves by about √22/2000 ≈ 0.23 point, and 1 point is 4 of those.
func TestQuantizeTransformer(t *testing.T) {
	if testing.Short() {
		t.Skip("quantizes a transformer three times and evaluates it on 2000 images")
	}
	model := testenv.Example("models", "vit_fmnist.onnx")
	test := testSubset(t, t.TempDir(), transformerTestSamples)
	for _, tc := range []struct {
		name string
		args []string
		bias string // the bias correction that ran
	}{
		{"default", nil, "FastBiasCorrection"},
		{"transformer", []string{"--model-type", "transformer"}, "FastBiasCorrection"},
		{"full bias correction", []string{"--no-fast-bias"}, "BiasCorrection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "vit_int8.onnx")
			args := append([]string{"quantize", "--model", model, "--data", testenv.Example("data", "fmnist-calib.json"),
				"--eval-data", test, "--subset", "300", "-o", out, "--json"}, tc.args...)
			stdout, stderr, code := pot(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var res quantizeResult
			mustJSON(t, stdout, &res)
			m := res.Metric
			if m == nil || m.Samples != transformerTestSamples {
				t.Fatalf("metric %+v", m)
			}
			t.Logf("float %.4f, quantized %.4f, drop %.4f, %d quantizers", m.Float, m.Quantized, m.Drop, res.Quantizers)
			if m.Float < 0.87 {
				t.Errorf("float top-1 %.4f: not the trained model", m.Float)
			}
			if m.Drop > 0.01 {
				t.Errorf("drop %.4f, more than 0.01", m.Drop)
			}
			// Transformer mode keeps the residual and position-embedding
			// adds float; the default quantizes their inputs.
			adds := quantizedAdds(t, out)
			if transformer := len(tc.args) > 0 && tc.args[0] == "--model-type"; transformer != (adds == 0) {
				t.Errorf("%d Add nodes read quantized inputs", adds)
			}
			checkTransformerQDQ(t, out)
			var rep struct {
				Reports map[string]struct {
					Corrected []string          `json:"corrected"`
					Skipped   map[string]string `json:"skipped"`
				} `json:"reports"`
			}
			if err := json.Unmarshal(res.Reports, &rep); err != nil {
				t.Fatalf("report: %v\n%s", err, res.Reports)
			}
			bc, ok := rep.Reports[tc.bias]
			if !ok {
				t.Fatalf("no %s report: %s", tc.bias, res.Reports)
			}
			// Every layer is corrected, or refused by the threshold on
			// |shift/bias| (FastBiasCorrection's 2 refuses some input
			// projections, whose key biases are near zero); none is
			// skipped for want of its channels.
			layers := 0
			for _, l := range bc.Corrected {
				if strings.Contains(l, "MatMul") {
					layers++
				}
			}
			for l, why := range bc.Skipped {
				if !strings.Contains(why, "times the bias") {
					t.Errorf("%s skipped %s: %s", tc.bias, l, why)
				}
				layers++
			}
			if want := 9; layers < want { // three layers of in-projection, linear1, linear2
				t.Errorf("%s saw %d MatMul layers, want %d: corrected %v, skipped %v", tc.bias, layers, want, bc.Corrected, bc.Skipped)
			}
			if tc.bias == "BiasCorrection" && len(bc.Skipped) > 0 {
				t.Errorf("BiasCorrection (threshold 1000) skipped %v", bc.Skipped)
			}
		})
	}
}

// TestQuantizeTransformerSamplesAsManyAsTokens quantizes vit_fmnist on 50
// calibration samples, one batch as large as its 50 tokens (49 patches
// and the class token): the attention's input projections read
// [tokens, batch, channels], whose first axis then has the batch's size
// without being the batch. FastBiasCorrection's statistics of them used
// to fail ("channel axis 2 out of range for sample shape [50 64]"); now
// every MatMul layer is corrected or refused by the threshold only.
func TestQuantizeTransformerSamplesAsManyAsTokens(t *testing.T) {
	out := filepath.Join(t.TempDir(), "vit_int8.onnx")
	stdout, stderr, code := pot(t, "quantize", "--model", testenv.Example("models", "vit_fmnist.onnx"),
		"--data", testenv.Example("data", "fmnist-calib.json"), "--model-type", "transformer",
		"--subset", "50", "-o", out, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res quantizeResult
	mustJSON(t, stdout, &res)
	var rep struct {
		Reports map[string]struct {
			Corrected []string          `json:"corrected"`
			Skipped   map[string]string `json:"skipped"`
			Samples   int               `json:"stat_samples"`
		} `json:"reports"`
	}
	if err := json.Unmarshal(res.Reports, &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, res.Reports)
	}
	bc, ok := rep.Reports["FastBiasCorrection"]
	if !ok {
		t.Fatalf("no FastBiasCorrection report: %s", res.Reports)
	}
	if bc.Samples != 50 {
		t.Errorf("FastBiasCorrection statistics over %d samples, want 50", bc.Samples)
	}
	layers := 0
	for _, l := range bc.Corrected {
		if strings.Contains(l, "MatMul") {
			layers++
		}
	}
	for l, why := range bc.Skipped {
		if !strings.Contains(why, "times the bias") {
			t.Errorf("skipped %s: %s", l, why)
		}
		layers++
	}
	if layers < 9 {
		t.Errorf("saw %d MatMul layers, want 9: corrected %v, skipped %v", layers, bc.Corrected, bc.Skipped)
	}
}

// TestTransformerAccuracyAgainstPyTorch is the transformer criterion of
// issue 14: on vit_fmnist with 300 calibration samples, default flags
// and --model-type transformer, the top-1 drop on the full test set is at
// most PyTorch's post-training quantization drop (baselines.json: 0.8813
// to 0.8799) plus 0.3 point, on target cpu in its exact arithmetic.
func TestTransformerAccuracyAgainstPyTorch(t *testing.T) {
	if testing.Short() {
		t.Skip("quantizes vit_fmnist twice and evaluates it on the full test set")
	}
	if !kernels.Accelerated() {
		t.Skip("the figures are for the AVX2+FMA kernels; this build or CPU runs the pure-Go ones")
	}
	base, ok := readBaselines(t)["vit_fmnist"]
	if !ok {
		t.Fatal("baselines.json has no vit_fmnist")
	}
	for _, mode := range []string{"None", "transformer"} {
		t.Run(mode, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "q.onnx")
			stdout, stderr, code := potBin(t, t.TempDir(), "quantize", "--isa", "vnni", "--model-type", mode,
				"--model", testenv.Example("models", "vit_fmnist.onnx"),
				"--data", testenv.Example("data", "fmnist-calib.json"),
				"--eval-data", testenv.Example("data", "fmnist-test.json"),
				"--subset", "300", "-o", out, "--json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var res quantizeResult
			mustJSON(t, stdout, &res)
			m := res.Metric
			if m == nil || m.Samples != 10000 {
				t.Fatalf("metric %+v", m)
			}
			limit := base.Float - base.Int8 + 0.003
			t.Logf("float %.4f, int8 %.4f: drop %.4f (PyTorch %.4f, limit %.4f)", m.Float, m.Quantized, m.Drop, base.Float-base.Int8, limit)
			if m.Float != base.Float {
				t.Errorf("float top-1 %.4f, PyTorch's %.4f", m.Float, base.Float)
			}
			if m.Drop > limit+1e-9 {
				t.Errorf("drop %.4f, more than PyTorch's %.4f plus 0.003", m.Drop, base.Float-base.Int8)
			}
		})
	}
}

// checkTransformerQDQ checks a quantized transformer: every
// QuantizeLinear takes a float tensor from outside the layer
// normalizations and GELUs, and every MatMul of two activations reads
// both operands through DequantizeLinear.
func checkTransformerQDQ(t *testing.T, path string) {
	t.Helper()
	g := mustGraph(t, path)
	x := graph.NewIndex(g)
	quantized, products := 0, 0
	for _, n := range g.GetNodes() {
		switch n.GetOpType() {
		case "QuantizeLinear":
			quantized++
			in := n.GetInputs()[0]
			if dt := x.ValueType(in); !graph.IsFloatType(dt) {
				t.Errorf("%s quantizes %s, a %v tensor", n.GetName(), in, dt)
			}
			if p := x.Producer(in); p != nil && insideNormOrGELU[p.GetOpType()] {
				t.Errorf("%s quantizes %s, inside a layer normalization or GELU (%s)", n.GetName(), in, p.GetOpType())
			}
		case "MatMul":
			a, b := n.GetInputs()[0], n.GetInputs()[1]
			if isWeights(x, b) {
				continue // a projection
			}
			products++
			for _, in := range []string{a, b} {
				if !isDequantized(x, in) {
					t.Errorf("attention product %s reads %s in float", n.GetName(), in)
				}
			}
		}
	}
	if quantized == 0 || products == 0 {
		t.Errorf("%d QuantizeLinear nodes, %d MatMuls of two activations", quantized, products)
	}
}

// quantizedAdds counts the Add nodes of a QDQ model that read a
// DequantizeLinear output.
func quantizedAdds(t *testing.T, path string) int {
	t.Helper()
	g := mustGraph(t, path)
	x := graph.NewIndex(g)
	n := 0
	for _, node := range g.GetNodes() {
		if node.GetOpType() != "Add" {
			continue
		}
		for _, in := range node.GetInputs() {
			if p := x.Producer(in); p != nil && p.GetOpType() == "DequantizeLinear" {
				n++
				break
			}
		}
	}
	return n
}

// insideNormOrGELU are the operations that only occur inside the
// decomposed LayerNorms and GELUs of vit_fmnist: their outputs stay float.
var insideNormOrGELU = map[string]bool{"ReduceMean": true, "Sub": true, "Pow": true, "Sqrt": true, "Erf": true}

// isDequantized reports whether t comes out of a DequantizeLinear,
// perhaps through operations that only move values (a quantizer moves up
// through them).
func isDequantized(x *graph.Index, t string) bool {
	for p := x.Producer(t); p != nil; p = x.Producer(p.GetInputs()[0]) {
		switch p.GetOpType() {
		case "DequantizeLinear":
			return true
		case "Transpose", "Reshape", "Squeeze", "Unsqueeze", "Flatten":
		default:
			return false
		}
	}
	return false
}

// isWeights reports whether t is a constant, or the dequantized value of
// one (int8 weights).
func isWeights(x *graph.Index, t string) bool {
	if x.Constant(t) != nil {
		return true
	}
	p := x.Producer(t)
	return p != nil && p.GetOpType() == "DequantizeLinear" && x.Constant(p.GetInputs()[0]) != nil
}

// TestModelTypeFlag: --model-type takes POT's values only, and a
// configuration file (-c) excludes it like the other flags of a run.
func TestModelTypeFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", testenv.Example("models", "lenet_mnist.onnx"), "--data", testenv.Example("data", "mnist-calib.json"),
			"--model-type", "bert"}, `--model-type "bert": want transformer`},
		{[]string{"-c", testenv.Example("configs", "lenet_mnist_default.json"), "--model-type", "transformer"}, "--model-type"},
	} {
		out := filepath.Join(t.TempDir(), "out.onnx")
		_, stderr, code := pot(t, append(append([]string{"quantize"}, tc.args...), "-o", out)...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want a refusal mentioning %q", tc.args, code, stderr, tc.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%v: output written", tc.args)
		}
	}
}

// TestQuantizeTransformerSmoothQuant quantizes vit_fmnist in transformer
// mode with DefaultQuantization and with SmoothQuant (which smooths,
// then runs DefaultQuantization), and evaluates both on the first 1000
// test images: SmoothQuant must smooth the seven LayerNorm-fed layers,
// report them, and stay within 0.5 point (5 images) of
// DefaultQuantization alone. On all 10 000 test images the two differ by
// less than 0.1 point at α 0.5 (docs/usage.md): this small ViT has few
// activation outliers.
func TestQuantizeTransformerSmoothQuant(t *testing.T) {
	if testing.Short() {
		t.Skip("quantizes a transformer twice")
	}
	model := testenv.Example("models", "vit_fmnist.onnx")
	test := testSubset(t, t.TempDir(), 1000)
	top1 := map[string]float64{}
	for _, algo := range []string{"DefaultQuantization", "SmoothQuant"} {
		out := filepath.Join(t.TempDir(), "vit_int8.onnx")
		stdout, stderr, code := pot(t, "quantize", "--model", model, "--data", testenv.Example("data", "fmnist-calib.json"),
			"--eval-data", test, "--subset", "300", "--model-type", "transformer", "--algorithm", algo, "-o", out, "--json")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", algo, code, stderr)
		}
		var res quantizeResult
		mustJSON(t, stdout, &res)
		if res.Metric == nil || res.Metric.Samples != 1000 {
			t.Fatalf("%s: metric %+v", algo, res.Metric)
		}
		top1[algo] = res.Metric.Quantized
		if algo != "SmoothQuant" {
			continue
		}
		var rep struct {
			Smoothed []struct {
				Layers []string `json:"layers"`
				Before float64  `json:"act_outlier_ratio_before"`
				After  float64  `json:"act_outlier_ratio_after"`
			} `json:"smoothed"`
			Skipped       map[string]string `json:"skipped"`
			BaseAlgorithm string            `json:"base_algorithm"`
		}
		if err := json.Unmarshal(res.Reports, &rep); err != nil {
			t.Fatalf("report: %v\n%s", err, res.Reports)
		}
		if len(rep.Smoothed) != 7 || rep.BaseAlgorithm != "DefaultQuantization" || rep.Skipped["/enc/layers.0/linear2/MatMul"] == "" {
			t.Errorf("report %s", res.Reports)
		}
		for _, s := range rep.Smoothed {
			if s.After > s.Before {
				t.Errorf("%v: outlier ratio %g → %g", s.Layers, s.Before, s.After)
			}
		}
	}
	t.Logf("top-1 on 1000 test images: DefaultQuantization %.4f, SmoothQuant %.4f", top1["DefaultQuantization"], top1["SmoothQuant"])
	if top1["SmoothQuant"] < top1["DefaultQuantization"]-0.005 {
		t.Errorf("SmoothQuant %.4f, more than 0.5 point below DefaultQuantization %.4f", top1["SmoothQuant"], top1["DefaultQuantization"])
	}
}

// TestQuantizeSmoothQuantChain: a configuration listing SmoothQuant then
// DefaultQuantization quantizes once: pot sets SmoothQuant's
// smooth_only (its followed_param), so SmoothQuant only smooths and
// DefaultQuantization quantizes the smoothed model; --json and
// report.json carry both algorithms' reports.
func TestQuantizeSmoothQuantChain(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "chain.json")
	c := `{"model": {"model_name": "lenet", "model": "` + testenv.Example("models", "lenet_mnist.onnx") + `"},
  "engine": {"type": "simplified", "data_source": "` + testenv.Example("data", "mnist-calib.json") + `"},
  "compression": {"target_device": "CPU", "algorithms": [
    {"name": "SmoothQuant", "params": {"alpha": 0.5, "stat_subset_size": 100}},
    {"name": "DefaultQuantization", "params": {"preset": "performance", "stat_subset_size": 100}}]}}`
	if err := os.WriteFile(cfg, []byte(c), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := pot(t, "quantize", "-c", cfg, "-o", filepath.Join(dir, "lenet_int8.onnx"), "--json", "--report", filepath.Join(dir, "report"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res quantizeResult
	mustJSON(t, stdout, &res)
	if len(res.ChainReports) != 2 || res.ChainReports[0].Algorithm != "SmoothQuant" || res.ChainReports[1].Algorithm != "DefaultQuantization" {
		t.Fatalf("chain reports %+v", res.ChainReports)
	}
	var sq struct {
		SmoothOnly bool              `json:"smooth_only"`
		Base       json.RawMessage   `json:"base_report"`
		Smoothed   []json.RawMessage `json:"smoothed"`
	}
	if err := json.Unmarshal(res.ChainReports[0].Report, &sq); err != nil {
		t.Fatal(err)
	}
	if !sq.SmoothOnly || sq.Base != nil {
		t.Errorf("SmoothQuant quantized too: %s", res.ChainReports[0].Report)
	}
	if len(sq.Smoothed) == 0 {
		t.Errorf("SmoothQuant smoothed nothing in LeNet: %s", res.ChainReports[0].Report)
	}
	if res.Quantizers == 0 {
		t.Error("no quantizers")
	}
	b, err := os.ReadFile(filepath.Join(dir, "report", "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"chain_reports"`) {
		t.Error("report.json has no chain_reports")
	}
}
