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
	"github.com/potgo/pot/internal/outfile"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/sdk/openvino"
)

// export writes the run's outputs: the plan as a QDQ model (or, with
// --output-format ir, as OpenVINO IR) and, with --report, the report
// (measured first, so that a failure leaves no file). It completes
// ex.result with the time taken and the report.
func (r *run) export(ctx context.Context, qp *quantizePlan, ex *execution) error {
	// The integer weights hold the levels the target computed with.
	rounding := sdk.Capabilities(ex.sess.Target()).GetRounding()
	var stage func(tx *outfile.Txn) error
	files := []string{qp.paths.model}
	if qp.format == formatIR {
		m, err := openvino.Write(qp.graph, openvino.WriteOptions{Plan: ex.plan, Rounding: rounding, Name: r.cfg.ModelName()})
		if err != nil {
			return fmt.Errorf("write IR: %w", err)
		}
		r.g.logger().Info("IR model", "fake_quantize", m.Stats.FakeQuantize, "compressed_weights", m.Stats.CompressedWeights, "layers", m.Stats.Layers)
		files = append(files, irBin(qp.paths.model))
		stage = func(tx *outfile.Txn) error { return stageIR(tx, qp.paths.model, m) }
	} else {
		qg, stats, err := qdq.Export(qp.graph, ex.plan, qdq.WithRounding(rounding))
		if err != nil {
			return fmt.Errorf("write QDQ model: %w", err)
		}
		r.g.logger().Info("QDQ model", "activations", stats.Activations, "weights", stats.Weights, "biases", stats.Biases)
		model, err := onnx.FromGraph(qg, qp.base)
		if err != nil {
			return fmt.Errorf("write QDQ model: %w", err)
		}
		files = append(files, qp.paths.model+".data")
		stage = func(tx *outfile.Txn) error { return onnx.WriteStaged(tx, qp.paths.model, model, qp.writeOpts) }
	}
	var rep *report.Report
	if r.f.report != "" {
		var err error
		if rep, err = r.report(ctx, ex.sess, qp.graph, ex.plan, qp.calib, ex.result, ex.reports); err != nil {
			return err
		}
	}
	return r.write(qp.paths.model, files, stage, rep, ex.result)
}

// stageIR stages an IR's model.xml and model.bin, after checking its
// structure (openvino.Check).
func stageIR(tx *outfile.Txn, path string, m *openvino.Model) error {
	if err := openvino.Check(m.Net, m.Bin); err != nil {
		return fmt.Errorf("write IR %s: the IR fails its structural check: %w", path, err)
	}
	x, err := m.XML()
	if err != nil {
		return fmt.Errorf("write IR %s: %w", path, err)
	}
	if err := tx.StageBytes(path, x); err != nil {
		return fmt.Errorf("write IR %s: %w", path, err)
	}
	if err := tx.StageBytes(irBin(path), m.Bin); err != nil {
		return fmt.Errorf("write IR %s: %w", irBin(path), err)
	}
	return nil
}

// write writes the run's outputs — the model's files (staged by stage;
// files are their paths, for the report's size) and the report — as one
// group: all are staged as temporary files in their folders and renamed
// into place only once every one is written, so a failure leaves none of
// them (nor a temporary file, nor a folder the run created).
func (r *run) write(path string, files []string, stage func(*outfile.Txn) error, rep *report.Report, res *quantizeResult) (err error) {
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
	if err := stage(tx); err != nil {
		return err
	}
	res.Seconds = time.Since(r.start).Seconds()
	if rep != nil {
		rep.Seconds = res.Seconds
		for _, f := range files {
			rep.OutputBytes += max(tx.Size(f), 0)
		}
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
	rep, err := layerReport(ctx, sess, graph, plan, calib, r.cfg.Model.Path, report.Samples(graph, plan, defaultReportSamples))
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
	layers, err := report.Layers(ctx, sess, graph, sess.ModelID(), plan, idx, func(done, total int) {
		sess.Advance("per-layer analysis", int64(done), int64(total))
	})
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
