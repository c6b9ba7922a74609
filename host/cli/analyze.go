package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/potgo/pot/host/pipeline"
	"github.com/potgo/pot/host/report"
)

type analyzeFlags struct {
	inputs  inputFlags
	model   string
	data    string
	target  string
	preset  string
	subset  int
	samples int
	// samplesSet: --samples was given, and is honoured whatever the
	// model's size (report.Samples chooses otherwise).
	samplesSet bool
	algorithm  string
	report     string
	modelType  string
}

// analyzeResult is the JSON of `pot analyze --json`.
type analyzeResult struct {
	Model   string         `json:"model"`
	Target  string         `json:"target"`
	Preset  string         `json:"preset"`
	Samples int            `json:"samples"`
	Layers  []report.Layer `json:"layers"`
	Seconds float64        `json:"seconds"`
	Report  string         `json:"report,omitempty"`
}

func newAnalyze(g *globals) *cobra.Command {
	f := &analyzeFlags{}
	cmd := &cobra.Command{
		Use:   "analyze",
		Short: "Per-layer sensitivity: SQNR of each layer's output, quantized vs float",
		Long: `analyze quantizes the model (DefaultQuantization unless --algorithm says
otherwise) and runs the float and the quantized model on a few calibration
samples, comparing every layer's output: the SQNR in dB (higher is better;
every 6 dB is about one bit) and the cosine similarity. Layers whose SQNR
falls sharply are the candidates for the ignored scope. Nothing is written
unless --report is given.`,
		Example: `  pot analyze --model resnet.onnx --data calib.json --target cpu
  pot analyze --model resnet.onnx --data images/ --samples 16 --report analysis/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.samplesSet = cmd.Flags().Changed("samples")
			return runAnalyze(cmd.Context(), g, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.model, "model", "m", "", "float ONNX model")
	fl.StringVar(&f.data, "data", "", "calibration data set (descriptor JSON, image folder or glob, .npy/.npz)")
	fl.StringVar(&f.target, "target", "cpu", "target device plugin")
	fl.StringVar(&f.preset, "preset", "performance", "preset of the quantization analysed")
	fl.IntVar(&f.subset, "subset", 300, "calibration samples of the quantization (stat_subset_size)")
	fl.IntVar(&f.samples, "samples", defaultReportSamples, "samples the layer outputs are compared on (default: 32, fewer, down to 4, for a model of hundreds of layers)")
	fl.StringVar(&f.algorithm, "algorithm", defaultQuantization, "algorithm whose plan is analysed")
	fl.StringVar(&f.report, "report", "", "also write report.json and report.html into this folder")
	fl.StringVar(&f.modelType, "model-type", "", modelTypeUsage)
	fl.BoolVar(&g.jsonOut, "json", false, "print the result as JSON on stdout")
	f.inputs.add(fl, false)
	return cmd
}

func runAnalyze(ctx context.Context, g *globals, f *analyzeFlags) error {
	start := time.Now()
	if f.data == "" {
		return fmt.Errorf("no calibration data given (--data)")
	}
	if f.samples <= 0 {
		return fmt.Errorf("--samples must be positive")
	}
	if f.report != "" {
		if err := checkWritable(filepath.Join(f.report, "report.html"), true); err != nil {
			return fmt.Errorf("--report: %w", err)
		}
	}
	o, err := g.openOn(ctx, f.model, f.data, f.target, false, "", &f.inputs, nil)
	if err != nil {
		return err
	}
	defer o.Close()
	graph, calib, sess := o.graph, o.data, o.sess
	qf := &quantizeFlags{preset: f.preset, subset: f.subset, modelType: f.modelType}
	p, err := qf.params(graph, sess.Target().GetDevice(), calib.Len())
	if err != nil {
		return err
	}
	raw, _ := json.Marshal(p)
	plan, _, err := sess.Run(ctx, []pipeline.Step{{Name: algorithmName(f.algorithm), Params: raw}})
	if err != nil {
		return err
	}
	samples := f.samples
	if !f.samplesSet {
		samples = report.Samples(graph, plan, samples)
	}
	rep, err := layerReport(ctx, sess, graph, plan, calib, f.model, samples)
	if err != nil {
		return err
	}
	rep.Kind, rep.Target, rep.Algorithm = "analyze", f.target, algorithmName(f.algorithm)
	rep.Seconds = time.Since(start).Seconds()
	res := analyzeResult{Model: f.model, Target: f.target, Preset: plan.GetPreset(), Samples: rep.LayerSamples,
		Layers: rep.Layers, Seconds: rep.Seconds}
	if f.report != "" {
		if err := rep.Write(f.report); err != nil {
			return err
		}
		res.Report = filepath.Join(f.report, "report.html")
	}
	if g.jsonOut {
		return printJSON(g.stdout, res)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "#\tSQNR dB\tcosine\t node\t\n")
	for i, l := range rep.Layers {
		mark := ""
		if l.Float {
			mark = " (float)"
		}
		fmt.Fprintf(tw, "%d\t%.1f\t%.4f\t %s [%s]%s\t\n", i, l.SQNR, l.Cosine, l.Node, l.OpType, mark)
	}
	tw.Flush()
	fmt.Fprintf(g.stdout, "%d layers, %d samples, target %s, preset %s, %.1f s\n", len(rep.Layers), rep.LayerSamples, f.target, res.Preset, rep.Seconds)
	if res.Report != "" {
		fmt.Fprintf(g.stdout, "report: %s\n", res.Report)
	}
	return nil
}
