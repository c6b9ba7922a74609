package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/potgo/pot/host/config"
	"github.com/potgo/pot/host/metrics"
	"github.com/potgo/pot/host/report"
	"github.com/potgo/pot/proto/potv1"
	sdkgraph "github.com/potgo/pot/sdk/graph"
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
	// outputFormat is onnx (QDQ) or ir (OpenVINO IR); "" decides by -o.
	outputFormat string

	weightBits        int
	weightGranularity string
	activationMode    string
	rangeEstimator    string
	fastBias          bool
	noFastBias        bool
	ignore            []string
	saturationFix     string
	modelType         string
	// smoothQuantAlpha is DefaultQuantization's smooth_quant_alpha (and
	// SmoothQuant's alpha), when smoothQuantAlphaSet.
	smoothQuantAlpha    float64
	smoothQuantAlphaSet bool

	// POT's command line.
	config     string
	quick      string
	name       string
	maxDrop    float64
	maxDropSet bool // --max-drop was given (0 is a budget too)
	workersSet bool // --workers was given
	evaluate   bool
	outputDir  string
	directDump bool
	engine     string
	shape      []string
	inputs     inputFlags

	hwConfig string
	remote   remoteFlags

	metric  string
	report  string
	workers int
	resume  bool
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
	Report     string          `json:"report,omitempty"`
	Reports    json.RawMessage `json:"reports,omitempty"`
	// ChainReports are every algorithm's report when a chain of several
	// ran (Reports is the last's).
	ChainReports []report.ChainReport `json:"chain_reports,omitempty"`
	// The accuracy search, when the algorithm ran one: the layers
	// returned to float in order, and each iteration with the drop after
	// it.
	Reverted   []string            `json:"reverted,omitempty"`
	Iterations *[]report.Iteration `json:"iterations,omitempty"` // [] when none
	// Trials of the hyperparameter search (tune_hyperparams), when it ran.
	Trials []report.Trial `json:"tune_trials,omitempty"`

	DefaultDrop *float64 `json:"default_drop,omitempty"`
	FinalDrop   *float64 `json:"final_drop,omitempty"`
	BudgetMet   *bool    `json:"budget_met,omitempty"`
}

// liftSearch copies the figures of an algorithm's accuracy search to the
// top of the result.
func (r *quantizeResult) liftSearch(s *potv1.SearchResult) {
	if s == nil {
		return
	}
	// The drops are differences of two metric values: six significant
	// digits (metrics.Info.Round) drop the float noise of the subtraction.
	def, final, met := metrics.Info{}.Round(s.GetDefaultDrop(), 0), metrics.Info{}.Round(s.GetFinalDrop(), 0), s.GetMet()
	r.DefaultDrop, r.FinalDrop, r.BudgetMet = &def, &final, &met
	r.Reverted = append([]string{}, s.GetReverted()...)
	its := report.IterationsOf(s)
	r.Iterations = &its
	r.Trials = report.TrialsOf(s)
}

type metricResult struct {
	Name      string  `json:"name"`
	Float     float64 `json:"float"`
	Quantized float64 `json:"quantized"`
	Drop      float64 `json:"drop"`
	Samples   int     `json:"samples"`
}

const (
	// defaultQuantization is the algorithm run unless one is named.
	defaultQuantization  = "DefaultQuantization"
	defaultOutputDir     = "results"
	defaultReportSamples = 32
)

// algorithmAliases are the short names of -q and --algorithm: naming
// only; what the host does for an algorithm follows its description
// (sdk.AlgorithmCapabilities), never its name.
var algorithmAliases = map[string]string{
	"default":        defaultQuantization,
	"accuracy_aware": "AccuracyAwareQuantization",
}

// algorithmName resolves an alias.
func algorithmName(s string) string {
	if a, ok := algorithmAliases[s]; ok {
		return a
	}
	return s
}

func newQuantize(g *globals) *cobra.Command {
	return quantizeCommand(g, &quantizeFlags{})
}

