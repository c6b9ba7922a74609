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
	graph last[string, *potv1.Graph]
	infer last[[32]byte, *potv1.InferResponse]
}

// last remembers the last value fetched and its key.
type last[K comparable, V any] struct {
	mu  sync.Mutex
	ok  bool
	key K
	v   V
}

// get returns the value of key: the one remembered, or fetch's, then
// remembered.
func (l *last[K, V]) get(key K, fetch func() (V, error)) (V, error) {
	l.mu.Lock()
	if l.ok && l.key == key {
		defer l.mu.Unlock()
		return l.v, nil
	}
	l.mu.Unlock()
	v, err := fetch()
	if err == nil {
		l.mu.Lock()
		l.ok, l.key, l.v = true, key, v
		l.mu.Unlock()
	}
	return v, err
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
	return h.m.graph.get(id, func() (*potv1.Graph, error) { return h.Host.Graph(ctx, id) })
}

func (h *memoHost) Infer(ctx context.Context, req *potv1.InferRequest) (*potv1.InferResponse, error) {
	if len(req.GetSamples().GetIndices()) != 1 {
		return h.Host.Infer(ctx, req)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		return nil, err
	}
	return h.m.infer.get(sha256.Sum256(b), func() (*potv1.InferResponse, error) { return h.Host.Infer(ctx, req) })
}

// FullAlgorithm is the BiasCorrection plugin.
var FullAlgorithm sdk.Algorithm = quant.Plugin[*Report]{
	Name:    "BiasCorrection",
	Text:    "Shifts biases layer by layer so that the quantized model's output means match the float model's.",
	Compute: Full,
}
