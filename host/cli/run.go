package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/potgo/pot/host/config"
	"github.com/potgo/pot/host/dataset"
	"github.com/potgo/pot/host/feed"
	"github.com/potgo/pot/host/metrics"
	"github.com/potgo/pot/host/pipeline"
	"github.com/potgo/pot/host/pluginmgr"
	"github.com/potgo/pot/host/qdq"
	"github.com/potgo/pot/host/report"
	"github.com/potgo/pot/internal/outfile"
	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/hwconfig"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/sdk/schema"
)

// run is one quantization run, from flags or a configuration.
type run struct {
	g          *globals
	f          *quantizeFlags
	cfg        *config.Config
	start      time.Time
	configMode bool
	quick      bool
	chain      *chain
}

// algorithms returns the chain's plugin names.
func (r *run) algorithms() []string {
	var names []string
	for _, a := range r.cfg.Compression.Algorithms {
		names = append(names, algorithmName(a.Name))
	}
	return names
}

// chain is the run's algorithm plugins, started before the session so
// that the run follows what each says it needs.
type chain struct {
	plugins map[string]*pluginmgr.Algorithm
	caps    map[string]*potv1.AlgorithmCapabilities
}

// startChain starts and describes the chain's algorithms.
func (r *run) startChain(ctx context.Context, mgr *pluginmgr.Manager) (*chain, error) {
	c := &chain{plugins: map[string]*pluginmgr.Algorithm{}, caps: map[string]*potv1.AlgorithmCapabilities{}}
	for _, name := range r.algorithms() {
		if _, ok := c.plugins[name]; ok {
			continue
		}
		a, err := mgr.Algorithm(ctx, name)
		if err != nil {
			return nil, err
		}
		d, err := a.Describe(ctx)
		if err != nil {
			return nil, err
		}
		c.plugins[name], c.caps[name] = a, sdk.AlgorithmCapabilities(d)
	}
	return c, nil
}

// first returns the first algorithm of the chain whose capabilities
// satisfy has, or "".
func (r *run) first(has func(*potv1.AlgorithmCapabilities) bool) string {
	for _, n := range r.algorithms() {
		if has(r.chain.caps[n]) {
			return n
		}
	}
	return ""
}

// evaluates names an algorithm of the chain that measures plans, or "".
func (r *run) evaluates() string {
	return r.first(func(c *potv1.AlgorithmCapabilities) bool { return c.GetEvaluates() })
}