// quantizeCommand is pot quantize with its flags in f.
func quantizeCommand(g *globals, f *quantizeFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "quantize",
		Short: "Quantize a float ONNX model (or OpenVINO IR) for a target",
		Long: `Quantize a float ONNX model (or OpenVINO IR, model.xml with model.bin
beside it) for a target, from flags or from a POT configuration file (-c). Quick mode (-q default|accuracy_aware) and a
configuration write to POT's layout, results/<model>_<algorithm>/<date>/optimized/,
unless -o names the output file.`,
		Example: `  pot quantize --model resnet.onnx --data calib.json --eval-data test.json \
      --target cpu --preset performance --subset 300 -o resnet_int8.onnx --json
  pot quantize -c examples/configs/lenet_mnist_default.json -e
  pot quantize -q accuracy_aware -m lenet.onnx --data calib.json --eval-data test.json --max-drop 0.005
  pot quantize -m lenet.onnx --data images/ --report report/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runQuantize(cmd.Context(), cmd, g, f) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.model, "model", "m", "", "float ONNX model")
	fl.StringVar(&f.data, "data", "", "calibration data set (descriptor JSON, image folder or glob, .npy/.npz)")
	fl.StringVar(&f.data, "data-source", "", "same as --data (POT's name)")
	fl.StringVar(&f.evalData, "eval-data", "", "evaluation data set; with labels, the drop in top-1 is reported")
	fl.StringVar(&f.target, "target", "cpu", "target device plugin: cpu, gpu, vpu, gna, ...")
	fl.StringVar(&f.preset, "preset", "performance", "performance (symmetric), mixed (asymmetric activations) or accuracy, among those the target publishes (accuracy runs as mixed, mixed as accuracy, where the target has only the other)")
	fl.IntVar(&f.subset, "subset", 300, "calibration samples (stat_subset_size), drawn with a fixed seed; 0 = all")
	fl.StringVarP(&f.output, "output", "o", "", "output model: QDQ ONNX, or OpenVINO IR (NAME.xml + NAME.bin) with --output-format ir (default: MODEL_int8.onnx or .xml beside the model; with -c or -q POT's results layout)")
	fl.StringVar(&f.outputFormat, "output-format", "", "onnx (QDQ ONNX model) or ir (OpenVINO IR: MODEL.xml and MODEL.bin, FakeQuantize layers, int8 weights); default: ir when -o ends in .xml, else onnx")
	fl.StringVar(&f.algorithm, "algorithm", defaultQuantization, "algorithm plugin to run (aliases: default, accuracy_aware)")
	fl.BoolVar(&g.jsonOut, "json", false, "print the result as JSON on stdout")
	fl.IntVar(&f.weightBits, "weight-bits", 0, "weight bits (8, 4, 2), among those the target allows")
	fl.StringVar(&f.weightGranularity, "weight-granularity", "", "pertensor or perchannel weights")
	fl.StringVar(&f.activationMode, "activation-mode", "", "symmetric or asymmetric activations")
	fl.StringVar(&f.rangeEstimator, "range-estimator", "", "activation range estimator preset: default (min/max) or quantile")
	fl.BoolVar(&f.fastBias, "fast-bias", false, "FastBiasCorrection (the default)")
	fl.BoolVar(&f.noFastBias, "no-fast-bias", false, "full BiasCorrection instead of FastBiasCorrection")
	fl.StringArrayVar(&f.ignore, "ignore", nil, "node name or op type to keep in float (repeatable)")
	fl.StringVar(&f.saturationFix, "saturation-fix", "", "first_layer (default), all or no: 7-bit weights against int16 overflow on pre-VNNI CPUs")
	fl.StringVar(&f.modelType, "model-type", "", modelTypeUsage)
	fl.Float64Var(&f.smoothQuantAlpha, "smooth-quant-alpha", -1, smoothQuantAlphaUsage)
	f.remote.add(fl, true)
	fl.StringVar(&f.hwConfig, "hw-config", "", "hardware config file in POT's layout (OpenVINO or ONNX operation names) replacing the target's, as the algorithms see it; also engine.hw_config")

	fl.StringVarP(&f.config, "config", "c", "", "POT configuration file (JSON with comments): model, engine and compression sections")
	fl.StringVarP(&f.quick, "quantize", "q", "", "POT's quick mode: default or accuracy_aware (with -m and --data)")
	fl.StringVarP(&f.name, "name", "n", "", "model name for the results folder and output file (default: the model file's name)")
	fl.Float64Var(&f.maxDrop, "max-drop", 0, "accuracy-aware: the largest metric drop accepted (maximal_drop; default 0.01)")
	fl.BoolVarP(&f.evaluate, "evaluate", "e", false, "measure the float and the quantized model after quantization (on --eval-data, else the calibration data)")
	fl.StringVar(&f.outputDir, "output-dir", "", "results folder: DIR/<model>_<algorithm>/<date>/optimized/<model>.onnx (default ./results with -c or -q)")
	fl.BoolVarP(&f.directDump, "direct-dump", "d", false, "write to OUTPUT-DIR/optimized/ without the algorithm and date folders")
	fl.StringVar(&f.engine, "engine", config.EngineSimplified, "simplified (data from --data) or data_free (generated samples of --shape)")
	fl.StringArrayVar(&f.shape, "shape", nil, "sample shape for --engine data_free, e.g. 1,3,224,224; NAME=DIMS per input of a model with several (repeatable)")
	f.inputs.add(fl, true)
	fl.StringVar(&f.metric, "metric", "", "metric: top1, top5, agreement, sqnr, cosine, mse, psnr[:range] (default: top1 with labels, else agreement)")
	fl.StringVar(&f.report, "report", "", "write report.json and report.html (charts: per-layer SQNR, ranges, accuracy-aware trajectory) into this folder")
	fl.IntVar(&f.workers, "workers", 0, "target processes that evaluations and statistics spread over, remote ones (--remote-target) included (default: cores for accuracy-aware, one more per remote target)")
	fl.BoolVar(&f.resume, "resume", false, "accuracy-aware: continue an interrupted run from its checkpoint")
	cmd.MarkFlagsMutuallyExclusive("fast-bias", "no-fast-bias")
	cmd.MarkFlagsMutuallyExclusive("output", "output-dir")
	return cmd
}

// runFlags are the flags that define a run, which a configuration file
// defines instead.
var runFlags = []string{"model", "data", "data-source", "eval-data", "target", "preset", "subset", "algorithm",
	"quantize", "name", "max-drop", "engine", "shape", "constant", "metric-output", "weight-bits", "weight-granularity", "activation-mode",
	"range-estimator", "fast-bias", "no-fast-bias", "ignore", "saturation-fix", "model-type", "smooth-quant-alpha"}

// modelTypeUsage describes --model-type.
const modelTypeUsage = "transformer: POT's model_type (keeps Add, Mul, Sub, Pow, ReduceMean and divisions by a constant in float, symmetric activations for MatMuls of two activations)"

// smoothQuantAlphaUsage describes --smooth-quant-alpha.
const smoothQuantAlphaUsage = "SmoothQuant's migration strength α in [0, 1] (smooth_quant_alpha): with --model-type transformer, DefaultQuantization runs the SmoothQuant plugin first; with --algorithm SmoothQuant, its alpha; negative: off"

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
	switch f.modelType {
	case "", "None":
	case "transformer":
		p["model_type"] = f.modelType
	default:
		return nil, fmt.Errorf("--model-type %q: want transformer (or None)", f.modelType)
	}
	if f.smoothQuantAlphaSet {
		if f.smoothQuantAlpha > 1 {
			return nil, fmt.Errorf("--smooth-quant-alpha %g: want α in [0, 1] (negative: off)", f.smoothQuantAlpha)
		}
		p["smooth_quant_alpha"] = f.smoothQuantAlpha
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
// into scope, op types into operations. Nodes of subgraphs (If branches,
// loop bodies) count.
func ignoredScope(g *potv1.Graph, names []string) (map[string]any, error) {
	nodes := map[string]bool{}
	types := map[string]bool{}
	var all []string
	sdkgraph.Walk(g, func(n *potv1.Node, _ *potv1.Graph, _ *potv1.Node) {
		nodes[n.GetName()] = true
		types[n.GetOpType()] = true
		all = append(all, n.GetName(), n.GetOpType())
	})
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

// buildConfig turns the flags into a configuration (or reads -c).
func (f *quantizeFlags) buildConfig(cmd *cobra.Command) (*config.Config, error) {
	if f.config != "" {
		var given []string
		for _, name := range runFlags {
			if cmd.Flags().Changed(name) {
				given = append(given, "--"+name)
			}
		}
		if len(given) > 0 {
			return nil, fmt.Errorf("-c/--config defines the model, data, target and algorithms; drop %s (or edit the configuration)", strings.Join(given, ", "))
		}
		cfg, err := config.Load(f.config)
		if err != nil {
			return nil, err
		}
		if f.hwConfig != "" {
			if cfg.Engine.HWConfig != "" {
				return nil, fmt.Errorf("--hw-config and engine.hw_config of %s both give the hardware config; give one", f.config)
			}
			cfg.Engine.HWConfig = f.hwConfig
		}
		if len(f.remote.endpoints) > 0 {
			if len(cfg.Engine.RemoteTargets) > 0 {
				return nil, fmt.Errorf("--remote-target and engine.remote_targets of %s both list remote targets; give one", f.config)
			}
			cfg.Engine.RemoteTargets = f.remote.endpoints
		}
		if f.remote.given() {
			cfg.Engine.RemoteTLS = f.remote.tls()
		}
		return cfg, nil
	}
	algo := algorithmName(f.algorithm)
	var err error
	if f.quick != "" {
		if _, ok := algorithmAliases[f.quick]; !ok {
			return nil, fmt.Errorf("-q/--quantize %q: want default or accuracy_aware", f.quick)
		}
		if cmd.Flags().Changed("algorithm") {
			return nil, fmt.Errorf("-q/--quantize and --algorithm both choose the algorithm; give one")
		}
		algo = algorithmName(f.quick)
	}
	if f.model == "" {
		return nil, fmt.Errorf("no model given (--model or -c)")
	}
	cfg := &config.Config{
		Model:       config.Model{Path: f.model, Name: f.name},
		Compression: config.Compression{TargetDevice: f.target, Algorithms: []config.Algorithm{{Name: algo}}},
	}
	switch f.engine {
	case config.EngineSimplified:
		if f.data == "" {
			return nil, fmt.Errorf("no calibration data given (--data)")
		}
		if len(f.shape) > 0 {
			return nil, fmt.Errorf("--shape applies to --engine data_free")
		}
		cfg.Engine = config.Engine{Type: config.EngineSimplified, DataSource: f.data, EvalDataSource: f.evalData}
		if cfg.Engine.Constants, err = f.inputs.constantMap(); err != nil {
			return nil, err
		}
	case config.EngineDataFree:
		if f.data != "" {
			return nil, fmt.Errorf("--engine data_free generates its data; drop --data")
		}
		n := f.subset
		if n <= 0 {
			n = 300
		}
		cfg.Engine = config.Engine{Type: config.EngineDataFree, EvalDataSource: f.evalData, SubsetSize: n}
		if cfg.Engine.Shape, cfg.Engine.Shapes, err = config.ParseShapes(f.shape); err != nil {
			return nil, err
		}
		if cfg.Engine.Constants, err = f.inputs.constantMap(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("--engine %q: want simplified or data_free", f.engine)
	}
	cfg.Engine.Output = f.inputs.metricOutput
	cfg.Engine.HWConfig = f.hwConfig
	cfg.Engine.RemoteTargets, cfg.Engine.RemoteTLS = f.remote.endpoints, f.remote.tls()
	return cfg, nil
}

func runQuantize(ctx context.Context, cmd *cobra.Command, g *globals, f *quantizeFlags) error {
	r, err := newRun(cmd, g, f)
	if err != nil {
		return err
	}
	return r.quantize(ctx)
}

// newRun checks the flags of cmd and makes the run they define.
func newRun(cmd *cobra.Command, g *globals, f *quantizeFlags) (*run, error) {
	f.maxDropSet = cmd.Flags().Changed("max-drop")
	f.workersSet = cmd.Flags().Changed("workers")
	f.smoothQuantAlphaSet = cmd.Flags().Changed("smooth-quant-alpha")
	if f.maxDropSet && f.maxDrop < 0 {
		return nil, fmt.Errorf("--max-drop %g is negative", f.maxDrop)
	}
	start := time.Now()
	if err := g.validate(); err != nil {
		return nil, err
	}
	cfg, err := f.buildConfig(cmd)
	if err != nil {
		return nil, err
	}
	log := g.logger()
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	return &run{g: g, f: f, cfg: cfg, start: start, configMode: f.config != "", quick: f.quick != ""}, nil
}
