package plugins

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/potgo/pot/proto/potv1"
)

// AlgorithmPlugin is the go-plugin plugin of kind "algorithm". A plugin
// binary sets Impl; the host leaves it nil and dispenses an Algorithm
// client.
type AlgorithmPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl Algorithm
}

var _ plugin.GRPCPlugin = (*AlgorithmPlugin)(nil)

// GRPCServer registers the Algorithm service.
func (p *AlgorithmPlugin) GRPCServer(b *plugin.GRPCBroker, s *grpc.Server) error {
	potv1.RegisterAlgorithmServer(s, &algorithmServer{impl: p.Impl, broker: b})
	return nil
}

// GRPCClient returns an Algorithm backed by the plugin process.
func (p *AlgorithmPlugin) GRPCClient(ctx context.Context, b *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &AlgorithmClient{client: potv1.NewAlgorithmClient(c), broker: b, done: ctx}, nil
}

type algorithmServer struct {
	potv1.UnimplementedAlgorithmServer
	impl   Algorithm
	broker *plugin.GRPCBroker
}

func (s *algorithmServer) Describe(ctx context.Context, _ *potv1.AlgorithmDescribeRequest) (*potv1.AlgorithmDescription, error) {
	return s.impl.Describe(ctx)
}

func (s *algorithmServer) Run(ctx context.Context, req *potv1.RunRequest) (*potv1.RunResponse, error) {
	var resp *potv1.RunResponse
	err := s.withHost(ctx, req, func(h Host, r *RunRequest) (err error) {
		resp, err = s.impl.Run(ctx, h, r)
		return err
	})
	if err == nil && ctx.Err() != nil {
		// Run finished without noticing that the host cancelled it.
		return nil, ctx.Err()
	}
	return resp, err
}

// Prefetch serves the Algorithm service's Prefetch: UNIMPLEMENTED when
// the algorithm is not a Prefetcher.
func (s *algorithmServer) Prefetch(ctx context.Context, req *potv1.RunRequest) (*potv1.PrefetchResponse, error) {
	p, ok := s.impl.(Prefetcher)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "the algorithm does not prefetch statistics")
	}
	resp := &potv1.PrefetchResponse{}
	err := s.withHost(ctx, req, func(h Host, r *RunRequest) (err error) {
		resp.Statistics, err = p.Prefetch(ctx, h, r)
		return err
	})
	return resp, err
}

// withHost calls f with a client of the host service the request names
// and the request as the plugin's RunRequest.
func (s *algorithmServer) withHost(ctx context.Context, req *potv1.RunRequest, f func(Host, *RunRequest) error) error {
	conn, err := s.broker.DialWithOptions(req.GetHostBrokerId(), grpc.WithDefaultCallOptions(CallOptions()...))
	if err != nil {
		return fmt.Errorf("connect to the host service: %w", err)
	}
	defer conn.Close()
	plan := req.GetPlan()
	if plan == nil {
		plan = &potv1.QuantizationPlan{}
	}
	return f(&HostClient{client: potv1.NewHostClient(conn)}, &RunRequest{
		ModelID: req.GetModelId(),
		Plan:    plan,
		Params:  []byte(req.GetParams()),
		Target:  req.GetTarget(),
	})
}

// AlgorithmClient is an Algorithm implemented by a plugin process.
type AlgorithmClient struct {
	client potv1.AlgorithmClient
	broker *plugin.GRPCBroker
	done   context.Context
}

var _ Algorithm = (*AlgorithmClient)(nil)

func (c *AlgorithmClient) wrap(err error) error {
	if err != nil && c.done.Err() != nil {
		return fmt.Errorf("%w: %w", ErrPluginExited, err)
	}
	return FromStatus(err)
}

// Describe implements Algorithm.
func (c *AlgorithmClient) Describe(ctx context.Context) (*potv1.AlgorithmDescription, error) {
	d, err := c.client.Describe(ctx, &potv1.AlgorithmDescribeRequest{}, CallOptions()...)
	return d, c.wrap(err)
}

