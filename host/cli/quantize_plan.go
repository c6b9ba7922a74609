package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/potgo/pot/host/config"
	"github.com/potgo/pot/host/dataset"
	"github.com/potgo/pot/host/feed"
	"github.com/potgo/pot/host/metrics"
	"github.com/potgo/pot/host/pipeline"
	"github.com/potgo/pot/internal/outfile"
	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/hwconfig"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/sdk/schema"
)

// quantizePlan is what a quantization run does, decided before the
// session opens: planInputs fills in its files and inputs, planChain what
// the chain's algorithms need of the session, and planSteps (once the
// target has described itself) the steps.
type quantizePlan struct {
	// algorithm is the chain's last algorithm, which names the output.
	algorithm string
	paths     paths
	// format is the output's: formatONNX or formatIR.
	format    string
	writeOpts onnx.WriteOptions
	// hw replaces the target's hardware config; nil: none given.
	hw *potv1.HardwareConfig
	// base is the float model, graph its graph.
	base  *onnxpb.ModelProto
	graph *potv1.Graph
	// calib and eval are the data sets; eval may be nil.
	calib, eval dataset.Dataset

	// workers is the number of target processes evaluating in parallel
	// (0: one); threads the threads per target process to set (0: leave
	// them); checkpoint the base path of checkpoints ("": none).
	workers    int
	threads    int
	checkpoint string
	// measure tells whether the float and quantized models are measured
	// on eval after the chain.
	measure bool
}

// planInputs checks where the run writes and reads its model, hardware
// config and data: everything that needs no plugin.
func (r *run) planInputs() (*quantizePlan, error) {
	f, cfg := r.f, r.cfg
	algos := r.algorithms()
	qp := &quantizePlan{algorithm: algos[len(algos)-1]}
	var err error
	if qp.format, err = outputFormat(f.outputFormat, f.output); err != nil {
		return nil, err
	}
	qp.paths = outputPaths(cfg.ModelName(), qp.algorithm, f.output, f.outputDir, f.directDump, r.configMode || r.quick, cfg.Model.Path, r.start, qp.format)
	if err := r.checkOutputs(qp.paths); err != nil {
		return nil, err
	}
	if f.metric != "" {
		if _, err := metrics.New(f.metric); err != nil {
			return nil, fmt.Errorf("--metric: %w", err)
		}
	}
	if qp.hw, err = r.hardwareConfig(); err != nil {
		return nil, err
	}
	base, graph, inFiles, err := r.g.importModelWeights(cfg.Model.Path, cfg.Model.Weights)
	if err != nil {
		return nil, err
	}
	if err := r.g.quantizable(cfg.Model.Path, graph); err != nil {
		return nil, err
	}
	qp.base, qp.graph, qp.writeOpts = base, graph, outputOptions(inFiles)
	if err := checkOutputData(qp.paths.model, qp.writeOpts, inFiles); err != nil {
		return nil, err
	}
	if qp.calib, qp.eval, err = cfg.Open(feed.Inputs(graph)); err != nil {
		return nil, err
	}
	return qp, nil
}

// checkOutputs fails before any work when the output model or the
// report cannot be written, and removes the temporary files of earlier
// runs killed while writing there.
func (r *run) checkOutputs(p paths) error {
	if err := checkOutputModel(p.model, r.cfg.Model.Path); err != nil {
		return err
	}
	if err := checkWritable(p.model, p.create); err != nil {
		return err
	}
	if r.f.report != "" {
		if err := checkWritable(filepath.Join(r.f.report, "report.html"), true); err != nil {
			return fmt.Errorf("--report: %w", err)
		}
	}
	log := r.g.logger()
	for _, dir := range []string{filepath.Dir(p.model), r.f.report} {
		if dir == "" {
			continue
		}
		for _, p := range outfile.CleanStale(dir) {
			log.Info("removed a temporary file of an interrupted run", "file", p)
		}
	}
	return nil
}

// planChain decides what the chain's algorithms (r.chain, from their
// descriptions) need of the session: evaluation data, parallel workers
// and threads, checkpoints. It refuses flags no algorithm of the chain
// takes.
func (r *run) planChain(qp *quantizePlan) error {
	f := r.f
	if name := r.evaluates(); name != "" && f.metric != "" {
		if info, _ := metrics.Lookup(f.metric); !info.HigherBetter {
			return fmt.Errorf("--metric %s is lower-is-better; %s needs a metric where higher is better (top1, top5, agreement, sqnr, cosine, psnr)", f.metric, name)
		}
	}
	if f.maxDropSet && r.first(func(c *potv1.AlgorithmCapabilities) bool { return c.GetMaxDropParam() != "" }) == "" {
		return fmt.Errorf("--max-drop applies to an algorithm that takes an accuracy budget (-q accuracy_aware or --algorithm accuracy_aware); %s takes none", strings.Join(r.algorithms(), ", "))
	}
	if qp.eval == nil && (f.evaluate || r.evaluates() != "") {
		r.g.logger().Info("no evaluation data given: evaluating on the calibration data")
		qp.eval = qp.calib
	}
	qp.workers = f.workers
	if qp.workers == 0 && r.first(func(c *potv1.AlgorithmCapabilities) bool { return c.GetWorkersParam() != "" }) != "" {
		// An algorithm that evaluates independent plans in parallel: one
		// target process per core, one thread each.
		qp.workers = runtime.NumCPU()
	}
	// Remote targets are workers too (--workers counts them): with as
	// many local processes as asked for beside them by default.
	remotes := len(r.cfg.Engine.RemoteTargets)
	if remotes > 0 && !f.workersSet {
		qp.workers = max(qp.workers, 1) + remotes
	}
	if local := max(qp.workers, 1+remotes) - remotes; local > 1 && r.g.threads == 0 {
		qp.threads = max(1, runtime.NumCPU()/local)
	}
	if r.first(func(c *potv1.AlgorithmCapabilities) bool { return c.GetCheckpoints() }) != "" {
		qp.checkpoint = qp.paths.checkpoint
	}
	qp.measure = qp.eval != nil && (!r.configMode || f.evaluate || r.evaluates() != "")
	return nil
}

// planSteps builds the chain's steps for the target described as d:
// their parameters (from the flags or the configuration) and presets
// resolved for the target.
func (r *run) planSteps(qp *quantizePlan, d *potv1.TargetDescription) ([]pipeline.Step, error) {
	st, err := r.steps(qp.graph, d.GetDevice(), qp.calib.Len(), qp.workers)
	if err != nil {
		return nil, err
	}
	return r.resolvePresets(d, st)
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

// steps builds the chain with its parameters; workers is the number of
// parallel workers for an algorithm that takes it (0: unset).
func (r *run) steps(graph *potv1.Graph, device string, calibSamples, workers int) ([]pipeline.Step, error) {
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
			if key := caps.GetWorkersParam(); key != "" && workers > 0 {
				if raw, err = setParam(raw, key, workers); err != nil {
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
			if key := caps.GetWorkersParam(); key != "" && workers > 0 {
				p[key] = workers
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

func setParam(raw json.RawMessage, key string, v any) (json.RawMessage, error) {
	m := map[string]any{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	m[key] = v
	return json.Marshal(m)
}
