package pipeline

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/sdk/stats"

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
	// pool, when not nil, holds more target processes with the model and
	// the data; statistics spread over them in ranges of multiples of
	// batch (0: not said, no spreading).
	pool  *workerPool
	batch int

	mu     sync.Mutex
	models map[string]*potv1.Graph // graphs loaded by algorithms

	stats *statsCache
}

func newHostService(targetName string, graph *potv1.Graph, metric string, prog Progress) *hostService {
	return &hostService{targetName: targetName, graph: graph, inputs: feed.Inputs(graph), metric: metric, prog: prog,
		models: map[string]*potv1.Graph{}, stats: newStatsCache()}
}

// progress reports a stage of the session.
func (h *hostService) progress(stage string, done, total int64) {
	if h.prog != nil {
		h.prog.Update(stage, done, total, "")
	}
}

// Advance reports done of total units of a stage the caller runs on the
// session (the per-layer analysis of a report), as the session's own
// stages are reported.
func (h *hostService) Advance(stage string, done, total int64) { h.progress(stage, done, total) }

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
	h.stats.forget(modelID)
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
// It waits for the prefetches under way, then collects what the
// statistics cache does not hold together with the probes prefetched for
// the same pass (statsCache), and answers from both.
func (h *hostService) CollectStatistics(ctx context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	if h.calib == nil {
		return nil, fmt.Errorf("statistics need calibration data")
	}
	h.normalize(req)
	if err := h.stats.wait(ctx); err != nil {
		return nil, err
	}
	key := passKey(req)
	todo := h.stats.toCollect(key, req)
	var resp *potv1.StatisticsResponse
	if todo != nil {
		var err error
		if resp, err = h.collect(ctx, todo); err != nil {
			return nil, err
		}
	}
	return h.stats.answer(key, req, todo, resp), nil
}

// normalize sets a statistics request's data (the calibration data) and
// model (the session's, when it names none).
func (h *hostService) normalize(req *potv1.StatisticsRequest) {
	if req.Samples == nil {
		req.Samples = &potv1.Samples{}
	}
	req.Samples.DataId = h.calib.id
	if req.GetModelId() == "" {
		req.ModelId = h.modelID
	}
}

// collect runs a statistics request on the target (or spread over the
// worker pool), with progress.
func (h *hostService) collect(ctx context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	n := int64(len(req.GetSamples().GetIndices()))
	if n == 0 {
		n = int64(h.calib.n)
	}
	h.progress("statistics", 0, n)
	var resp *potv1.StatisticsResponse
	var err error
	batch := h.batch
	if b := int(req.GetSamples().GetBatchSize()); b > 0 {
		// The request's batch, aligned as the target's is (rangeAlignment).
		batch = rangeAlignment(h.graph, b)
	}
	if h.pool != nil && batch > 0 && req.GetModelId() == h.modelID && n > int64(batch) {
		resp, err = h.spreadStatistics(ctx, req, int(n), batch)
	} else {
		resp, err = h.target.CollectStatistics(ctx, req)
	}
	if err == nil {
		h.progress("statistics", n, n)
	}
	return resp, err
}