// Run implements Algorithm: it serves h over the go-plugin broker for the
// duration of the call.
func (c *AlgorithmClient) Run(ctx context.Context, h Host, req *RunRequest) (*potv1.RunResponse, error) {
	id, stop := c.serveHost(h)
	defer stop()
	resp, err := c.client.Run(ctx, c.request(id, req), CallOptions()...)
	if err == nil && ctx.Err() != nil {
		// The plugin answered before it saw the cancellation: a cancelled
		// run never reports a plan.
		return nil, fmt.Errorf("algorithm run: %w", ctx.Err())
	}
	return resp, c.wrap(err)
}

var _ Prefetcher = (*AlgorithmClient)(nil)

// Prefetch implements Prefetcher, serving h as Run does. A plugin that
// does not implement Prefetch (UNIMPLEMENTED) prefetches nothing.
func (c *AlgorithmClient) Prefetch(ctx context.Context, h Host, req *RunRequest) ([]*potv1.StatisticsRequest, error) {
	id, stop := c.serveHost(h)
	defer stop()
	resp, err := c.client.Prefetch(ctx, c.request(id, req), CallOptions()...)
	if status.Code(err) == codes.Unimplemented {
		return nil, nil
	}
	return resp.GetStatistics(), c.wrap(err)
}

// request is req as the Algorithm service takes it, its host service at
// broker id id.
func (c *AlgorithmClient) request(id uint32, req *RunRequest) *potv1.RunRequest {
	return &potv1.RunRequest{HostBrokerId: id, ModelId: req.ModelID, Plan: req.Plan, Params: string(req.Params), Target: req.Target}
}

// serveHost serves h over the go-plugin broker under a new id until
// stop is called.
func (c *AlgorithmClient) serveHost(h Host) (id uint32, stop func()) {
	id = c.broker.NextId()
	var (
		mu  sync.Mutex
		srv *grpc.Server
	)
	started := make(chan struct{})
	go c.broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
		s := NewServer(opts)
		potv1.RegisterHostServer(s, &hostServer{impl: h})
		mu.Lock()
		srv = s
		mu.Unlock()
		close(started)
		return s
	})
	return id, func() {
		select {
		case <-started:
			mu.Lock()
			srv.Stop()
			mu.Unlock()
		default:
		}
	}
}

type hostServer struct {
	potv1.UnimplementedHostServer
	impl Host
}

func (s *hostServer) Graph(req *potv1.GraphRequest, stream potv1.Host_GraphServer) error {
	g, err := s.impl.Graph(stream.Context(), req.GetModelId())
	if err != nil {
		return err
	}
	return SendGraph(g, int(req.GetChunkSize()), stream.Send)
}

func (s *hostServer) LoadModel(stream potv1.Host_LoadModelServer) error {
	g, err := RecvGraph(stream.Recv, knownOf(s.impl))
	if err != nil {
		return err
	}
	id, err := s.impl.LoadModel(stream.Context(), g)
	if err != nil {
		return err
	}
	return stream.SendAndClose(&potv1.LoadModelResponse{ModelId: id})
}

func (s *hostServer) UnloadModel(ctx context.Context, req *potv1.UnloadModelRequest) (*potv1.UnloadModelResponse, error) {
	return &potv1.UnloadModelResponse{}, s.impl.UnloadModel(ctx, req.GetModelId())
}

func (s *hostServer) Infer(ctx context.Context, req *potv1.InferRequest) (*potv1.InferResponse, error) {
	return s.impl.Infer(ctx, req)
}

func (s *hostServer) CollectStatistics(ctx context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	return s.impl.CollectStatistics(ctx, req)
}

func (s *hostServer) Evaluate(ctx context.Context, req *potv1.HostEvaluateRequest) (*potv1.HostEvaluateResponse, error) {
	return s.impl.Evaluate(ctx, req)
}

func (s *hostServer) RunAlgorithm(ctx context.Context, req *potv1.RunAlgorithmRequest) (*potv1.RunResponse, error) {
	return s.impl.RunAlgorithm(ctx, req)
}

func (s *hostServer) Progress(ctx context.Context, req *potv1.ProgressRequest) (*potv1.ProgressResponse, error) {
	return &potv1.ProgressResponse{}, s.impl.Progress(ctx, req)
}

func (s *hostServer) DataInfo(ctx context.Context, _ *potv1.DataInfoRequest) (*potv1.DataInfoResponse, error) {
	return s.impl.DataInfo(ctx)
}

