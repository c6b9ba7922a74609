package cli

import (
	"context"
	"encoding/json"
	"errors"
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
	"github.com/potgo/pot/sdk/schema"
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

	weightBits        int
	weightGranularity string
	activationMode    string
	rangeEstimator    string
	fastBias          bool
	noFastBias        bool
	ignore            []string
	saturationFix     string
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
	fl.IntVar(&f.weightBits, "weight-bits", 0, "weight bits (8, 4, 2), among those the target allows")
	fl.StringVar(&f.weightGranularity, "weight-granularity", "", "pertensor or perchannel weights")
	fl.StringVar(&f.activationMode, "activation-mode", "", "symmetric or asymmetric activations")
	fl.StringVar(&f.rangeEstimator, "range-estimator", "", "activation range estimator preset: default (min/max) or quantile")
	fl.BoolVar(&f.fastBias, "fast-bias", false, "FastBiasCorrection (the default)")
	fl.BoolVar(&f.noFastBias, "no-fast-bias", false, "full BiasCorrection instead of FastBiasCorrection")
	fl.StringArrayVar(&f.ignore, "ignore", nil, "node name or op type to keep in float (repeatable)")
	fl.StringVar(&f.saturationFix, "saturation-fix", "", "first_layer (default), all or no: 7-bit weights against int16 overflow on pre-VNNI CPUs")
	cmd.MarkFlagsMutuallyExclusive("fast-bias", "no-fast-bias")
	return cmd
}

// params builds the algorithm parameters from the flags.
func (f *quantizeFlags) params(graph *potv1.Graph, device string, calibSamples int) (map[string]any, error) {
	p := map[string]any{
		"target_device":    device,
		"preset":           f.preset,
		"stat_subset_size": f.subset,
		"shuffle_data":     f.subset > 0 && f.subset < calibSamples,
		"seed":             0,
	}
	w := map[string]any{}
	if f.weightBits != 0 {
		w["bits"] = f.weightBits
	}
	if f.weightGranularity != "" {
		w["granularity"] = f.weightGranularity
	}
	if len(w) > 0 {
		p["weights"] = w
	}
	if f.activationMode != "" {
		p["activations"] = map[string]any{"mode": f.activationMode}
	}
	if f.rangeEstimator != "" {
		p["range_estimator"] = map[string]any{"preset": f.rangeEstimator}
	}
	if f.noFastBias {
		p["use_fast_bias"] = false
	}
	if f.saturationFix != "" {
		p["saturation_fix"] = f.saturationFix
	}
	if len(f.ignore) > 0 {
		ig, err := ignoredScope(graph, f.ignore)
		if err != nil {
			return nil, err
		}
		p["ignored"] = ig
	}
	return p, nil
}

// ignoredScope turns --ignore values into POT's ignored scope: node names
// into scope, op types into operations.
func ignoredScope(g *potv1.Graph, names []string) (map[string]any, error) {
	nodes := map[string]bool{}
	types := map[string]bool{}
	var all []string
	for _, n := range g.GetNodes() {
		nodes[n.GetName()] = true
		types[n.GetOpType()] = true
		all = append(all, n.GetName(), n.GetOpType())
	}
	var scope []string
	var ops []map[string]any
	for _, name := range names {
		switch {
		case nodes[name]:
			scope = append(scope, name)
		case types[name]:
			ops = append(ops, map[string]any{"type": name})
		default:
			msg := fmt.Sprintf("--ignore %q: the model has no node or operation type of that name", name)
			if near := schema.Nearest(name, all); near != "" {
				msg += fmt.Sprintf("; did you mean %q?", near)
			}
			return nil, errors.New(msg)
		}
	}
	ig := map[string]any{}
	if len(scope) > 0 {
		ig["scope"] = scope
	}
	if len(ops) > 0 {
		ig["operations"] = ops
	}
	return ig, nil
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
	params, err := f.params(graph, "", calib.Len())
	if err != nil {
		return err
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
	params["target_device"] = sess.Target().GetDevice()
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
