package smoothquant

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/potgo/pot/internal/exampledata"
	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/sdk/plugintest"
)

// bin holds the cpu target and the built-in algorithms, built once.
var bin string

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, &bin, "./targets/cmd/pot-target-cpu", "./algorithms/cmd/..."))
}

// vitHost is a host over the cpu target with vit_fmnist and the first n
// Fashion-MNIST calibration images.
func vitHost(t *testing.T, n int) *plugintest.Host {
	t.Helper()
	g, err := onnx.ReadGraph(testenv.Example("models", "vit_fmnist.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	x, err := exampledata.FMNIST.Images(testenv.Example("data"), "calib-1000", n)
	if err != nil {
		t.Fatal(err)
	}
	dims := make([]int64, len(x.Shape))
	for i, d := range x.Shape {
		dims[i] = int64(d)
	}
	data := &sdk.Dataset{Name: "fmnist-calib", Inputs: []string{"input"}, Tensors: []*potv1.Tensor{graph.FloatTensor("input", dims, x.F32())}}
	cpu := plugintest.StartTarget(t, filepath.Join(bin, "pot-target-cpu")).Target
	return plugintest.NewHost(t, cpu, g, data, plugintest.WithPluginDir(bin))
}

// logits infers the float model's outputs on every sample under the
// plan's tensor updates.
func logits(t *testing.T, h *plugintest.Host, p *potv1.QuantizationPlan) []float32 {
	t.Helper()
	resp, err := h.Infer(context.Background(), &potv1.InferRequest{ModelId: h.ModelID(), Plan: &potv1.QuantizationPlan{TensorUpdates: p.GetTensorUpdates()},
		Samples: &potv1.Samples{}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := graph.Float32s(resp.GetOutputs()[0])
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSmoothingIsExact smooths vit_fmnist (smooth_only, at several α and
// with the search) and runs the float model with the smoothed constants
// on real images: its logits must equal the original's within 1e-4 of
// their range, while the constants did change and the activations'
// outlier ratio fell.
func TestSmoothingIsExact(t *testing.T) {
	h := vitHost(t, 32)
	ref := logits(t, h, nil)
	top := 0.0
	for _, v := range ref {
		top = math.Max(top, math.Abs(float64(v)))
	}
	for _, params := range []string{
		`{"smooth_only": true, "alpha": 0.5}`,
		`{"smooth_only": true, "alpha": 0.9}`,
		`{"smooth_only": true, "alpha_search": true, "search_samples": 4}`,
	} {
		t.Run(params, func(t *testing.T) {
			resp, err := Algorithm{}.Run(context.Background(), h, h.Request(params))
			if err != nil {
				t.Fatal(err)
			}
			var rep Report
			if err := json.Unmarshal([]byte(resp.GetReport()), &rep); err != nil {
				t.Fatal(err)
			}
			if len(rep.Smoothed) != 7 || !rep.SmoothOnly || len(resp.GetPlan().GetQuantizers()) != 0 {
				t.Fatalf("%d groups smoothed, smooth_only %v, %d quantizers", len(rep.Smoothed), rep.SmoothOnly, len(resp.GetPlan().GetQuantizers()))
			}
			// Each group: the weights of its layer and LayerNorm's scale and shift.
			if n := len(resp.GetPlan().GetTensorUpdates()); n != 21 {
				t.Errorf("%d tensor updates, want 21", n)
			}
			for _, gr := range rep.Smoothed {
				if gr.Kept {
					continue
				}
				if gr.SMax == 1 && gr.SMin == 1 {
					t.Errorf("%v: s is 1", gr.Layers)
				}
				if gr.ActOutlierAfter > gr.ActOutlierBefore+1e-9 {
					t.Errorf("%v: outlier ratio rose from %g to %g", gr.Layers, gr.ActOutlierBefore, gr.ActOutlierAfter)
				}
			}
			got := logits(t, h, resp.GetPlan())
			worst := 0.0
			for i := range ref {
				worst = math.Max(worst, math.Abs(float64(got[i]-ref[i])))
			}
			t.Logf("largest logit change %.3g of %.3g", worst, top)
			if worst > 1e-4*top {
				t.Errorf("smoothed logits differ by %g, more than 1e-4 of %g", worst, top)
			}
			// The control: LayerNorm's constants divided by s without the
			// weights multiplied change the logits.
			half := &potv1.QuantizationPlan{}
			for _, u := range resp.GetPlan().GetTensorUpdates() {
				if strings.Contains(u.GetName(), "norm") {
					half.TensorUpdates = append(half.TensorUpdates, u)
				}
			}
			moved := 0.0
			for i, v := range logits(t, h, half) {
				moved = math.Max(moved, math.Abs(float64(v-ref[i])))
			}
			if moved < 1e-2*top {
				t.Errorf("the half-smoothed model's logits moved by %g only: are the updates applied?", moved)
			}
		})
	}
}

// TestRunQuantizes: without smooth_only, Run quantizes the smoothed
// model with DefaultQuantization, whose plan keeps the smoothed
// constants; the report carries the base algorithm's.
func TestRunQuantizes(t *testing.T) {
	h := vitHost(t, 16)
	resp, err := Algorithm{}.Run(context.Background(), h, h.Request(`{"model_type": "transformer", "stat_subset_size": 16}`))
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal([]byte(resp.GetReport()), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.BaseAlgorithm != "DefaultQuantization" || rep.BaseReport == nil || len(rep.Smoothed) != 7 {
		t.Fatalf("report %s", resp.GetReport())
	}
	if len(resp.GetPlan().GetQuantizers()) == 0 {
		t.Fatal("no quantizers")
	}
	// The tables for report.html: a row per smoothed input, one per
	// skipped layer, then the base algorithm's (DefaultQuantization: none).
	if len(rep.Tables) != 1+min(1, len(rep.Skipped)) || len(rep.Tables[0].Rows) != len(rep.Smoothed) {
		t.Fatalf("tables %+v", rep.Tables)
	}
	for i, g := range rep.Smoothed {
		row := rep.Tables[0].Rows[i]
		if len(row) != len(rep.Tables[0].Columns) || row[0] != g.Source || row[4] != g.ActOutlierBefore || row[5] != g.ActOutlierAfter {
			t.Errorf("row %d %v for %+v", i, row, g)
		}
	}
	if len(rep.Skipped) > 0 && len(rep.Tables[1].Rows) != len(rep.Skipped) {
		t.Errorf("skipped table %+v for %v", rep.Tables[1], rep.Skipped)
	}
	updated := map[string]bool{}
	for _, u := range resp.GetPlan().GetTensorUpdates() {
		updated[u.GetName()] = true
	}
	for _, name := range []string{"enc.layers.0.norm1.weight", "enc.layers.0.norm1.bias", "head.weight", "norm.bias"} {
		if !updated[name] {
			t.Errorf("the plan does not update %s", name)
		}
	}
}

// TestParams: bad own parameters are refused.
func TestParams(t *testing.T) {
	for _, tc := range []struct{ params, want string }{
		{`{"alpha": 1.5}`, "alpha"},
		{`{"alpha_search": true, "alpha_grid": []}`, "alpha_grid"},
		{`{"base_algorithm": "SmoothQuant"}`, "base_algorithm"},
		{`{"search_samples": 0}`, "search_samples"},
		{`{"alpha": "high"}`, "alpha"},
		{`{"alpha": 0.5, "smooth_quant_alpha": 0.8}`, "give one"},
		{`{"smooth_quant_alpha": "high"}`, "smooth_quant_alpha"},
		{`{"smooth_quant_alpha": 1.5}`, "alpha"},
	} {
		if _, _, _, err := parse([]byte(tc.params)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one about %s", tc.params, err, tc.want)
		}
	}
	p, rest, ps, err := parse([]byte(`{"alpha": 0.7, "preset": "mixed", "stat_subset_size": 30, "model_type": "transformer"}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Alpha != 0.7 || p.BaseAlgorithm != "DefaultQuantization" || ps.StatSubsetSize != 30 || ps.Preset != "mixed" || strings.Contains(string(rest), "alpha") {
		t.Errorf("parsed %+v, %+v, rest %s", p, ps, rest)
	}
}

// TestParamsSmoothQuantAlpha: DefaultQuantization's smooth_quant_alpha
// (what `pot quantize --smooth-quant-alpha` sets) is SmoothQuant's α when
// at least 0, and never goes on to the base algorithm, which would
// smooth again.
func TestParamsSmoothQuantAlpha(t *testing.T) {
	for _, tc := range []struct {
		params string
		alpha  float64
	}{
		{`{"smooth_quant_alpha": 0.8, "preset": "mixed"}`, 0.8},
		{`{"smooth_quant_alpha": 0, "preset": "mixed"}`, 0},
		{`{"smooth_quant_alpha": -1, "preset": "mixed"}`, 0.5},
		{`{"smooth_quant_alpha": -1, "alpha": 0.3, "preset": "mixed"}`, 0.3},
		{`{"smooth_quant_alpha": 0.7, "alpha": 0.7, "preset": "mixed"}`, 0.7},
	} {
		p, rest, ps, err := parse([]byte(tc.params))
		if err != nil {
			t.Errorf("%s: %v", tc.params, err)
			continue
		}
		if p.Alpha != tc.alpha || strings.Contains(string(rest), "alpha") || ps.Preset != "mixed" {
			t.Errorf("%s: alpha %g (want %g), rest %s", tc.params, p.Alpha, tc.alpha, rest)
		}
	}
	// Without it, the rest goes on as it came.
	_, rest, _, err := parse([]byte(`{"preset": "mixed", "stat_subset_size": 30}`))
	if err != nil || string(rest) != `{"preset":"mixed","stat_subset_size":30}` {
		t.Errorf("rest %s, %v", rest, err)
	}
}

// TestConformance: the plugin passes the SDK's conformance kit, in
// process and as the built binary.
func TestConformance(t *testing.T) {
	opts := []plugintest.Option{plugintest.WithTargetBinary(filepath.Join(bin, "pot-target-cpu")), plugintest.WithPluginDir(bin)}
	t.Run("in-process", func(t *testing.T) { plugintest.TestAlgorithm(t, Algorithm{}, opts...) })
	t.Run("binary", func(t *testing.T) {
		plugintest.TestAlgorithmBinary(t, filepath.Join(bin, "pot-algorithm-SmoothQuant"), opts...)
	})
}

// TestImports: the plugin (package and command) imports nothing of pot
// but the SDK and the protocol it speaks, as a third-party plugin would.
func TestImports(t *testing.T) {
	const module = "github.com/potgo/pot/"
	for _, pkg := range []string{"./algorithms/smoothquant", "./algorithms/cmd/pot-algorithm-SmoothQuant"} {
		cmd := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, pkg)
		cmd.Dir = testenv.RepoRoot()
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, imp := range strings.Fields(string(out)) {
			rel, ok := strings.CutPrefix(imp, module)
			if !ok || rel == "algorithms/smoothquant" {
				continue
			}
			if rel != "sdk" && !strings.HasPrefix(rel, "sdk/") && rel != "proto/potv1" {
				t.Errorf("%s imports %s, outside sdk/ and proto/potv1", pkg, imp)
			}
		}
	}
}