func (s *hostServer) SaveState(ctx context.Context, req *potv1.SaveStateRequest) (*potv1.SaveStateResponse, error) {
	return &potv1.SaveStateResponse{}, s.impl.SaveState(ctx, req.GetKey(), req.GetState())
}

func (s *hostServer) LoadState(ctx context.Context, req *potv1.LoadStateRequest) (*potv1.LoadStateResponse, error) {
	st, found, err := s.impl.LoadState(ctx, req.GetKey())
	if err != nil {
		return nil, err
	}
	return &potv1.LoadStateResponse{State: st, Found: found}, nil
}

// HostClient is the Host an algorithm plugin talks to during Run.
type HostClient struct {
	client potv1.HostClient
}

var _ Host = (*HostClient)(nil)

// NewHostClient wraps a raw gRPC client.
func NewHostClient(c potv1.HostClient) *HostClient { return &HostClient{client: c} }

// Graph implements Host.
func (c *HostClient) Graph(ctx context.Context, modelID string) (*potv1.Graph, error) {
	stream, err := c.client.Graph(ctx, &potv1.GraphRequest{ModelId: modelID, ChunkSize: ChunkSize}, CallOptions()...)
	if err != nil {
		return nil, FromStatus(err)
	}
	g, err := RecvGraph(stream.Recv)
	if err == nil {
		tuneGC()
	}
	return g, FromStatus(err)
}

// LoadModel implements Host.
func (c *HostClient) LoadModel(ctx context.Context, g *potv1.Graph) (string, error) {
	stream, err := c.client.LoadModel(ctx, CallOptions()...)
	if err != nil {
		return "", FromStatus(err)
	}
	if err := SendGraph(g, ChunkSize, stream.Send); err != nil && err != io.EOF {
		return "", FromStatus(err)
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return "", FromStatus(err)
	}
	return resp.GetModelId(), nil
}

// UnloadModel implements Host.
func (c *HostClient) UnloadModel(ctx context.Context, modelID string) error {
	_, err := c.client.UnloadModel(ctx, &potv1.UnloadModelRequest{ModelId: modelID}, CallOptions()...)
	return FromStatus(err)
}

// Infer implements Host.
func (c *HostClient) Infer(ctx context.Context, req *potv1.InferRequest) (*potv1.InferResponse, error) {
	r, err := c.client.Infer(ctx, req, CallOptions()...)
	return r, FromStatus(err)
}

// CollectStatistics implements Host.
func (c *HostClient) CollectStatistics(ctx context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	r, err := c.client.CollectStatistics(ctx, req, CallOptions()...)
	return r, FromStatus(err)
}

// Evaluate implements Host.
func (c *HostClient) Evaluate(ctx context.Context, req *potv1.HostEvaluateRequest) (*potv1.HostEvaluateResponse, error) {
	r, err := c.client.Evaluate(ctx, req, CallOptions()...)
	return r, FromStatus(err)
}

// RunAlgorithm implements Host.
func (c *HostClient) RunAlgorithm(ctx context.Context, req *potv1.RunAlgorithmRequest) (*potv1.RunResponse, error) {
	r, err := c.client.RunAlgorithm(ctx, req, CallOptions()...)
	return r, FromStatus(err)
}

// Progress implements Host.
func (c *HostClient) Progress(ctx context.Context, p *potv1.ProgressRequest) error {
	_, err := c.client.Progress(ctx, p, CallOptions()...)
	return FromStatus(err)
}

// DataInfo implements Host.
func (c *HostClient) DataInfo(ctx context.Context) (*potv1.DataInfoResponse, error) {
	r, err := c.client.DataInfo(ctx, &potv1.DataInfoRequest{}, CallOptions()...)
	return r, FromStatus(err)
}

// SaveState implements Host.
func (c *HostClient) SaveState(ctx context.Context, key string, state []byte) error {
	_, err := c.client.SaveState(ctx, &potv1.SaveStateRequest{Key: key, State: state}, CallOptions()...)
	return FromStatus(err)
}

// LoadState implements Host.
func (c *HostClient) LoadState(ctx context.Context, key string) ([]byte, bool, error) {
	r, err := c.client.LoadState(ctx, &potv1.LoadStateRequest{Key: key}, CallOptions()...)
	if err != nil {
		return nil, false, FromStatus(err)
	}
	return r.GetState(), r.GetFound(), nil
}
