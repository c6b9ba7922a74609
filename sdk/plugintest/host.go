package plugintest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/graph"
)

// Host is the host the kit runs algorithms against: a model and a data
// set loaded on a target, and the answers pot gives an algorithm during
// Run, computed the same way (statistics over the calibration data,
// evaluation by agreement with the float model's top-1, other algorithms
// run on request).
type Host struct {
	t       testing.TB
	target  sdk.Target
	desc    *potv1.TargetDescription
	graph   *potv1.Graph
	modelID string
	dataID  string
	samples int64
	input   *potv1.ValueInfo

	// OnCall, when set, is called at the start of every Host call with
	// the method's name.
	OnCall func(method string)

	mu         sync.Mutex
	models     map[string]*potv1.Graph
	algorithms map[string]sdk.Algorithm
	pluginDir  string
	progress   []*potv1.ProgressRequest
	calls      map[string]int
	states     map[string][]byte
}

var _ sdk.Host = (*Host)(nil)

// NewHost loads g on target and uploads data (the calibration data) to
// it. Algorithms that the one under test runs through RunAlgorithm are
// looked up in the WithAlgorithms map, then in the WithPluginDir folder.
func NewHost(t testing.TB, target sdk.Target, g *potv1.Graph, data *sdk.Dataset, opts ...Option) *Host {
	t.Helper()
	c := newConfig(opts)
	ctx := context.Background()
	h := &Host{t: t, target: target, graph: g, models: map[string]*potv1.Graph{}, calls: map[string]int{},
		algorithms: c.algorithms, pluginDir: c.pluginDir}
	var err error
	if h.desc, err = target.Describe(ctx); err != nil {
		t.Fatalf("plugintest: describe the target: %v", err)
	}
	resp, err := target.LoadModel(ctx, g)
	if err != nil {
		t.Fatalf("plugintest: load the model on the target: %v", err)
	}
	if len(resp.GetUnsupported()) > 0 {
		t.Fatalf("plugintest: the target cannot run %v", resp.GetUnsupported())
	}
	h.modelID = resp.GetModelId()
	h.models[h.modelID] = g
	if h.dataID, err = target.UploadData(ctx, data); err != nil {
		t.Fatalf("plugintest: upload data to the target: %v", err)
	}
	h.samples = data.Samples()
	for _, in := range g.GetInputs() {
		if in.GetName() == data.Inputs[0] {
			h.input = in
		}
	}
	return h
}

// ModelID is the id of the model on the target.
func (h *Host) ModelID() string { return h.modelID }

// Target is the target's description.
func (h *Host) Target() *potv1.TargetDescription { return h.desc }

// Request returns the RunRequest pot would send an algorithm first in a
// chain, with params (a JSON object).
func (h *Host) Request(params string) *sdk.RunRequest {
	if params == "" {
		params = "{}"
	}
	return &sdk.RunRequest{ModelID: h.modelID, Plan: &potv1.QuantizationPlan{}, Params: []byte(params), Target: h.desc}
}

// Progress reports received so far.
func (h *Host) ProgressReports() []*potv1.ProgressRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*potv1.ProgressRequest(nil), h.progress...)
}

// Calls returns how often each Host method was called.
func (h *Host) Calls() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for k, v := range h.calls {
		out[k] = v
	}
	return out
}

func (h *Host) called(method string) {
	h.mu.Lock()
	h.calls[method]++
	h.mu.Unlock()
	if h.OnCall != nil {
		h.OnCall(method)
	}
}

// Graph implements sdk.Host.
func (h *Host) Graph(_ context.Context, modelID string) (*potv1.Graph, error) {
	h.called("Graph")
	h.mu.Lock()
	defer h.mu.Unlock()
	g, ok := h.models[modelID]
	if !ok {
		return nil, fmt.Errorf("no model %q", modelID)
	}
	return g, nil
}

