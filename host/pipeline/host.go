package pipeline

import (
	"context"
	"fmt"
	"sync"

	"github.com/potgo/pot/host/feed"
	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
)

// The Session is the Host the algorithm plugins of its chain talk to: its
// hostService serves the calls on the model and the data, its other parts
// evaluations (evaluator), algorithms (chainRunner) and checkpoints
// (checkpointStore).
var _ plugins.Host = (*Session)(nil)

// hostService is the part of the Host service over the session's target,
// model and data sets: the model, the graphs algorithms load, inference,
// statistics, progress and what the data is.
type hostService struct {
	target     plugins.Target
	targetName string // Options.Target, for errors
	modelID    string // the session's model on target
	graph      *potv1.Graph
	inputs     []feed.Input
	calib      *data // nil when none
	eval       *data // nil when none
	metric     string
	prog       Progress // may be nil

	mu     sync.Mutex
	models map[string]*potv1.Graph // graphs loaded by algorithms
}

func newHostService(targetName string, graph *potv1.Graph, metric string, prog Progress) *hostService {
	return &hostService{targetName: targetName, graph: graph, inputs: feed.Inputs(graph), metric: metric, prog: prog,
		models: map[string]*potv1.Graph{}}
}

// progress reports a stage of the session.
func (h *hostService) progress(stage string, done, total int64) {
	if h.prog != nil {
		h.prog.Update(stage, done, total, "")
	}
}

// Graph implements plugins.Host.
func (h *hostService) Graph(_ context.Context, modelID string) (*potv1.Graph, error) {
	if modelID == h.modelID || modelID == "" {
		return h.graph, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if g, ok := h.models[modelID]; ok {
		return g, nil
	}
	return nil, fmt.Errorf("no model %q", modelID)
}

// LoadModel implements plugins.Host: the graph goes to the target.
func (h *hostService) LoadModel(ctx context.Context, g *potv1.Graph) (string, error) {
	resp, err := h.target.LoadModel(ctx, g)
	if err != nil {
		return "", err
	}
	if len(resp.GetUnsupported()) > 0 {
		return "", &UnsupportedError{Target: h.targetName, Nodes: resp.GetUnsupported()}
	}
	h.mu.Lock()
	h.models[resp.GetModelId()] = g
	h.mu.Unlock()
	return resp.GetModelId(), nil
}

// UnloadModel implements plugins.Host.
func (h *hostService) UnloadModel(ctx context.Context, modelID string) error {
	if modelID == h.modelID {
		return fmt.Errorf("the session's model cannot be unloaded")
	}
	h.mu.Lock()
	delete(h.models, modelID)
	h.mu.Unlock()
	return h.target.UnloadModel(ctx, modelID)
}

// Infer implements plugins.Host. Sample selections refer to the
// calibration data.
func (h *hostService) Infer(ctx context.Context, req *potv1.InferRequest) (*potv1.InferResponse, error) {
	if req.GetSamples() != nil {
		if h.calib == nil {
			return nil, fmt.Errorf("no calibration data")
		}
		req.Samples.DataId = h.calib.id
	}
	return h.target.Infer(ctx, req)
}

// CollectStatistics implements plugins.Host over the calibration data.
func (h *hostService) CollectStatistics(ctx context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	if h.calib == nil {
		return nil, fmt.Errorf("statistics need calibration data")
	}
	if req.Samples == nil {
		req.Samples = &potv1.Samples{}
	}
	req.Samples.DataId = h.calib.id
	if req.GetModelId() == "" {
		req.ModelId = h.modelID
	}
	n := int64(len(req.GetSamples().GetIndices()))
	if n == 0 {
		n = int64(h.calib.n)
	}
	h.progress("statistics", 0, n)
	resp, err := h.target.CollectStatistics(ctx, req)
	if err == nil {
		h.progress("statistics", n, n)
	}
	return resp, err
}

// Progress implements plugins.Host.
func (h *hostService) Progress(_ context.Context, p *potv1.ProgressRequest) error {
	if h.prog != nil {
		h.prog.Update(p.GetStage(), p.GetDone(), p.GetTotal(), p.GetMessage())
	}
	return nil
}

// DataInfo implements plugins.Host.
func (h *hostService) DataInfo(context.Context) (*potv1.DataInfoResponse, error) {
	r := &potv1.DataInfoResponse{}
	for _, vi := range h.graph.GetInputs() {
		for _, in := range h.inputs {
			if in.Name == vi.GetName() {
				r.Inputs = append(r.Inputs, vi)
			}
		}
	}
	if h.calib != nil {
		r.CalibrationSamples = int64(h.calib.n)
	}
	if h.eval != nil {
		r.EvaluationSamples = int64(h.eval.n)
		r.Labelled = h.eval.labels != nil
	}
	r.Metric = metricName(h.metric, h.eval)
	return r, nil
}

// KnownTensor implements plugins.KnownTensors: a graph an algorithm loads
// (a bias correction sub-model) shares the session model's weights
// instead of holding a copy.
func (h *hostService) KnownTensor(name string) []byte {
	for _, t := range h.graph.GetInitializers() {
		if t.GetName() == name {
			return t.GetData()
		}
	}
	return nil
}

// Evaluate implements plugins.Host.
func (s *Session) Evaluate(ctx context.Context, req *potv1.HostEvaluateRequest) (*potv1.HostEvaluateResponse, error) {
	d := s.eval
	if req.GetDataSet() == potv1.DataSet_DATA_SET_CALIBRATION {
		d = s.calib
	}
	if d == nil {
		return nil, fmt.Errorf("no %s data to evaluate on", req.GetDataSet())
	}
	model := req.GetModelId()
	if model == "" {
		model = s.modelID
	}
	return s.evals.evaluate(ctx, model, req.GetPlan(), d, req.GetIndices(), req.GetDistance(), req.GetMetric(), req.GetConfidenceThreshold())
}

// RunAlgorithm implements plugins.Host: another algorithm of the chain.
func (s *Session) RunAlgorithm(ctx context.Context, req *potv1.RunAlgorithmRequest) (*potv1.RunResponse, error) {
	model := req.GetModelId()
	if model == "" {
		model = s.modelID
	}
	return s.chain.runAlgorithm(ctx, req.GetName(), model, req.GetPlan(), []byte(req.GetParams()))
}