// spreadStatistics collects statistics over the pool's workers: each
// takes ranges of the samples (cut at multiples of batch) and returns
// its per-sample values (AGGREGATOR_NONE); they are aggregated here in
// the order of the samples, as one target aggregates them, so that the
// result is bit-identical to one target's.
func (h *hostService) spreadStatistics(ctx context.Context, req *potv1.StatisticsRequest, n, batch int) (*potv1.StatisticsResponse, error) {
	each := proto.CloneOf(req)
	for _, p := range each.GetProbes() {
		p.Aggregator = potv1.Aggregator_AGGREGATOR_NONE
	}
	idx := req.GetSamples().GetIndices()
	var (
		mu    sync.Mutex
		parts = map[int]*potv1.StatisticsResponse{} // by first sample
	)
	err := h.pool.spread(ctx, n, batch, func(w *worker, lo, hi int) error {
		r := proto.CloneOf(each)
		r.ModelId, r.Samples.DataId = w.modelID, w.calibID
		r.Samples.Indices = sampleRange(idx, lo, hi, n)
		resp, err := w.target.CollectStatistics(ctx, r)
		if err != nil {
			return err
		}
		mu.Lock()
		parts[lo] = resp
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return aggregate(req.GetProbes(), slices.Sorted(maps.Keys(parts)), parts)
}

// sampleRange is the samples [lo, hi) of a request of n samples: of idx,
// or of all samples in order when idx is empty; nil (all samples) for
// the whole of an empty idx.
func sampleRange(idx []int64, lo, hi, n int) []int64 {
	if len(idx) > 0 {
		return idx[lo:hi]
	}
	if lo == 0 && hi == n {
		return nil
	}
	r := make([]int64, hi-lo)
	for i := range r {
		r[i] = int64(lo + i)
	}
	return r
}

// aggregate combines the per-sample values of the parts (in the order
// of starts) with each probe's aggregator.
func aggregate(probes []*potv1.StatisticProbe, starts []int, parts map[int]*potv1.StatisticsResponse) (*potv1.StatisticsResponse, error) {
	out := &potv1.StatisticsResponse{}
	for i, p := range probes {
		acc, err := stats.NewAccumulator(p.GetAggregator(), p.GetOutlierLow(), p.GetOutlierHigh())
		if err != nil {
			return nil, fmt.Errorf("probe %q: %w", p.GetId(), err)
		}
		sv := &potv1.StatisticValue{ProbeId: p.GetId()}
		for _, lo := range starts {
			vals := parts[lo].GetValues()
			if len(vals) != len(probes) || vals[i].GetProbeId() != p.GetId() {
				return nil, fmt.Errorf("probe %q: a target answered other probes", p.GetId())
			}
			v := vals[i]
			sv.Samples += v.GetSamples()
			if len(v.GetValues()) == 0 {
				continue
			}
			dims := v.GetDims()
			if len(dims) != 2 || dims[0]*dims[1] != int64(len(v.GetValues())) {
				return nil, fmt.Errorf("probe %q: per-sample values of dims %v for %d values", p.GetId(), dims, len(v.GetValues()))
			}
			c := int(dims[1])
			for r := 0; r < int(dims[0]); r++ {
				if err := acc.Add(v.GetValues()[r*c : (r+1)*c]); err != nil {
					return nil, fmt.Errorf("probe %q: %w", p.GetId(), err)
				}
			}
		}
		if acc.Samples() > 0 {
			if sv.Values, sv.Dims, err = acc.Result(); err != nil {
				return nil, fmt.Errorf("probe %q: %w", p.GetId(), err)
			}
		}
		out.Values = append(out.Values, sv)
	}
	for _, lo := range starts {
		out.Samples += parts[lo].GetSamples()
	}
	return out, nil
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
	if then := req.GetThen(); len(then) > 0 {
		s.algos.prestart(ctx, then)
		// Only the next algorithm's statistics: it runs on this one's plan
		// (and may foresee what of it matters, as FastBiasCorrection
		// after MinMaxQuantization does), while the one after it gets a
		// plan this one and the next may both change (channel alignment
		// rescales weights).
		s.prefetch(ctx, then[:1], model, req.GetPlan(), []byte(req.GetParams()))
	}
	return s.chain.runAlgorithm(ctx, req.GetName(), model, req.GetPlan(), []byte(req.GetParams()))
}

// prefetch asks the algorithms that will run next what statistics they
// will collect (plugins.Prefetcher) for the model, plan and parameters of
// the algorithm about to run, in the background, and adds them to the
// statistics cache's passes: a statistics request waits for these, so
// that they join the next pass. Each algorithm is asked once per model,
// plan and parameters. A prefetch that fails costs nothing but the
// gathering: it is logged and the algorithm collects its statistics
// itself.
func (s *Session) prefetch(ctx context.Context, names []string, model string, p *potv1.QuantizationPlan, params []byte) {
	if s.calib == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	if p == nil {
		p = &potv1.QuantizationPlan{}
	}
	for _, name := range names {
		key := digest(&potv1.RunAlgorithmRequest{Name: name, ModelId: model, Plan: p, Params: string(params)})
		done, ok := s.stats.ask(key)
		if !ok {
			continue
		}
		go func() {
			defer done()
			reqs, err := s.chain.prefetch(ctx, name, model, p, params)
			if err != nil {
				s.log.Debug("prefetching statistics failed; the algorithm collects its own", "name", name, "error", err)
				return
			}
			for _, r := range reqs {
				s.normalize(r)
			}
			s.stats.prefetched(reqs)
			if len(reqs) > 0 {
				s.log.Debug("statistics prefetched", "name", name, "requests", len(reqs))
			}
		}()
	}
}
