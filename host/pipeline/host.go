package pipeline

import (
	"context"
	"fmt"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
)

// The Session is the Host the algorithm plugins of its chain talk to.
var _ plugins.Host = (*Session)(nil)

// Graph implements plugins.Host.
func (s *Session) Graph(_ context.Context, modelID string) (*potv1.Graph, error) {
	if modelID == s.modelID || modelID == "" {
		return s.graph, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if g, ok := s.models[modelID]; ok {
		return g, nil
	}
	return nil, fmt.Errorf("no model %q", modelID)
}

// LoadModel implements plugins.Host: the graph goes to the target.
func (s *Session) LoadModel(ctx context.Context, g *potv1.Graph) (string, error) {
	resp, err := s.target.LoadModel(ctx, g)
	if err != nil {
		return "", err
	}
	if len(resp.GetUnsupported()) > 0 {
		return "", &UnsupportedError{Target: s.opts.Target, Nodes: resp.GetUnsupported()}
	}
	s.mu.Lock()
	s.models[resp.GetModelId()] = g
	s.mu.Unlock()
	return resp.GetModelId(), nil
}

// UnloadModel implements plugins.Host.
func (s *Session) UnloadModel(ctx context.Context, modelID string) error {
	if modelID == s.modelID {
		return fmt.Errorf("the session's model cannot be unloaded")
	}
	s.mu.Lock()
	delete(s.models, modelID)
	s.mu.Unlock()
	return s.target.UnloadModel(ctx, modelID)
}

// Infer implements plugins.Host. Sample selections refer to the
// calibration data.
func (s *Session) Infer(ctx context.Context, req *potv1.InferRequest) (*potv1.InferResponse, error) {
	if req.GetSamples() != nil {
		if s.calib == nil {
			return nil, fmt.Errorf("no calibration data")
		}
		req.Samples.DataId = s.calib.id
	}
	return s.target.Infer(ctx, req)
}

// CollectStatistics implements plugins.Host over the calibration data.
func (s *Session) CollectStatistics(ctx context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	if s.calib == nil {
		return nil, fmt.Errorf("statistics need calibration data")
	}
	if req.Samples == nil {
		req.Samples = &potv1.Samples{}
	}
	req.Samples.DataId = s.calib.id
	if req.GetModelId() == "" {
		req.ModelId = s.modelID
	}
	n := int64(len(req.GetSamples().GetIndices()))
	if n == 0 {
		n = int64(s.calib.n)
	}
	s.progress("statistics", 0, n)
	resp, err := s.target.CollectStatistics(ctx, req)
	if err == nil {
		s.progress("statistics", n, n)
	}
	return resp, err
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
	return s.evaluate(ctx, model, req.GetPlan(), d, req.GetIndices(), req.GetDistance(), req.GetMetric(), req.GetConfidenceThreshold())
}

// RunAlgorithm implements plugins.Host: another algorithm of the chain.
func (s *Session) RunAlgorithm(ctx context.Context, req *potv1.RunAlgorithmRequest) (*potv1.RunResponse, error) {
	model := req.GetModelId()
	if model == "" {
		model = s.modelID
	}
	return s.runAlgorithm(ctx, req.GetName(), model, req.GetPlan(), []byte(req.GetParams()))
}

// Progress implements plugins.Host.
func (s *Session) Progress(_ context.Context, p *potv1.ProgressRequest) error {
	if s.opts.Progress != nil {
		s.opts.Progress.Update(p.GetStage(), p.GetDone(), p.GetTotal(), p.GetMessage())
	}
	return nil
}

// DataInfo implements plugins.Host.
func (s *Session) DataInfo(context.Context) (*potv1.DataInfoResponse, error) {
	r := &potv1.DataInfoResponse{}
	for _, vi := range s.graph.GetInputs() {
		for _, in := range s.inputs {
			if in.Name == vi.GetName() {
				r.Inputs = append(r.Inputs, vi)
			}
		}
	}
	if s.calib != nil {
		r.CalibrationSamples = int64(s.calib.n)
	}
	if s.eval != nil {
		r.EvaluationSamples = int64(s.eval.n)
		r.Labelled = s.eval.labels != nil
	}
	r.Metric = s.metricName(s.eval)
	return r, nil
}

// KnownTensor implements plugins.KnownTensors: a graph an algorithm loads
// (a bias correction sub-model) shares the session model's weights
// instead of holding a copy.
func (s *Session) KnownTensor(name string) []byte {
	for _, t := range s.graph.GetInitializers() {
		if t.GetName() == name {
			return t.GetData()
		}
	}
	return nil
}
