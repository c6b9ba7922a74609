package pipeline

import (
	"context"
	"fmt"

	"github.com/potgo/pot/host/pluginmgr"
	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
)

// worker is one target process able to evaluate the session's model on
// the evaluation data. Worker 0 is the session's own target.
type worker struct {
	target  plugins.Target
	modelID string
	evalID  string
}

// workerPool hands out its workers one caller at a time. Its channel is
// its only state: no lock.
type workerPool struct {
	free chan *worker
}

// startWorkers returns a pool of n workers: first and n-1 more made by
// start, in parallel; progress (may be nil) hears of them. The first
// error of start ends it.
func startWorkers(ctx context.Context, n int, first *worker, start func(context.Context) (*worker, error), progress func(stage string, done, total int64)) (*workerPool, error) {
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	p := &workerPool{free: make(chan *worker, n)}
	p.free <- first
	if n <= 1 {
		return p, nil
	}
	progress("start evaluation workers", 0, int64(n-1))
	errs := make(chan error, n-1)
	for i := 1; i < n; i++ {
		go func() {
			w, err := start(ctx)
			if err == nil {
				p.free <- w
			}
			errs <- err
		}()
	}
	for i := 1; i < n; i++ {
		if err := <-errs; err != nil {
			return nil, fmt.Errorf("start evaluation worker: %w", err)
		}
	}
	progress("start evaluation workers", int64(n-1), int64(n-1))
	return p, nil
}

// newWorker starts a target process and loads graph and the evaluation
// data set into it.
func newWorker(ctx context.Context, mgr *pluginmgr.Manager, target string, graph *potv1.Graph, evalData *plugins.Dataset) (*worker, error) {
	t, err := mgr.Target(ctx, target)
	if err != nil {
		return nil, err
	}
	resp, err := t.LoadModel(ctx, graph)
	if err != nil {
		return nil, err
	}
	if len(resp.GetUnsupported()) > 0 {
		return nil, &UnsupportedError{Target: target, Nodes: resp.GetUnsupported()}
	}
	id, err := t.UploadData(ctx, evalData)
	if err != nil {
		return nil, err
	}
	return &worker{target: t, modelID: resp.GetModelId(), evalID: id}, nil
}

// with runs fn on a free worker, waiting for one (or for ctx to end).
func (p *workerPool) with(ctx context.Context, fn func(w *worker) error) error {
	var w *worker
	select {
	case w = <-p.free:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { p.free <- w }()
	return fn(w)
}

// size is the number of workers.
func (p *workerPool) size() int { return cap(p.free) }

// withWorker runs fn on a free worker when the evaluation can run on any
// (the session's model on the evaluation data), else on the session's
// target.
func (e *evaluator) withWorker(ctx context.Context, model string, d *data, fn func(t plugins.Target, model, dataID string) error) error {
	if e.pool == nil || model != e.modelID || d != e.eval {
		return fn(e.target, model, d.id)
	}
	return e.pool.with(ctx, func(w *worker) error { return fn(w.target, w.modelID, w.evalID) })
}

// Workers is the number of target processes evaluating in parallel.
func (s *Session) Workers() int {
	if s.evals.pool == nil {
		return 1
	}
	return s.evals.pool.size()
}

// evalRequest is a target evaluation of one model and plan.
func evalRequest(model string, plan *potv1.QuantizationPlan, dataID string, idx []int64, k int) *potv1.EvaluateRequest {
	return &potv1.EvaluateRequest{ModelId: model, Plan: plan, Samples: &potv1.Samples{DataId: dataID, Indices: idx}, TopK: int32(k)}
}