// LoadModel implements sdk.Host.
func (h *Host) LoadModel(ctx context.Context, g *potv1.Graph) (string, error) {
	h.called("LoadModel")
	resp, err := h.target.LoadModel(ctx, g)
	if err != nil {
		return "", err
	}
	if len(resp.GetUnsupported()) > 0 {
		return "", fmt.Errorf("the target cannot run %v", resp.GetUnsupported())
	}
	h.mu.Lock()
	h.models[resp.GetModelId()] = g
	h.mu.Unlock()
	return resp.GetModelId(), nil
}

// UnloadModel implements sdk.Host.
func (h *Host) UnloadModel(ctx context.Context, modelID string) error {
	h.called("UnloadModel")
	if modelID == h.modelID {
		return errors.New("the run's model cannot be unloaded")
	}
	h.mu.Lock()
	delete(h.models, modelID)
	h.mu.Unlock()
	return h.target.UnloadModel(ctx, modelID)
}

// Infer implements sdk.Host; sample selections refer to the calibration
// data.
func (h *Host) Infer(ctx context.Context, req *potv1.InferRequest) (*potv1.InferResponse, error) {
	h.called("Infer")
	if req.GetSamples() != nil {
		req.Samples.DataId = h.dataID
	}
	return h.target.Infer(ctx, req)
}

// CollectStatistics implements sdk.Host over the calibration data.
func (h *Host) CollectStatistics(ctx context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	h.called("CollectStatistics")
	if req.Samples == nil {
		req.Samples = &potv1.Samples{}
	}
	req.Samples.DataId = h.dataID
	if req.GetModelId() == "" {
		req.ModelId = h.modelID
	}
	return h.target.CollectStatistics(ctx, req)
}

// Evaluate implements sdk.Host: the metric is "agreement", the share of
// samples whose top-1 class is the float model's.
func (h *Host) Evaluate(ctx context.Context, req *potv1.HostEvaluateRequest) (*potv1.HostEvaluateResponse, error) {
	h.called("Evaluate")
	model := req.GetModelId()
	if model == "" {
		model = h.modelID
	}
	full := req.GetDistance() != ""
	got, err := h.outputs(ctx, model, req.GetPlan(), req.GetIndices())
	if err != nil {
		return nil, err
	}
	ref, err := h.outputs(ctx, h.modelID, nil, req.GetIndices())
	if err != nil {
		return nil, err
	}
	resp := &potv1.HostEvaluateResponse{Metric: "agreement", Samples: int64(len(got)), PerSample: make([]float64, len(got))}
	var sum float64
	for i := range got {
		if argmax(got[i]) == argmax(ref[i]) {
			resp.PerSample[i] = 1
			sum++
		}
		if full {
			d, err := distance(req.GetDistance(), ref[i], got[i])
			if err != nil {
				return nil, err
			}
			resp.Distances = append(resp.Distances, d)
		}
	}
	if len(got) > 0 {
		resp.Value = sum / float64(len(got))
	}
	return resp, nil
}

