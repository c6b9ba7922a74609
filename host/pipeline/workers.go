package pipeline

import (
	"context"
	"fmt"

	"github.com/potgo/pot/host/pluginmgr"
	"github.com/potgo/pot/proto/potv1"
)

// worker is one target process able to evaluate the session's model on
// the evaluation data. Worker 0 is the session's own target.
type worker struct {
	target  *pluginmgr.Target
	modelID string
	evalID  string
}

// startWorkers starts the extra target processes of parallel evaluation
// and loads the model and the evaluation data into each.
func (s *Session) startWorkers(ctx context.Context, n int) error {
	s.pool = make(chan *worker, n)
	s.pool <- &worker{target: s.target, modelID: s.modelID, evalID: s.eval.id}
	if n <= 1 {
		return nil
	}
	s.progress("start evaluation workers", 0, int64(n-1))
	errs := make(chan error, n-1)
	for i := 1; i < n; i++ {
		go func() {
			w, err := s.newWorker(ctx)
			if err == nil {
				s.pool <- w
			}
			errs <- err
		}()
	}
	for i := 1; i < n; i++ {
		if err := <-errs; err != nil {
			return fmt.Errorf("start evaluation worker: %w", err)
		}
	}
	s.progress("start evaluation workers", int64(n-1), int64(n-1))
	return nil
}

func (s *Session) newWorker(ctx context.Context) (*worker, error) {
	t, err := s.opts.Manager.Target(ctx, s.opts.Target)
	if err != nil {
		return nil, err
	}
	resp, err := t.LoadModel(ctx, s.graph)
	if err != nil {
		return nil, err
	}
	if len(resp.GetUnsupported()) > 0 {
		return nil, &UnsupportedError{Target: s.opts.Target, Nodes: resp.GetUnsupported()}
	}
	id, err := t.UploadData(ctx, s.evalData)
	if err != nil {
		return nil, err
	}
	return &worker{target: t, modelID: resp.GetModelId(), evalID: id}, nil
}

// withWorker runs fn on a free worker when the evaluation can run on any
// (the session's model on the evaluation data), else on the session's
// target.
func (s *Session) withWorker(ctx context.Context, model string, d *data, fn func(t *pluginmgr.Target, model, dataID string) error) error {
	if s.pool == nil || model != s.modelID || d != s.eval {
		return fn(s.target, model, d.id)
	}
	var w *worker
	select {
	case w = <-s.pool:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { s.pool <- w }()
	return fn(w.target, w.modelID, w.evalID)
}

// Workers is the number of target processes evaluating in parallel.
func (s *Session) Workers() int {
	if s.pool == nil {
		return 1
	}
	return cap(s.pool)
}

// evalRequest is a target evaluation of one model and plan.
func evalRequest(model string, plan *potv1.QuantizationPlan, dataID string, idx []int64, k int) *potv1.EvaluateRequest {
	return &potv1.EvaluateRequest{ModelId: model, Plan: plan, Samples: &potv1.Samples{DataId: dataID, Indices: idx}, TopK: int32(k)}
}
