package pluginmgr

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
)

// Target is a running target plugin. Each call has the plugin deadline;
// a failure names the plugin.
type Target struct {
	*Process
	t plugins.Target
}

var _ plugins.Target = (*Target)(nil)

// Describe implements plugins.Target.
func (t *Target) Describe(ctx context.Context) (*potv1.TargetDescription, error) {
	ctx, cancel := t.withTimeout(ctx)
	defer cancel()
	d, err := t.t.Describe(ctx)
	return d, t.done(ctx, "Describe", err)
}

// LoadModel implements plugins.Target.
func (t *Target) LoadModel(ctx context.Context, g *potv1.Graph) (*potv1.LoadModelResponse, error) {
	ctx, cancel := t.withTimeout(ctx)
	defer cancel()
	r, err := t.t.LoadModel(ctx, g)
	return r, t.done(ctx, "LoadModel", err)
}

// Model implements plugins.Target.
func (t *Target) Model(ctx context.Context, id string) (*potv1.Graph, error) {
	ctx, cancel := t.withTimeout(ctx)
	defer cancel()
	g, err := t.t.Model(ctx, id)
	return g, t.done(ctx, "FetchModel", err)
}

// UnloadModel implements plugins.Target.
func (t *Target) UnloadModel(ctx context.Context, id string) error {
	ctx, cancel := t.withTimeout(ctx)
	defer cancel()
	return t.done(ctx, "UnloadModel", t.t.UnloadModel(ctx, id))
}

// UploadData implements plugins.Target.
func (t *Target) UploadData(ctx context.Context, d *plugins.Dataset) (string, error) {
	ctx, cancel := t.withTimeout(ctx)
	defer cancel()
	id, err := t.t.UploadData(ctx, d)
	return id, t.done(ctx, "UploadData", err)
}

// Infer implements plugins.Target.
func (t *Target) Infer(ctx context.Context, req *potv1.InferRequest) (*potv1.InferResponse, error) {
	ctx, cancel := t.withTimeout(ctx)
	defer cancel()
	r, err := t.t.Infer(ctx, req)
	return r, t.done(ctx, "Infer", err)
}

// CollectStatistics implements plugins.Target.
func (t *Target) CollectStatistics(ctx context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	ctx, cancel := t.withTimeout(ctx)
	defer cancel()
	r, err := t.t.CollectStatistics(ctx, req)
	return r, t.done(ctx, "CollectStatistics", err)
}

// Evaluate implements plugins.Target.
func (t *Target) Evaluate(ctx context.Context, req *potv1.EvaluateRequest, send func(*potv1.EvaluateResponse) error) error {
	ctx, cancel := t.withTimeout(ctx)
	defer cancel()
	return t.done(ctx, "Evaluate", t.t.Evaluate(ctx, req, send))
}

// Algorithm is a running algorithm plugin.
type Algorithm struct {
	*Process
	a plugins.Algorithm
}

var _ plugins.Algorithm = (*Algorithm)(nil)

// Describe implements plugins.Algorithm.
func (a *Algorithm) Describe(ctx context.Context) (*potv1.AlgorithmDescription, error) {
	ctx, cancel := a.withTimeout(ctx)
	defer cancel()
	d, err := a.a.Describe(ctx)
	return d, a.done(ctx, "Describe", err)
}

// Run implements plugins.Algorithm. An algorithm may run for hours, so
// its deadline is on inactivity: it fails when, for the plugin timeout,
// it neither called the host nor waited on a host call.
func (a *Algorithm) Run(ctx context.Context, h plugins.Host, req *plugins.RunRequest) (*potv1.RunResponse, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	w := &watchedHost{Host: h}
	w.touch()
	if a.timeout > 0 {
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			tick := time.NewTicker(min(a.timeout/4, time.Second))
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if w.idle() > a.timeout {
						cancel(ErrTimeout)
						return
					}
				}
			}
		}()
	}
	resp, err := a.a.Run(ctx, w, req)
	if err != nil && context.Cause(ctx) == ErrTimeout && a.stoppedBy.Load() == nil {
		return nil, a.hung("Run")
	}
	return resp, a.fail(ctx, "Run", err)
}