func (r *run) quantize(ctx context.Context) error {
	g, f, cfg := r.g, r.f, r.cfg
	log := g.logger()
	algos := r.algorithms()
	last := algos[len(algos)-1]
	paths := outputPaths(cfg.ModelName(), last, f.output, f.outputDir, f.directDump, r.configMode || r.quick, cfg.Model.Path, r.start)
	if err := checkOutputModel(paths.model, cfg.Model.Path); err != nil {
		return err
	}
	if err := checkWritable(paths.model, paths.create); err != nil {
		return err
	}
	if f.report != "" {
		if err := checkWritable(filepath.Join(f.report, "report.html"), true); err != nil {
			return fmt.Errorf("--report: %w", err)
		}
	}
	// Temporary files of earlier runs killed while writing here.
	for _, dir := range []string{filepath.Dir(paths.model), f.report} {
		if dir == "" {
			continue
		}
		for _, p := range outfile.CleanStale(dir) {
			log.Info("removed a temporary file of an interrupted run", "file", p)
		}
	}
	if f.metric != "" {
		if _, err := metrics.New(f.metric); err != nil {
			return fmt.Errorf("--metric: %w", err)
		}
	}
	hw, err := r.hardwareConfig()
	if err != nil {
		return err
	}
	base, graph, inFiles, err := g.importModelFiles(cfg.Model.Path)
	if err != nil {
		return err
	}
	writeOpts := outputOptions(inFiles)
	if err := checkOutputData(paths.model, writeOpts, inFiles); err != nil {
		return err
	}
	calib, eval, err := cfg.Open(feed.Inputs(graph))
	if err != nil {
		return err
	}
	mgr, err := g.manager()
	if err != nil {
		return err
	}
	defer mgr.Close()
	// What the algorithms need, from their descriptions.
	if r.chain, err = r.startChain(ctx, mgr); err != nil {
		return err
	}
	if name := r.evaluates(); name != "" && f.metric != "" {
		if info, _ := metrics.Lookup(f.metric); !info.HigherBetter {
			return fmt.Errorf("--metric %s is lower-is-better; %s needs a metric where higher is better (top1, top5, agreement, sqnr, cosine, psnr)", f.metric, name)
		}
	}
	if f.maxDropSet && r.first(func(c *potv1.AlgorithmCapabilities) bool { return c.GetMaxDropParam() != "" }) == "" {
		return fmt.Errorf("--max-drop applies to an algorithm that takes an accuracy budget (-q accuracy_aware or --algorithm accuracy_aware); %s takes none", strings.Join(algos, ", "))
	}
	if eval == nil && (f.evaluate || r.evaluates() != "") {
		log.Info("no evaluation data given: evaluating on the calibration data")
		eval = calib
	}
	if f.workers == 0 && r.first(func(c *potv1.AlgorithmCapabilities) bool { return c.GetWorkersParam() != "" }) != "" {
		// An algorithm that evaluates independent plans in parallel: one
		// target process per core, one thread each.
		f.workers = runtime.NumCPU()
	}
	if f.workers > 1 && g.threads == 0 {
		g.threads = max(1, runtime.NumCPU()/f.workers)
		mgr.SetThreads(g.threads)
	}
	prog := newProgress(g)
	defer prog.Close()
	opts := pipeline.Options{
		Manager: mgr, Target: cfg.Target(), Graph: graph, Calibration: calib, Evaluation: eval,
		Logger: log, Progress: prog, Metric: f.metric, Workers: f.workers, Resume: f.resume,
		Constants: cfg.Engine.Constants, Output: cfg.Engine.Output, HardwareConfig: hw, Algorithms: r.chain.plugins,
	}
	// The chain is built, and its presets resolved, as soon as the target
	// has described itself: a preset it does not publish is refused
	// before the model is loaded and the data uploaded.
	var steps []pipeline.Step
	opts.Described = func(d *potv1.TargetDescription) error {
		st, err := r.steps(graph, d.GetDevice(), calib.Len())
		if err != nil {
			return err
		}
		steps, err = r.resolvePresets(d, st)
		return err
	}
	if r.first(func(c *potv1.AlgorithmCapabilities) bool { return c.GetCheckpoints() }) != "" {
		opts.Checkpoint = paths.checkpoint
		if err := os.MkdirAll(filepath.Dir(paths.checkpoint), 0o755); err != nil {
			return fmt.Errorf("checkpoint folder: %w", err)
		}
	}
	sess, err := pipeline.Open(ctx, opts)
	if err != nil {
		return err
	}
	defer sess.Close()
	if err := r.validate(ctx, sess, steps); err != nil {
		return err
	}
	plan, reports, err := sess.Run(ctx, steps)
	if err != nil {
		if cps := pipeline.Checkpoints(paths.checkpoint); len(cps) > 0 && ctx.Err() == nil {
			return fmt.Errorf("%w (checkpoint kept: rerun with --resume to continue)", err)
		}
		return err
	}
	res := &quantizeResult{Output: paths.model, Target: cfg.Target(), Preset: usedPreset(plan, steps), Algorithm: last,
		Quantizers: len(plan.GetQuantizers())}
	if len(reports) > 0 {
		res.Reports = reports[len(reports)-1].Report
		res.liftSearch(reports[len(reports)-1].Search)
	}
	if eval != nil && (!r.configMode || f.evaluate || r.evaluates() != "") {
		m, err := compare(ctx, sess, plan)
		if err != nil {
			return err
		}
		res.Metric = m
	}
	// The integer weights hold the levels the target computed with.
	qg, stats, err := qdq.Export(graph, plan, qdq.WithRounding(sdk.Capabilities(sess.Target()).GetRounding()))
	if err != nil {
		return fmt.Errorf("write QDQ model: %w", err)
	}
	log.Info("QDQ model", "activations", stats.Activations, "weights", stats.Weights, "biases", stats.Biases)
	model, err := onnx.FromGraph(qg, base)
	if err != nil {
		return fmt.Errorf("write QDQ model: %w", err)
	}
	var rep *report.Report
	if f.report != "" {
		// Measure before writing anything: a failure leaves no file.
		if rep, err = r.report(ctx, sess, graph, plan, calib, res, reports); err != nil {
			return err
		}
	}
	if err := r.write(paths.model, model, writeOpts, rep, res); err != nil {
		return err
	}
	sess.RemoveCheckpoints()
	if g.jsonOut {
		return printJSON(g.stdout, res)
	}
	fmt.Fprintf(g.stdout, "wrote %s: %d quantizers, target %s, preset %s, %.1f s\n", paths.model, res.Quantizers, res.Target, res.Preset, res.Seconds)
	if m := res.Metric; m != nil {
		if info, _ := metrics.Lookup(m.Name); info.NeedsReference && info.Name != "agreement" {
			// The float model compared with itself says nothing.
			fmt.Fprintf(g.stdout, "%s of the quantized model against the float model: %.4f (%d samples)\n", m.Name, m.Quantized, m.Samples)
		} else {
			fmt.Fprintf(g.stdout, "%s: float %.4f, quantized %.4f, drop %.4f (%d samples)\n", m.Name, m.Float, m.Quantized, m.Drop, m.Samples)
		}
	}
	if res.DefaultDrop != nil && res.FinalDrop != nil {
		met := "met"
		if res.BudgetMet != nil && !*res.BudgetMet {
			met = "NOT met"
		}
		fmt.Fprintf(g.stdout, "accuracy-aware: drop %.4f with the default quantization, %.4f after reverting %d layer(s) (budget %s)", *res.DefaultDrop, *res.FinalDrop, len(res.Reverted), met)
		if len(res.Reverted) > 0 {
			fmt.Fprintf(g.stdout, ": %s", strings.Join(res.Reverted, ", "))
		}
		fmt.Fprintln(g.stdout)
	}
	if res.Report != "" {
		fmt.Fprintf(g.stdout, "report: %s\n", res.Report)
	}
	return nil
}

