package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/potgo/pot/internal/exampledata"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/sdk/plugintest"
	"github.com/potgo/pot/sdk/target"
	rt "github.com/potgo/pot/targets/interp"
)

const (
	repo     = "../../.."
	testSize = 2000
)

// buildAlgorithms builds the built-in algorithm plugins into a folder.
func buildAlgorithms(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+"/", "./algorithms/cmd/...")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the algorithm plugins: %v\n%s", err, out)
	}
	return dir
}

func dataset(t *testing.T, name, split string, n int) (*sdk.Dataset, []int) {
	t.Helper()
	root := filepath.Join(repo, "examples", "data")
	x, err := exampledata.MNIST.Images(root, split, n)
	if err != nil {
		t.Fatal(err)
	}
	labels, err := exampledata.MNIST.Labels(root, split, n)
	if err != nil {
		t.Fatal(err)
	}
	return &sdk.Dataset{Name: name, Inputs: []string{"input"}, Tensors: []*potv1.Tensor{rt.ToProto("input", x)}}, labels
}

// top1 is the share of the data set's samples whose top-1 class under
// the plan is their label.
func top1(t *testing.T, e *target.Engine, model, data string, labels []int, p *potv1.QuantizationPlan) float64 {
	t.Helper()
	right, seen := 0, 0
	err := e.Evaluate(context.Background(), &potv1.EvaluateRequest{ModelId: model, Plan: p, TopK: 1,
		Samples: &potv1.Samples{DataId: data, BatchSize: 250}}, func(r *potv1.EvaluateResponse) error {
		v, err := rt.FromProto(r.GetOutputs()[0])
		if err != nil {
			return err
		}
		for i, c := range v.Data.([]int64) {
			if int(c) == labels[int(r.GetOffset())+i] {
				right++
			}
			seen++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != len(labels) {
		t.Fatalf("evaluated %d samples of %d", seen, len(labels))
	}
	return float64(right) / float64(seen)
}

// weightLevels are the levels of the plan's weight quantizers.
func weightLevels(p *potv1.QuantizationPlan) []int64 {
	var out []int64
	for _, q := range p.GetQuantizers() {
		if q.GetWeights() {
			out = append(out, q.GetLevels())
		}
	}
	return out
}

// mlp_mnist quantized for GNA with both presets by pot's built-in
// algorithms keeps the float accuracy measured on the same target; with
// 16-bit weights, only OverflowCorrection's rescaling keeps the int32
// accumulators from saturating.
func TestMLPOnGNA(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the algorithm plugins and evaluates 2000 samples five times")
	}
	g, err := onnx.ReadGraph(filepath.Join(repo, "examples", "models", "mlp_mnist.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	calib, _ := dataset(t, "calibration", "calib-1000", 0)
	test, labels := dataset(t, "test", "t10k", testSize)
	e := target.MustNew(config())
	h := plugintest.NewHost(t, e, g, calib, plugintest.WithPluginDir(buildAlgorithms(t)))
	testID, err := e.UploadData(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	float := top1(t, e, h.ModelID(), testID, labels, nil)
	t.Logf("float32 on gna: top-1 %.4f", float)
	if float < 0.96 {
		t.Fatalf("float top-1 %.4f on %d samples, want >= 0.96", float, testSize)
	}
	quantize := func(algorithm, preset string) *potv1.QuantizationPlan {
		params, _ := json.Marshal(map[string]any{"preset": preset, "stat_subset_size": 300, "target_device": "GNA"})
		resp, err := h.RunAlgorithm(context.Background(), &potv1.RunAlgorithmRequest{Name: algorithm, ModelId: h.ModelID(),
			Plan: &potv1.QuantizationPlan{}, Params: string(params)})
		if err != nil {
			t.Fatalf("%s %s: %v", algorithm, preset, err)
		}
		return resp.GetPlan()
	}
	for _, tc := range []struct {
		preset string
		levels int64
	}{{"performance", 255}, {"accuracy", 65535}} {
		p := quantize("DefaultQuantization", tc.preset)
		for _, l := range weightLevels(p) {
			if l != tc.levels {
				t.Errorf("%s: weight quantizers of %d levels, want %d: %v", tc.preset, l, tc.levels, weightLevels(p))
				break
			}
		}
		q := top1(t, e, h.ModelID(), testID, labels, p)
		t.Logf("%s preset on gna: top-1 %.4f", tc.preset, q)
		if q < float-0.005 {
			t.Errorf("%s: top-1 %.4f, float %.4f", tc.preset, q, float)
		}
	}
	// MinMaxQuantization alone leaves 16-bit weights on grids whose
	// products overflow the accumulator.
	q := top1(t, e, h.ModelID(), testID, labels, quantize("MinMaxQuantization", "accuracy"))
	t.Logf("accuracy preset without OverflowCorrection: top-1 %.4f", q)
	if q > float-0.1 {
		t.Errorf("without OverflowCorrection top-1 %.4f: the saturation this test relies on is gone", q)
	}
}
