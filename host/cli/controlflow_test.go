package cli

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// readWindows reads a float32 .npy of shape [N, 16, 96].
func readWindows(t *testing.T, path string) [][]float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b[1:6]) != "NUMPY" || b[6] != 1 || !strings.Contains(string(b[10:10+binary.LittleEndian.Uint16(b[8:])]), "'<f4'") {
		t.Fatalf("%s: not a version 1 float32 .npy", path)
	}
	b = b[10+int(binary.LittleEndian.Uint16(b[8:])):]
	const per = 16 * 96
	var out [][]float32
	for i := 0; i+4*per <= len(b); i += 4 * per {
		w := make([]float32, per)
		for k := range w {
			w[k] = math.Float32frombits(binary.LittleEndian.Uint32(b[i+4*k:]))
		}
		out = append(out, w)
	}
	return out
}

// writeWindows writes windows as a float32 .npy of shape [N, 16, 96].
func writeWindows(t *testing.T, path string, ws [][]float32) {
	t.Helper()
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 16, 96), }", len(ws))
	for (10+len(header)+1)%64 != 0 {
		header += " "
	}
	header += "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(header)), byte(len(header)>>8))
	b = append(b, header...)
	for _, w := range ws {
		for _, v := range w {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// jarvisRun runs a hey_jarvis model (float or QDQ) on windows with the
// runtime and returns its output and the first stage's score (p1.1) of
// each.
func jarvisRun(t *testing.T, path string, ws [][]float32) (out, p1 []float32) {
	t.Helper()
	g := mustGraph(t, path)
	p, err := rt.Compile(g, rt.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s := p.NewSession()
	if err := s.Watch([]string{"53", "p1.1"}, nil); err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		if err := s.Run(context.Background(), []*tensor.Tensor{tensor.From([]int{1, 16, 96}, w)}); err != nil {
			t.Fatal(err)
		}
		out = append(out, s.Value("53").F32()[0])
		p1 = append(p1, s.Value("p1.1").F32()[0])
	}
	return out, p1
}

// The LayerNorm of openWakeWord's heads (ReduceMean, Sub, Pow, Add,
// Sqrt, Div, Mul) stays float: 8-bit per-tensor activations on the
// subtraction of the mean ruin it (pot analyze: 5 dB), so the tests keep
// it float by op type, as a user does, and quantize the Gemms.
var layerNormOps = []string{"--ignore", "ReduceMean", "--ignore", "Sub", "--ignore", "Pow", "--ignore", "Add",
	"--ignore", "Sqrt", "--ignore", "Div", "--ignore", "Mul", "--ignore", "GreaterOrEqual"}

// TestQuantizeIfModel quantizes openWakeWord's hey_jarvis, whose If runs
// a verifier network when the first network scores >= 0.5, on 200 speech
// windows, 40 of which run it: the verifier's Gemms are quantized like
// the first network's, their QuantizeLinear/DequantizeLinear pairs and
// integer weights inside the branch of the QDQ model, which stays close
// to the float model. On windows none of which runs the branch, its
// Gemms stay float, and the report says why.
func TestQuantizeIfModel(t *testing.T) {
	root := filepath.Join(testenv.RepoRoot(), "testdata", "realmodels")
	model := filepath.Join("testdata", "openwakeword", "hey_jarvis_v0.1.onnx")
	calib := filepath.Join(root, "hey_jarvis_calib.npy")
	windows := readWindows(t, calib)
	floatOut, floatP1 := jarvisRun(t, model, windows)
	verifier := []string{"Gemm_34", "Gemm_47", "Gemm_60"}

	quantize := func(data string, extra ...string) (string, map[string]json.RawMessage) {
		t.Helper()
		out := filepath.Join(t.TempDir(), "jarvis_int8.onnx")
		args := append([]string{"quantize", "--model", model, "--data", data, "--target", "cpu", "-o", out, "--json"}, layerNormOps...)
		args = append(args, extra...)
		stdout, stderr, code := pot(t, args...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var res struct {
			Reports struct {
				Reports map[string]json.RawMessage `json:"reports"`
			} `json:"reports"`
		}
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatalf("%v: %s", err, stdout)
		}
		return out, res.Reports.Reports
	}
	branchQDQ := func(path string) (quantized map[string]bool, qls int) {
		t.Helper()
		g := mustGraph(t, path)
		x := graph.NewIndex(g)
		quantized = map[string]bool{}
		for _, name := range verifier {
			n := x.Node(name)
			if n == nil || x.Scope(name).Parent.GetName() != "If_32" {
				t.Fatalf("%s is not in the If's branch of the exported model", name)
			}
			dq := func(i int) bool {
				p := x.Producer(n.GetInputs()[i])
				return p != nil && p.GetOpType() == "DequantizeLinear" && x.Scope(p.GetName()).Graph == x.Scope(name).Graph
			}
			quantized[name] = dq(0) && dq(1)
			if w := x.Producer(n.GetInputs()[1]); quantized[name] {
				if c := x.Constant(w.GetInputs()[0]); c == nil || c.GetDtype() != potv1.DataType_DATA_TYPE_INT8 || x.DefiningGraph(c.GetName()) != x.Scope(name).Graph {
					t.Errorf("%s: its weights are not int8 initializers of the branch", name)
				}
			}
		}
		for _, n := range x.Nodes() {
			if n.GetOpType() == "QuantizeLinear" && x.InSubgraph(n.GetName()) {
				qls++
			}
		}
		return quantized, qls
	}

	t.Run("branch taken", func(t *testing.T) {
		out, reports := quantize(calib)
		var mm struct {
			Float map[string]string `json:"float_layers"`
		}
		var fbc struct {
			Skipped map[string]string `json:"skipped"`
		}
		if err := json.Unmarshal(reports["MinMaxQuantization"], &mm); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(reports["FastBiasCorrection"], &fbc); err != nil {
			t.Fatal(err)
		}
		if len(mm.Float) != 0 {
			t.Errorf("layers kept float: %v", mm.Float)
		}
		for _, name := range verifier {
			if !strings.Contains(fbc.Skipped[name], "then_branch") {
				t.Errorf("bias correction of %s: %q", name, fbc.Skipped[name])
			}
		}
		quantized, qls := branchQDQ(out)
		for _, name := range verifier {
			if !quantized[name] {
				t.Errorf("%s reads no DequantizeLinear of its branch", name)
			}
		}
		if qls < 3 {
			t.Errorf("%d QuantizeLinear in the branch", qls)
		}
		// Close to float: the wake-word decision (output >= 0.5) and the
		// If's decision (p1 >= 0.5) on nearly every window, and the
		// outputs within 0.05 on average. The output jumps where the
		// first score crosses 0.5 (it switches networks), so a window
		// near the threshold may differ by up to 1: no bound on the
		// largest difference.
		qOut, qP1 := jarvisRun(t, out, windows)
		agree, branch, sum := 0, 0, 0.0
		for i := range windows {
			if (qOut[i] >= 0.5) == (floatOut[i] >= 0.5) {
				agree++
			}
			if (qP1[i] >= 0.5) == (floatP1[i] >= 0.5) {
				branch++
			}
			sum += math.Abs(float64(qOut[i] - floatOut[i]))
		}
		n := float64(len(windows))
		t.Logf("decisions agree on %.3f, branch on %.3f, mean abs difference %.4f", float64(agree)/n, float64(branch)/n, sum/n)
		if float64(agree)/n < 0.95 || float64(branch)/n < 0.9 || sum/n > 0.05 {
			t.Errorf("the quantized model strays from the float one: decisions %.3f, branch %.3f, mean difference %.4f", float64(agree)/n, float64(branch)/n, sum/n)
		}
	})

	t.Run("ignored node in the branch", func(t *testing.T) {
		out, _ := quantize(calib, "--ignore", "Gemm_47")
		quantized, _ := branchQDQ(out)
		if !quantized["Gemm_34"] || quantized["Gemm_47"] || !quantized["Gemm_60"] {
			t.Errorf("quantized: %v, want all but the ignored Gemm_47", quantized)
		}
	})

	t.Run("branch never taken", func(t *testing.T) {
		var quiet [][]float32
		for i, w := range windows {
			if floatP1[i] < 0.5 {
				quiet = append(quiet, w)
			}
		}
		data := filepath.Join(t.TempDir(), "quiet.npy")
		writeWindows(t, data, quiet)
		out, reports := quantize(data)
		var mm struct {
			Float map[string]string `json:"float_layers"`
		}
		if err := json.Unmarshal(reports["MinMaxQuantization"], &mm); err != nil {
			t.Fatal(err)
		}
		for _, name := range verifier {
			if !strings.Contains(mm.Float[name], `no calibration sample ran the then_branch of If "If_32"`) {
				t.Errorf("%s: kept float because %q", name, mm.Float[name])
			}
		}
		quantized, qls := branchQDQ(out)
		for _, name := range verifier {
			if quantized[name] {
				t.Errorf("%s is quantized without statistics", name)
			}
		}
		if qls != 0 {
			t.Errorf("%d QuantizeLinear in the branch", qls)
		}
		// The branch runs, in float, on the windows that take it.
		qOut, qP1 := jarvisRun(t, out, windows)
		ran := 0
		for i := range windows {
			if qP1[i] >= 0.5 && floatP1[i] >= 0.5 {
				ran++
				if qOut[i] == qP1[i] {
					t.Errorf("window %d: the output is the first score", i)
				}
			}
		}
		if ran == 0 {
			t.Error("no window runs the branch of the quantized model")
		}
	})
}
