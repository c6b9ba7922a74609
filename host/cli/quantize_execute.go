package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/potgo/pot/host/config"
	"github.com/potgo/pot/host/metrics"
	"github.com/potgo/pot/host/pipeline"
	"github.com/potgo/pot/host/pluginmgr"
	"github.com/potgo/pot/host/report"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/schema"
)

// execution is a chain run in an open session: the session (which the
// caller closes), the steps run, the plan and the algorithms' reports,
// and the result so far.
type execution struct {
	sess    *pipeline.Session
	steps   []pipeline.Step
	plan    *potv1.QuantizationPlan
	reports []pipeline.StepReport
	result  *quantizeResult
	// closeRemotes ends the sessions on remote targets, after sess.
	closeRemotes func()
}

// Close closes the session, then the remote targets' sessions.
func (ex *execution) Close() {
	ex.sess.Close()
	ex.closeRemotes()
}

// execute opens the session on the target (the steps are planned as soon
// as the target has described itself: a preset it does not publish is
// refused before the model is loaded and the data uploaded), checks the
// steps' parameters, runs the chain and, when planned, measures the
// float and the quantized models. On failure the session is closed.
func (r *run) execute(ctx context.Context, mgr *pluginmgr.Manager, prog pipeline.Progress, qp *quantizePlan) (_ *execution, err error) {
	cfg, f := r.cfg, r.f
	opts := pipeline.Options{
		Manager: mgr, Target: cfg.Target(), Graph: qp.graph, Calibration: qp.calib, Evaluation: qp.eval,
		Logger: r.g.logger(), Progress: prog, Metric: f.metric, Workers: qp.workers, Resume: f.resume,
		Constants: cfg.Engine.Constants, Output: cfg.Engine.Output, HardwareConfig: qp.hw, Algorithms: r.chain.plugins,
	}
	ex := &execution{closeRemotes: func() {}}
	if eps := cfg.Engine.RemoteTargets; len(eps) > 0 {
		remotes, closeRemotes, err := r.g.dialAll(ctx, cfg.Engine.RemoteTLS, eps)
		if err != nil {
			return nil, err
		}
		ex.closeRemotes = closeRemotes
		defer func() {
			if err != nil {
				closeRemotes()
			}
		}()
		for _, t := range remotes {
			opts.Remotes = append(opts.Remotes, t)
		}
	}
	opts.Described = func(d *potv1.TargetDescription) (err error) {
		ex.steps, err = r.planSteps(qp, d)
		return err
	}
	if qp.checkpoint != "" {
		opts.Checkpoint = qp.checkpoint
		if err := os.MkdirAll(filepath.Dir(qp.checkpoint), 0o755); err != nil {
			return nil, fmt.Errorf("checkpoint folder: %w", err)
		}
	}
	if ex.sess, err = pipeline.Open(ctx, opts); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			ex.sess.Close()
		}
	}()
	r.g.logger().Debug("session open", "workers", ex.sess.Workers())
	if err := r.validate(ctx, ex.sess, ex.steps); err != nil {
		return nil, err
	}
	if ex.plan, ex.reports, err = ex.sess.Run(ctx, ex.steps); err != nil {
		if cps := pipeline.Checkpoints(qp.paths.checkpoint); len(cps) > 0 && ctx.Err() == nil {
			return nil, fmt.Errorf("%w (checkpoint kept: rerun with --resume to continue)", err)
		}
		return nil, err
	}
	ex.result = newQuantizeResult(qp.paths.model, cfg.Target(), qp.algorithm, ex.plan, ex.steps, ex.reports)
	if qp.measure {
		if ex.result.Metric, err = compare(ctx, ex.sess, ex.plan); err != nil {
			return nil, err
		}
	}
	return ex, nil
}

// newQuantizeResult is the result of a chain run, before measures and
// outputs.
func newQuantizeResult(output, target, algorithm string, plan *potv1.QuantizationPlan, steps []pipeline.Step, reports []pipeline.StepReport) *quantizeResult {
	res := &quantizeResult{Output: output, Target: target, Preset: usedPreset(plan, steps), Algorithm: algorithm,
		Quantizers: len(plan.GetQuantizers())}
	if len(reports) > 0 {
		res.Reports = reports[len(reports)-1].Report
		if len(reports) > 1 {
			for _, r := range reports {
				res.ChainReports = append(res.ChainReports, report.ChainReport{Algorithm: r.Name, Report: r.Report})
			}
		}
		res.liftSearch(reports[len(reports)-1].Search)
	}
	return res
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