var _ plugins.Prefetcher = (*Algorithm)(nil)

// Prefetch implements plugins.Prefetcher, under the plugin timeout as a
// short call: nothing for a plugin that does not prefetch.
func (a *Algorithm) Prefetch(ctx context.Context, h plugins.Host, req *plugins.RunRequest) ([]*potv1.StatisticsRequest, error) {
	p, ok := a.a.(plugins.Prefetcher)
	if !ok {
		return nil, nil
	}
	ctx, cancel := a.withTimeout(ctx)
	defer cancel()
	reqs, err := p.Prefetch(ctx, h, req)
	return reqs, a.done(ctx, "Prefetch", err)
}

// watchedHost records when an algorithm last talked to the host.
type watchedHost struct {
	plugins.Host
	last     atomic.Int64
	inFlight atomic.Int32
}

func (w *watchedHost) touch() { w.last.Store(time.Now().UnixNano()) }

func (w *watchedHost) idle() time.Duration {
	if w.inFlight.Load() > 0 {
		return 0
	}
	return time.Duration(time.Now().UnixNano() - w.last.Load())
}

func (w *watchedHost) begin() func() {
	w.inFlight.Add(1)
	w.touch()
	return func() { w.touch(); w.inFlight.Add(-1) }
}

func (w *watchedHost) Graph(ctx context.Context, id string) (*potv1.Graph, error) {
	defer w.begin()()
	return w.Host.Graph(ctx, id)
}

func (w *watchedHost) LoadModel(ctx context.Context, g *potv1.Graph) (string, error) {
	defer w.begin()()
	return w.Host.LoadModel(ctx, g)
}

func (w *watchedHost) UnloadModel(ctx context.Context, id string) error {
	defer w.begin()()
	return w.Host.UnloadModel(ctx, id)
}

func (w *watchedHost) Infer(ctx context.Context, req *potv1.InferRequest) (*potv1.InferResponse, error) {
	defer w.begin()()
	return w.Host.Infer(ctx, req)
}

func (w *watchedHost) CollectStatistics(ctx context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	defer w.begin()()
	return w.Host.CollectStatistics(ctx, req)
}

func (w *watchedHost) Evaluate(ctx context.Context, req *potv1.HostEvaluateRequest) (*potv1.HostEvaluateResponse, error) {
	defer w.begin()()
	return w.Host.Evaluate(ctx, req)
}

func (w *watchedHost) RunAlgorithm(ctx context.Context, req *potv1.RunAlgorithmRequest) (*potv1.RunResponse, error) {
	defer w.begin()()
	return w.Host.RunAlgorithm(ctx, req)
}

func (w *watchedHost) Progress(ctx context.Context, p *potv1.ProgressRequest) error {
	defer w.begin()()
	return w.Host.Progress(ctx, p)
}

func (w *watchedHost) DataInfo(ctx context.Context) (*potv1.DataInfoResponse, error) {
	defer w.begin()()
	return w.Host.DataInfo(ctx)
}

func (w *watchedHost) SaveState(ctx context.Context, key string, state []byte) error {
	defer w.begin()()
	return w.Host.SaveState(ctx, key, state)
}

func (w *watchedHost) LoadState(ctx context.Context, key string) ([]byte, bool, error) {
	defer w.begin()()
	return w.Host.LoadState(ctx, key)
}

// KnownTensor implements plugins.KnownTensors when the host does.
func (w *watchedHost) KnownTensor(name string) []byte {
	if k, ok := w.Host.(plugins.KnownTensors); ok {
		return k.KnownTensor(name)
	}
	return nil
}
