package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/potgo/pot/host/dataset"
	"github.com/potgo/pot/host/pipeline"
	"github.com/potgo/pot/host/qdq"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/onnx"
)

type quantizeFlags struct {
	model     string
	data      string
	evalData  string
	target    string
	preset    string
	subset    int
	output    string
	algorithm string
}

// quantizeResult is the JSON of `pot quantize --json`.
type quantizeResult struct {
	Output     string          `json:"output"`
	Target     string          `json:"target"`
	Preset     string          `json:"preset"`
	Algorithm  string          `json:"algorithm"`
	Quantizers int             `json:"quantizers"`
	Seconds    float64         `json:"seconds"`
	Metric     *metricResult   `json:"metric,omitempty"`
	Reports    json.RawMessage `json:"reports,omitempty"`
}

type metricResult struct {
	Name      string  `json:"name"`
	Float     float64 `json:"float"`
	Quantized float64 `json:"quantized"`
	Drop      float64 `json:"drop"`
	Samples   int     `json:"samples"`
}

func newQuantize(g *globals) *cobra.Command {
	f := &quantizeFlags{}
	cmd := &cobra.Command{
		Use:   "quantize",
		Short: "Quantize a float ONNX model for a target",
		Example: `  pot quantize --model resnet.onnx --data calib.json --eval-data test.json \
      --target cpu --preset performance --subset 300 -o resnet_int8.onnx --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runQuantize(cmd.Context(), g, f) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.model, "model", "m", "", "float ONNX model")
	fl.StringVar(&f.data, "data", "", "calibration data set (descriptor JSON or image folder)")
	fl.StringVar(&f.evalData, "eval-data", "", "evaluation data set; with labels, the drop in top-1 is reported")
	fl.StringVar(&f.target, "target", "cpu", "target device plugin: cpu, gpu, vpu, gna, ...")
	fl.StringVar(&f.preset, "preset", "performance", "performance (symmetric), mixed (asymmetric activations) or accuracy")
	fl.IntVar(&f.subset, "subset", 300, "calibration samples (stat_subset_size), drawn with a fixed seed; 0 = all")
	fl.StringVarP(&f.output, "output", "o", "", "output QDQ ONNX model (default: MODEL_int8.onnx beside the model)")
	fl.StringVar(&f.algorithm, "algorithm", "DefaultQuantization", "algorithm plugin to run")
	fl.BoolVar(&g.jsonOut, "json", false, "print the result as JSON on stdout")
	return cmd
}

func runQuantize(ctx context.Context, g *globals, f *quantizeFlags) error {
	start := time.Now()
	if f.data == "" {
		return fmt.Errorf("no calibration data given (--data)")
	}
	out := f.output
	if out == "" {
		ext := filepath.Ext(f.model)
		out = f.model[:len(f.model)-len(ext)] + "_int8.onnx"
	}
	if err := checkWritable(out); err != nil {
		return err
	}
	base, graph, err := loadModel(f.model)
	if err != nil {
		return err
	}
	in, err := inputShape(graph)
	if err != nil {
		return err
	}
	calib, err := dataset.Open(f.data, dataset.WithInputShape(in))
	if err != nil {
		return err
	}
	var eval dataset.Dataset
	if f.evalData != "" {
		if eval, err = dataset.Open(f.evalData, dataset.WithInputShape(in)); err != nil {
			return err
		}
	}
	mgr, err := g.manager()
	if err != nil {
		return err
	}
	defer mgr.Close()
	log := g.logger()
	sess, err := pipeline.Open(ctx, pipeline.Options{
		Manager: mgr, Target: f.target, Graph: graph, Calibration: calib, Evaluation: eval,
		Logger: log, Progress: newProgress(g),
	})
	if err != nil {
		return err
	}
	defer sess.Close()
	params := map[string]any{
		"target_device":    sess.Target().GetDevice(),
		"preset":           f.preset,
		"stat_subset_size": f.subset,
		"shuffle_data":     f.subset > 0 && f.subset < calib.Len(),
		"seed":             0,
	}
	raw, _ := json.Marshal(params)
	plan, reports, err := sess.Run(ctx, []pipeline.Step{{Name: f.algorithm, Params: raw}})
	if err != nil {
		return err
	}
	res := &quantizeResult{Output: out, Target: f.target, Preset: plan.GetPreset(), Algorithm: f.algorithm}
	for _, q := range plan.GetQuantizers() {
		_ = q
		res.Quantizers++
	}
	if len(reports) > 0 {
		res.Reports = reports[len(reports)-1].Report
	}
	if eval != nil {
		m, err := compare(ctx, sess, plan)
		if err != nil {
			return err
		}
		res.Metric = m
	}
	qg, stats, err := qdq.Export(graph, plan)
	if err != nil {
		return fmt.Errorf("write QDQ model: %w", err)
	}
	log.Info("QDQ model", "activations", stats.Activations, "weights", stats.Weights, "biases", stats.Biases)
	model, err := onnx.FromGraph(qg, base)
	if err != nil {
		return fmt.Errorf("write QDQ model: %w", err)
	}
	if err := onnx.WriteFile(out, model, onnx.WriteOptions{}); err != nil {
		return err
	}
	res.Seconds = time.Since(start).Seconds()
	if g.jsonOut {
		return printJSON(g.stdout, res)
	}
	fmt.Fprintf(g.stdout, "wrote %s: %d quantizers, target %s, preset %s, %.1f s\n", out, res.Quantizers, f.target, res.Preset, res.Seconds)
	if m := res.Metric; m != nil {
		fmt.Fprintf(g.stdout, "%s: float %.4f, quantized %.4f, drop %.4f (%d samples)\n", m.Name, m.Float, m.Quantized, m.Drop, m.Samples)
	}
	return nil
}

// compare measures the float model and the plan on the evaluation data.
func compare(ctx context.Context, sess *pipeline.Session, plan *potv1.QuantizationPlan) (*metricResult, error) {
	fl, err := sess.Measure(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("evaluate the float model: %w", err)
	}
	q, err := sess.Measure(ctx, plan)
	if err != nil {
		return nil, fmt.Errorf("evaluate the quantized model: %w", err)
	}
	return &metricResult{Name: q.Metric, Float: fl.Value, Quantized: q.Value, Drop: fl.Value - q.Value, Samples: q.Samples}, nil
}

// inputShape is the shape of the model's single input, symbolic
// dimensions as -1.
func inputShape(g *potv1.Graph) ([]int, error) {
	inits := map[string]bool{}
	for _, t := range g.GetInitializers() {
		inits[t.GetName()] = true
	}
	for _, vi := range g.GetInputs() {
		if inits[vi.GetName()] {
			continue
		}
		shape := make([]int, len(vi.GetShape()))
		for i, d := range vi.GetShape() {
			shape[i] = -1
			if s, ok := d.GetValue().(*potv1.Dim_Size); ok && s.Size > 0 {
				shape[i] = int(s.Size)
			}
		}
		return shape, nil
	}
	return nil, fmt.Errorf("the model has no input")
}

// checkWritable fails early when the output folder does not exist or is
// not writable, before any work is done.
func checkWritable(path string) error {
	dir := filepath.Dir(path)
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("output folder %s: %w", dir, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("output folder %s is not a folder", dir)
	}
	f, err := os.CreateTemp(dir, ".pot-write-check-*")
	if err != nil {
		return fmt.Errorf("output folder %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