// outputs returns each sample's first output.
func (h *Host) outputs(ctx context.Context, model string, p *potv1.QuantizationPlan, idx []int64) ([][]float32, error) {
	n := len(idx)
	if n == 0 {
		n = int(h.samples)
	}
	out := make([][]float32, n)
	err := h.target.Evaluate(ctx, &potv1.EvaluateRequest{ModelId: model, Plan: p, Samples: &potv1.Samples{DataId: h.dataID, Indices: idx}},
		func(r *potv1.EvaluateResponse) error {
			if len(r.GetOutputs()) == 0 {
				return errors.New("evaluation returned no output")
			}
			v, err := floatValues(r.GetOutputs()[0])
			if err != nil {
				return err
			}
			b := int(r.GetOutputs()[0].GetDims()[0])
			off := int(r.GetOffset())
			if b <= 0 || off+b > n {
				return fmt.Errorf("evaluation returned samples [%d, %d) of %d", off, off+b, n)
			}
			per := len(v) / b
			for i := 0; i < b; i++ {
				out[off+i] = v[i*per : (i+1)*per]
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	for i, o := range out {
		if o == nil {
			return nil, fmt.Errorf("evaluation returned nothing for sample %d", i)
		}
	}
	return out, nil
}

// RunAlgorithm implements sdk.Host.
func (h *Host) RunAlgorithm(ctx context.Context, req *potv1.RunAlgorithmRequest) (*potv1.RunResponse, error) {
	h.called("RunAlgorithm")
	a, err := h.algorithm(req.GetName())
	if err != nil {
		return nil, err
	}
	model := req.GetModelId()
	if model == "" {
		model = h.modelID
	}
	p := req.GetPlan()
	if p == nil {
		p = &potv1.QuantizationPlan{}
	}
	params := req.GetParams()
	if params == "" {
		params = "{}"
	}
	return a.Run(ctx, h, &sdk.RunRequest{ModelID: model, Plan: p, Params: []byte(params), Target: h.desc})
}

func (h *Host) algorithm(name string) (sdk.Algorithm, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if a, ok := h.algorithms[name]; ok {
		return a, nil
	}
	if h.pluginDir != "" {
		path := filepath.Join(h.pluginDir, plugins.Prefix(plugins.KindAlgorithm)+name)
		if _, err := os.Stat(path); err == nil {
			a := StartAlgorithm(h.t, path).Algorithm
			if h.algorithms == nil {
				h.algorithms = map[string]sdk.Algorithm{}
			}
			h.algorithms[name] = a
			return a, nil
		}
	}
	return nil, fmt.Errorf("plugintest: no algorithm %q (give it with WithAlgorithms or WithPluginDir)", name)
}

// Progress implements sdk.Host.
func (h *Host) Progress(_ context.Context, p *potv1.ProgressRequest) error {
	h.called("Progress")
	h.mu.Lock()
	defer h.mu.Unlock()
	h.progress = append(h.progress, p)
	return nil
}

// DataInfo implements sdk.Host.
func (h *Host) DataInfo(context.Context) (*potv1.DataInfoResponse, error) {
	h.called("DataInfo")
	r := &potv1.DataInfoResponse{CalibrationSamples: h.samples, EvaluationSamples: h.samples, Metric: "agreement"}
	if h.input != nil {
		r.Inputs = []*potv1.ValueInfo{h.input}
	}
	return r, nil
}

// SaveState implements sdk.Host: the state is kept in memory.
func (h *Host) SaveState(_ context.Context, key string, state []byte) error {
	h.called("SaveState")
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.states == nil {
		h.states = map[string][]byte{}
	}
	h.states[key] = append([]byte(nil), state...)
	return nil
}

// LoadState implements sdk.Host.
func (h *Host) LoadState(_ context.Context, key string) ([]byte, bool, error) {
	h.called("LoadState")
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.states[key]
	return s, ok, nil
}

// floatValues decodes a float32 or float64 tensor.
func floatValues(t *potv1.Tensor) ([]float32, error) {
	switch t.GetDtype() {
	case potv1.DataType_DATA_TYPE_FLOAT:
		return graph.Float32s(t)
	case potv1.DataType_DATA_TYPE_DOUBLE:
		raw := t.GetData()
		v := make([]float32, len(raw)/8)
		for i := range v {
			v[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
		}
		return v, nil
	}
	return nil, fmt.Errorf("output %q is %v, not float", t.GetName(), t.GetDtype())
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func distance(kind string, ref, got []float32) (float64, error) {
	if len(ref) != len(got) {
		return 0, fmt.Errorf("outputs of %d and %d values", len(ref), len(got))
	}
	var dot, na, nb, se float64
	for i := range ref {
		a, b := float64(ref[i]), float64(got[i])
		dot += a * b
		na += a * a
		nb += b * b
		se += (a - b) * (a - b)
	}
	switch kind {
	case "mse":
		return se / float64(max(len(ref), 1)), nil
	case "nmse":
		if na == 0 {
			return se, nil
		}
		return se / na, nil
	case "cosine":
		if na == 0 || nb == 0 {
			return 0, nil
		}
		return 1 - dot/math.Sqrt(na*nb), nil
	}
	return 0, fmt.Errorf("unknown distance %q (mse, nmse, cosine)", kind)
}
