package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sync/errgroup"

	"github.com/potgo/pot/host/pluginmgr"
	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
)

// worker is one target process holding the session's model and data
// sets: worker 0 is the session's own target, the others are more local
// target processes or remote ones (Options.Remotes).
type worker struct {
	target  plugins.Target
	name    string // for logs and errors: "local target 2", "remote target HOST:PORT"
	remote  bool
	modelID string
	evalID  string // "" when the session has no evaluation data
	calibID string // "" when the session has no calibration data
}

// dataID is the id of d on the worker, "" when it does not hold d.
func (w *worker) dataID(d *data, eval, calib *data) string {
	switch {
	case d == nil:
		return ""
	case d == eval:
		return w.evalID
	case d == calib:
		return w.calibID
	}
	return ""
}

// workerPool hands out its workers one caller at a time. A remote worker
// whose connection is lost (the server died, hangs or cannot be reached)
// leaves the pool, and the call that lost it runs again on another.
type workerPool struct {
	free chan *worker
	log  hclog.Logger

	mu    sync.Mutex
	alive int
	lost  []string      // "NAME: why", in the order they were lost
	none  chan struct{} // closed when no worker is left
}

// startWorkers returns a pool of n workers: first and n-1 more made by
// start(ctx, i) for i = 1 .. n-1, in parallel; progress (may be nil)
// hears of them. The first error of start ends it.
func startWorkers(ctx context.Context, n int, first *worker, start func(ctx context.Context, i int) (*worker, error), progress func(stage string, done, total int64)) (*workerPool, error) {
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	p := &workerPool{free: make(chan *worker, n), alive: n, none: make(chan struct{}), log: hclog.NewNullLogger()}
	p.free <- first
	if n <= 1 {
		return p, nil
	}
	progress("start evaluation workers", 0, int64(n-1))
	errs := make(chan error, n-1)
	for i := 1; i < n; i++ {
		go func() {
			w, err := start(ctx, i)
			switch {
			case err == nil:
				p.free <- w
			case isLost(err) && ctx.Err() == nil:
				// A remote target lost while it loads: the run goes on
				// without it.
				p.lose(&worker{name: fmt.Sprintf("worker %d", i)}, err)
				err = nil
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

// newWorker starts a target process and loads graph and the data sets
// (either may be nil) into it.
func newWorker(ctx context.Context, mgr *pluginmgr.Manager, target string, graph *potv1.Graph, evalData, calibData *plugins.Dataset) (*worker, error) {
	t, err := mgr.Target(ctx, target)
	if err != nil {
		return nil, err
	}
	return loadWorker(ctx, t, target, graph, evalData, calibData)
}

// loadWorker loads graph and the data sets (either may be nil) into t.
func loadWorker(ctx context.Context, t plugins.Target, target string, graph *potv1.Graph, evalData, calibData *plugins.Dataset) (*worker, error) {
	resp, err := t.LoadModel(ctx, graph)
	if err != nil {
		return nil, err
	}
	if len(resp.GetUnsupported()) > 0 {
		return nil, &UnsupportedError{Target: target, Nodes: resp.GetUnsupported()}
	}
	w := &worker{target: t, modelID: resp.GetModelId()}
	if evalData != nil {
		if w.evalID, err = t.UploadData(ctx, evalData); err != nil {
			return nil, err
		}
	}
	if calibData != nil {
		if w.calibID, err = t.UploadData(ctx, calibData); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// LostError is a run that lost every target process it spread work over.
type LostError struct {
	Lost []string // "NAME: why", one per worker
}

func (e *LostError) Error() string {
	return fmt.Sprintf("every target process is lost (%s)", strings.Join(e.Lost, "; "))
}

// with runs fn on a free worker, waiting for one (or for ctx to end).
// When fn loses a remote worker's connection, the worker leaves the pool
// and fn runs again on another; fn must be safe to repeat.
func (p *workerPool) with(ctx context.Context, fn func(w *worker) error) error {
	for {
		var w *worker
		select {
		case w = <-p.free:
		case <-p.none:
			return p.lostError()
		case <-ctx.Done():
			return ctx.Err()
		}
		err := fn(w)
		if err != nil && w.remote && isLost(err) && ctx.Err() == nil {
			p.lose(w, err)
			continue
		}
		p.free <- w
		return err
	}
}

// isLost reports whether err is a lost connection to a remote target
// (host/remote.Error with Lost set).
func isLost(err error) bool {
	var l interface{ LostConnection() bool }
	return errors.As(err, &l) && l.LostConnection()
}

// lose takes a worker out of the pool for good.
func (p *workerPool) lose(w *worker, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.alive--
	p.lost = append(p.lost, err.Error())
	p.log.Warn("target process lost; its work runs on the others", "worker", w.name, "error", err, "left", p.alive)
	if p.alive == 0 {
		close(p.none)
	}
}

func (p *workerPool) lostError() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return &LostError{Lost: append([]string(nil), p.lost...)}
}

// size is the number of workers the pool started with.
func (p *workerPool) size() int { return cap(p.free) }

// spread runs fn over the samples [0, n) cut into ranges at multiples of
// batch, each range on a free worker, several at once; fn(w, lo, hi)
// must write its results at their positions, so that the outcome does
// not depend on which worker ran which range or in what order. It runs
// one range when the pool has one worker or batch is 0 (unknown).
func (p *workerPool) spread(ctx context.Context, n, batch int, fn func(w *worker, lo, hi int) error) error {
	if p.size() <= 1 || batch <= 0 || n <= batch {
		return p.with(ctx, func(w *worker) error { return fn(w, 0, n) })
	}
	// Two ranges a worker, so that a fast worker takes more of them.
	per := (n + 2*p.size() - 1) / (2 * p.size())
	per = max(batch, (per+batch-1)/batch*batch)
	g, ctx := errgroup.WithContext(ctx)
	for lo := 0; lo < n; lo += per {
		hi := min(n, lo+per)
		g.Go(func() error { return p.with(ctx, func(w *worker) error { return fn(w, lo, hi) }) })
	}
	return g.Wait()
}

// withWorker runs fn on a free worker when the evaluation can run on any
// (the session's model on a data set the workers hold), else on the
// session's target.
func (e *evaluator) withWorker(ctx context.Context, model string, d *data, fn func(t plugins.Target, model, dataID string) error) error {
	if e.pool == nil || model != e.modelID || (d != e.eval && d != e.calib) {
		return fn(e.target, model, d.id)
	}
	return e.pool.with(ctx, func(w *worker) error { return fn(w.target, w.modelID, w.dataID(d, e.eval, e.calib)) })
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