// hardwareConfig reads the hardware config that replaces the target's
// (--hw-config or engine.hw_config), logging what it leaves out; nil when
// none is given.
func (r *run) hardwareConfig() (*potv1.HardwareConfig, error) {
	path := r.cfg.Engine.HWConfig
	if path == "" {
		return nil, nil
	}
	src := "--hw-config " + path
	if r.configMode && r.f.hwConfig == "" {
		src = r.cfg.Path + ": engine.hw_config " + path
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	hw, warnings, err := hwconfig.ParseWarnings(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	log := r.g.logger()
	for _, w := range warnings {
		log.Warn("hardware config: "+w, "file", path)
	}
	log.Info("hardware config replaces the target's", "file", path, "operations", len(hw.GetOperations()))
	return hw, nil
}

// write writes the run's outputs — the model, its external data file and
// the report — as one group: all are staged as temporary files in their
// folders and renamed into place only once every one is written, so a
// failure leaves none of them (nor a temporary file, nor a folder the run
// created).
func (r *run) write(path string, model *onnxpb.ModelProto, opts onnx.WriteOptions, rep *report.Report, res *quantizeResult) (err error) {
	tx := outputTxn()
	var undo []func()
	defer func() {
		if err != nil {
			tx.Abort()
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	u, err := makeDirs(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	undo = append(undo, u)
	if err := onnx.WriteStaged(tx, path, model, opts); err != nil {
		return err
	}
	res.Seconds = time.Since(r.start).Seconds()
	if rep != nil {
		rep.Seconds = res.Seconds
		rep.OutputBytes = max(tx.Size(path), 0) + max(tx.Size(path+".data"), 0)
		dir := r.f.report
		u, err := makeDirs(dir)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		undo = append(undo, u)
		if err := rep.Stage(tx, dir); err != nil {
			return err
		}
		res.Report = filepath.Join(dir, "report.html")
	}
	return tx.Commit()
}

// steps builds the chain with its parameters.
func (r *run) steps(graph *potv1.Graph, device string, calibSamples int) ([]pipeline.Step, error) {
	var steps []pipeline.Step
	for i, a := range r.cfg.Compression.Algorithms {
		name := algorithmName(a.Name)
		caps := r.chain.caps[name]
		var raw json.RawMessage
		if r.configMode {
			var err error
			if raw, err = r.cfg.AlgorithmParams(i, device); err != nil {
				return nil, err
			}
			if key := caps.GetWorkersParam(); key != "" && r.f.workers > 0 {
				if raw, err = setParam(raw, key, r.f.workers); err != nil {
					return nil, err
				}
			}
		} else {
			p, err := r.f.params(graph, device, calibSamples)
			if err != nil {
				return nil, err
			}
			if key := caps.GetMaxDropParam(); key != "" && r.f.maxDropSet {
				p[key] = r.f.maxDrop
			}
			if key := caps.GetWorkersParam(); key != "" && r.f.workers > 0 {
				p[key] = r.f.workers
			}
			raw, _ = json.Marshal(p)
		}
		steps = append(steps, pipeline.Step{Name: name, Params: raw})
	}
	return steps, nil
}

// resolvePresets resolves the steps' presets for target d
// (pipeline.ResolvePresets); in a configuration an error names the file
// and the key.
func (r *run) resolvePresets(d *potv1.TargetDescription, steps []pipeline.Step) ([]pipeline.Step, error) {
	out, err := pipeline.ResolvePresets(d, r.g.logger(), steps)
	var pe *pipeline.PresetError
	if r.configMode && errors.As(err, &pe) {
		return nil, &config.Error{File: r.cfg.Path, Problems: []schema.Problem{
			{Path: fmt.Sprintf("compression.algorithms[%d].params.preset", pe.Step), Message: pe.Err.Error()}}}
	}
	return out, err
}

// usedPreset is the preset the plan was built with: the plan's, else
// the last step's resolved preset parameter.
func usedPreset(plan *potv1.QuantizationPlan, steps []pipeline.Step) string {
	if p := plan.GetPreset(); p != "" {
		return p
	}
	for i := len(steps) - 1; i >= 0; i-- {
		if p := pipeline.Preset(steps[i].Params); p != "" {
			return p
		}
	}
	return ""
}

func setParam(raw json.RawMessage, key string, v any) (json.RawMessage, error) {
	m := map[string]any{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	m[key] = v
	return json.Marshal(m)
}

// validate checks every step's parameters (pipeline.CheckParams) and
// reports all problems at once.
func (r *run) validate(ctx context.Context, sess *pipeline.Session, steps []pipeline.Step) error {
	var problems []schema.Problem
	for i, st := range steps {
		found, err := sess.CheckParams(ctx, st.Name, st.Params)
		if err != nil {
			return err
		}
		prefix := fmt.Sprintf("compression.algorithms[%d].params", i)
		if !r.configMode {
			prefix = "parameters of " + st.Name
		}
		for _, p := range found {
			p.Path = strings.TrimSuffix(prefix+"."+p.Path, ".")
			problems = append(problems, p)
		}
	}
	if len(problems) == 0 {
		return nil
	}
	if r.configMode {
		return &config.Error{File: r.cfg.Path, Problems: problems}
	}
	return &schema.Error{Problems: problems}
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
	// Values and drop are rounded to the metric's precision (see
	// metrics.Info.Round): 1/N for a fraction of N samples, else six
	// significant digits.
	info, ok := metrics.Lookup(q.Metric)
	if !ok {
		info = metrics.Info{Name: q.Metric, HigherBetter: true}
	}
	return &metricResult{Name: q.Metric, Float: info.Round(fl.Value, fl.Samples), Quantized: info.Round(q.Value, q.Samples),
		Drop: info.RoundDrop(fl.Value, q.Value, q.Samples), Samples: q.Samples}, nil
}

// report measures the per-layer error and gathers the report.
func (r *run) report(ctx context.Context, sess *pipeline.Session, graph *potv1.Graph, plan *potv1.QuantizationPlan,
	calib dataset.Dataset, res *quantizeResult, steps []pipeline.StepReport) (*report.Report, error) {
	rep, err := layerReport(ctx, sess, graph, plan, calib, r.cfg.Model.Path, defaultReportSamples)
	if err != nil {
		return nil, err
	}
	rep.Kind = "quantize"
	rep.Preset = res.Preset
	rep.Output = res.Output
	rep.Target = res.Target
	rep.Algorithm = res.Algorithm
	if m := res.Metric; m != nil {
		info, _ := metrics.Lookup(m.Name)
		rep.Metric = &report.Metric{Name: m.Name, Float: m.Float, Quantized: m.Quantized, Drop: m.Drop, Samples: m.Samples, HigherBetter: info.HigherBetter}
	}
	if len(steps) > 0 {
		rep.AlgorithmReport = steps[len(steps)-1].Report
		for _, st := range steps {
			if t := report.TrajectoryOf(st.Search); t != nil {
				rep.Trajectory = t
			}
		}
	}
	return rep, nil
}

// layerReport is the part of a report that analyze writes too.
func layerReport(ctx context.Context, sess *pipeline.Session, graph *potv1.Graph, plan *potv1.QuantizationPlan,
	calib dataset.Dataset, model string, samples int) (*report.Report, error) {
	idx := sdk.Subset(calib.Len(), samples, 0, true)
	layers, err := report.Layers(ctx, sess, graph, sess.ModelID(), plan, idx)
	if err != nil {
		return nil, err
	}
	rep := &report.Report{
		Tool: "pot " + Version, Created: time.Now(), Model: model, Device: sess.Target().GetDevice(),
		Preset: plan.GetPreset(), Layers: layers, LayerSamples: len(idx), Quantizers: report.Quantizers(plan),
	}
	if st, err := os.Stat(model); err == nil {
		rep.ModelBytes = st.Size()
	}
	return rep, nil
}
