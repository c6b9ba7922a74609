package remote

import (
	"context"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
)

// router is the Target service of a Server: it passes each call to the
// target process of the caller's session.
type router struct{ s *Server }

var _ plugins.Target = (*router)(nil)

// on runs fn on the session's target, holding the session busy so that
// it is not reaped mid-call.
func on[T any](r *router, ctx context.Context, fn func(t plugins.Target) (T, error)) (T, error) {
	ss, err := r.s.acquire(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	defer r.s.release(ss)
	return fn(ss.target)
}

func (r *router) Describe(ctx context.Context) (*potv1.TargetDescription, error) {
	return on(r, ctx, func(t plugins.Target) (*potv1.TargetDescription, error) { return t.Describe(ctx) })
}

func (r *router) LoadModel(ctx context.Context, g *potv1.Graph) (*potv1.LoadModelResponse, error) {
	return on(r, ctx, func(t plugins.Target) (*potv1.LoadModelResponse, error) { return t.LoadModel(ctx, g) })
}

func (r *router) Model(ctx context.Context, id string) (*potv1.Graph, error) {
	return on(r, ctx, func(t plugins.Target) (*potv1.Graph, error) { return t.Model(ctx, id) })
}

func (r *router) UnloadModel(ctx context.Context, id string) error {
	_, err := on(r, ctx, func(t plugins.Target) (struct{}, error) { return struct{}{}, t.UnloadModel(ctx, id) })
	return err
}

func (r *router) UploadData(ctx context.Context, d *plugins.Dataset) (string, error) {
	return on(r, ctx, func(t plugins.Target) (string, error) { return t.UploadData(ctx, d) })
}

func (r *router) Infer(ctx context.Context, req *potv1.InferRequest) (*potv1.InferResponse, error) {
	return on(r, ctx, func(t plugins.Target) (*potv1.InferResponse, error) { return t.Infer(ctx, req) })
}

func (r *router) CollectStatistics(ctx context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	return on(r, ctx, func(t plugins.Target) (*potv1.StatisticsResponse, error) { return t.CollectStatistics(ctx, req) })
}

func (r *router) Evaluate(ctx context.Context, req *potv1.EvaluateRequest, send func(*potv1.EvaluateResponse) error) error {
	_, err := on(r, ctx, func(t plugins.Target) (struct{}, error) { return struct{}{}, t.Evaluate(ctx, req, send) })
	return err
}
