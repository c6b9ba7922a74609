package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/potgo/pot/host/metrics"
)

type evalFlags struct {
	model  string
	data   string
	target string
	metric string
	inputs inputFlags
	remote remoteFlags
}

// evalResult is the JSON of `pot eval --json`.
type evalResult struct {
	Metric  string  `json:"metric"`
	Value   float64 `json:"value"`
	Samples int     `json:"samples"`
	Seconds float64 `json:"seconds"`
	Target  string  `json:"target"`
	Model   string  `json:"model"`
}

func newEval(g *globals) *cobra.Command {
	f := &evalFlags{}
	cmd := &cobra.Command{
		Use:     "eval",
		Short:   "Measure a model (float or QDQ) on a data set, on a target",
		Example: `  pot eval --model resnet_int8.onnx --data test.json --target cpu --json`,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runEval(cmd.Context(), g, f) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.model, "model", "m", "", "ONNX model")
	fl.StringVar(&f.data, "data", "", "data set (descriptor JSON, image folder, .npy, or .npz with one array per model input)")
	fl.StringVar(&f.target, "target", "cpu", "target device plugin")
	fl.StringVar(&f.metric, "metric", "", "metric: top1, top5, agreement, sqnr, cosine, mse, psnr[:range] (default: top1 with labels, else agreement)")
	fl.BoolVar(&g.jsonOut, "json", false, "print the result as JSON on stdout")
	f.inputs.add(fl, true)
	f.remote.add(fl, true)
	return cmd
}

func runEval(ctx context.Context, g *globals, f *evalFlags) error {
	start := time.Now()
	if f.data == "" {
		return fmt.Errorf("no data given (--data)")
	}
	if f.metric != "" {
		if _, err := metrics.New(f.metric); err != nil {
			return fmt.Errorf("--metric: %w", err)
		}
	}
	o, err := g.openOn(ctx, f.model, f.data, f.target, true, f.metric, &f.inputs, &f.remote)
	if err != nil {
		return err
	}
	defer o.Close()
	sess := o.sess
	r, err := sess.Measure(ctx, nil)
	if err != nil {
		return err
	}
	res := evalResult{Metric: r.Metric, Value: r.Value, Samples: r.Samples, Seconds: time.Since(start).Seconds(), Target: f.target, Model: f.model}
	if g.jsonOut {
		return printJSON(g.stdout, res)
	}
	fmt.Fprintf(g.stdout, "%s %.4f on %d samples (%s, target %s, %.1f s)\n", r.Metric, r.Value, r.Samples, f.model, f.target, res.Seconds)
	return nil
}
