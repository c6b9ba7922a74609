package plugins

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/potgo/pot/proto/potv1"
)

// ErrPluginExited is returned (wrapped) by calls to a plugin whose
// process has ended.
var ErrPluginExited = errors.New("plugin process exited")

// TargetPlugin is the go-plugin plugin of kind "target". A plugin binary
// sets Impl; the host leaves it nil and dispenses a Target client.
type TargetPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl Target
}

var _ plugin.GRPCPlugin = (*TargetPlugin)(nil)

// GRPCServer registers the Target service.
func (p *TargetPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	RegisterTarget(s, p.Impl)
	return nil
}

// RegisterTarget serves impl as the Target service of s: graphs and data
// sets arrive in chunks and are reassembled before impl sees them. The
// network server of `pot target serve` uses it too.
func RegisterTarget(s grpc.ServiceRegistrar, impl Target) {
	potv1.RegisterTargetServer(s, &targetServer{impl: impl})
}

// GRPCClient returns a Target backed by the plugin process. ctx ends when
// the process exits.
func (p *TargetPlugin) GRPCClient(ctx context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &TargetClient{client: potv1.NewTargetClient(c), done: ctx}, nil
}

type targetServer struct {
	potv1.UnimplementedTargetServer
	impl Target
}

func (s *targetServer) Describe(ctx context.Context, _ *potv1.DescribeRequest) (*potv1.TargetDescription, error) {
	return s.impl.Describe(ctx)
}

func (s *targetServer) LoadModel(stream potv1.Target_LoadModelServer) error {
	g, err := RecvGraph(stream.Recv, knownOf(s.impl))
	if err != nil {
		return err
	}
	resp, err := s.impl.LoadModel(stream.Context(), g)
	if err != nil {
		return err
	}
	tuneGC()
	return stream.SendAndClose(resp)
}

func (s *targetServer) FetchModel(req *potv1.FetchModelRequest, stream potv1.Target_FetchModelServer) error {
	g, err := s.impl.Model(stream.Context(), req.GetModelId())
	if err != nil {
		return err
	}
	return SendGraph(g, int(req.GetChunkSize()), stream.Send)
}

func (s *targetServer) UnloadModel(ctx context.Context, req *potv1.UnloadModelRequest) (*potv1.UnloadModelResponse, error) {
	return &potv1.UnloadModelResponse{}, s.impl.UnloadModel(ctx, req.GetModelId())
}

func (s *targetServer) UploadData(stream potv1.Target_UploadDataServer) error {
	d, err := RecvDataset(stream.Recv)
	if err != nil {
		return err
	}
	id, err := s.impl.UploadData(stream.Context(), d)
	if err != nil {
		return err
	}
	return stream.SendAndClose(&potv1.UploadDataResponse{DataId: id, Samples: d.Samples()})
}

func (s *targetServer) Infer(ctx context.Context, req *potv1.InferRequest) (*potv1.InferResponse, error) {
	return s.impl.Infer(ctx, req)
}

func (s *targetServer) CollectStatistics(ctx context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	return s.impl.CollectStatistics(ctx, req)
}

func (s *targetServer) Evaluate(req *potv1.EvaluateRequest, stream potv1.Target_EvaluateServer) error {
	return s.impl.Evaluate(stream.Context(), req, stream.Send)
}

// TargetClient is a Target implemented by a plugin process.
type TargetClient struct {
	client potv1.TargetClient
	done   context.Context
}

var _ Target = (*TargetClient)(nil)

// NewTargetClient wraps a raw gRPC client (for tests and in-process use).
func NewTargetClient(c potv1.TargetClient) *TargetClient {
	return &TargetClient{client: c, done: context.Background()}
}

func (c *TargetClient) wrap(err error) error {
	if err != nil && c.done.Err() != nil {
		return fmt.Errorf("%w: %w", ErrPluginExited, err)
	}
	return FromStatus(err)
}

// Describe implements Target.
func (c *TargetClient) Describe(ctx context.Context) (*potv1.TargetDescription, error) {
	d, err := c.client.Describe(ctx, &potv1.DescribeRequest{}, CallOptions()...)
	return d, c.wrap(err)
}

// LoadModel implements Target; the graph travels in chunks.
func (c *TargetClient) LoadModel(ctx context.Context, g *potv1.Graph) (*potv1.LoadModelResponse, error) {
	stream, err := c.client.LoadModel(ctx, CallOptions()...)
	if err != nil {
		return nil, c.wrap(err)
	}
	if err := SendGraph(g, ChunkSize, stream.Send); err != nil && err != io.EOF {
		return nil, c.wrap(err)
	}
	resp, err := stream.CloseAndRecv()
	return resp, c.wrap(err)
}

// Model implements Target.
func (c *TargetClient) Model(ctx context.Context, modelID string) (*potv1.Graph, error) {
	stream, err := c.client.FetchModel(ctx, &potv1.FetchModelRequest{ModelId: modelID, ChunkSize: ChunkSize}, CallOptions()...)
	if err != nil {
		return nil, c.wrap(err)
	}
	g, err := RecvGraph(stream.Recv)
	return g, c.wrap(err)
}

// UnloadModel implements Target.
func (c *TargetClient) UnloadModel(ctx context.Context, modelID string) error {
	_, err := c.client.UnloadModel(ctx, &potv1.UnloadModelRequest{ModelId: modelID}, CallOptions()...)
	return c.wrap(err)
}

// UploadData implements Target; samples travel in batches.
func (c *TargetClient) UploadData(ctx context.Context, d *Dataset) (string, error) {
	stream, err := c.client.UploadData(ctx, CallOptions()...)
	if err != nil {
		return "", c.wrap(err)
	}
	if err := SendDataset(d, stream.Send); err != nil && err != io.EOF {
		return "", c.wrap(err)
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return "", c.wrap(err)
	}
	return resp.GetDataId(), nil
}

// Infer implements Target.
func (c *TargetClient) Infer(ctx context.Context, req *potv1.InferRequest) (*potv1.InferResponse, error) {
	r, err := c.client.Infer(ctx, req, CallOptions()...)
	return r, c.wrap(err)
}

// CollectStatistics implements Target.
func (c *TargetClient) CollectStatistics(ctx context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	r, err := c.client.CollectStatistics(ctx, req, CallOptions()...)
	return r, c.wrap(err)
}

// Evaluate implements Target.
func (c *TargetClient) Evaluate(ctx context.Context, req *potv1.EvaluateRequest, send func(*potv1.EvaluateResponse) error) error {
	stream, err := c.client.Evaluate(ctx, req, CallOptions()...)
	if err != nil {
		return c.wrap(err)
	}
	for {
		r, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return c.wrap(err)
		}
		if err := send(r); err != nil {
			return err
		}
	}
}
