package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/potgo/pot/host/dataset"
	"github.com/potgo/pot/host/metrics"
	"github.com/potgo/pot/host/pipeline"
	"github.com/potgo/pot/host/qdq"
	"github.com/potgo/pot/host/report"
	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/onnx"
)

// export writes the run's outputs: the plan as a QDQ model and, with
// --report, the report (measured first, so that a failure leaves no
// file). It completes ex.result with the time taken and the report.
func (r *run) export(ctx context.Context, qp *quantizePlan, ex *execution) error {
	// The integer weights hold the levels the target computed with.
	qg, stats, err := qdq.Export(qp.graph, ex.plan, qdq.WithRounding(sdk.Capabilities(ex.sess.Target()).GetRounding()))
	if err != nil {
		return fmt.Errorf("write QDQ model: %w", err)
	}
	r.g.logger().Info("QDQ model", "activations", stats.Activations, "weights", stats.Weights, "biases", stats.Biases)
	model, err := onnx.FromGraph(qg, qp.base)
	if err != nil {
		return fmt.Errorf("write QDQ model: %w", err)
	}
	var rep *report.Report
	if r.f.report != "" {
		if rep, err = r.report(ctx, ex.sess, qp.graph, ex.plan, qp.calib, ex.result, ex.reports); err != nil {
			return err
		}
	}
	return r.write(qp.paths.model, model, qp.writeOpts, rep, ex.result)
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
		if len(steps) > 1 {
			for _, st := range steps {
				rep.ChainReports = append(rep.ChainReports, report.ChainReport{Algorithm: st.Name, Report: st.Report})
			}
		}
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
