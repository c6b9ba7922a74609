package biascorr

import (
	"context"
	"crypto/sha256"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/algorithms/quant"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
)

// FastAlgorithm is the FastBiasCorrection plugin.
// Its statistics (the float means of the layers' inputs and outputs)
// can be told ahead of its run, so that the host gathers them in
// MinMaxQuantization's pass.
// Both read the graph and the layers' shapes through one memoHost, so
// that the run after a prefetch does not fetch and infer them again.
var FastAlgorithm sdk.Algorithm = func() sdk.Algorithm {
	m := &memo{}
	return quant.PrefetchingPlugin[*Report]{
		Plugin: quant.Plugin[*Report]{
			Name: "FastBiasCorrection",
			Text: "Shifts biases so that quantized layers keep the float output means, from one constant-input pass per layer.",
			Compute: func(ctx context.Context, h sdk.Host, req *sdk.RunRequest, p *quant.Params) (*potv1.QuantizationPlan, *Report, error) {
				return Fast(ctx, &memoHost{Host: h, m: m}, req, p)
			},
		},
		Statistics: func(ctx context.Context, h sdk.Host, req *sdk.RunRequest, p *quant.Params) ([]*potv1.StatisticsRequest, error) {
			return FastStatistics(ctx, &memoHost{Host: h, m: m}, req, p)
		},
	}
}()

// memo holds the last graph and the last one-sample inference a
// memoHost passed on, for the plugin process.
type memo struct {
	mu       sync.Mutex
	graphID  string
	graph    *potv1.Graph
	inferKey [32]byte
	infer    *potv1.InferResponse
}

// memoHost answers a Graph call for the model of the last one, and an
// Infer call identical to the last one of a single sample, from its memo:
// a graph does not change under its id, nor the float model's outputs on
// a sample. The responses are shared: callers only read them.
type memoHost struct {
	sdk.Host
	m *memo
}

func (h *memoHost) Graph(ctx context.Context, id string) (*potv1.Graph, error) {
	h.m.mu.Lock()
	if h.m.graph != nil && h.m.graphID == id {
		defer h.m.mu.Unlock()
		return h.m.graph, nil
	}
	h.m.mu.Unlock()
	g, err := h.Host.Graph(ctx, id)
	if err == nil {
		h.m.mu.Lock()
		h.m.graphID, h.m.graph = id, g
		h.m.mu.Unlock()
	}
	return g, err
}

func (h *memoHost) Infer(ctx context.Context, req *potv1.InferRequest) (*potv1.InferResponse, error) {
	if len(req.GetSamples().GetIndices()) != 1 {
		return h.Host.Infer(ctx, req)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		return nil, err
	}
	key := sha256.Sum256(b)
	h.m.mu.Lock()
	if h.m.infer != nil && h.m.inferKey == key {
		defer h.m.mu.Unlock()
		return h.m.infer, nil
	}
	h.m.mu.Unlock()
	resp, err := h.Host.Infer(ctx, req)
	if err == nil {
		h.m.mu.Lock()
		h.m.inferKey, h.m.infer = key, resp
		h.m.mu.Unlock()
	}
	return resp, err
}

// FullAlgorithm is the BiasCorrection plugin.
var FullAlgorithm sdk.Algorithm = quant.Plugin[*Report]{
	Name:    "BiasCorrection",
	Text:    "Shifts biases layer by layer so that the quantized model's output means match the float model's.",
	Compute: Full,
}
