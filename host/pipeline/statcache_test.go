package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
)

// statsTarget is a fakeTarget whose statistics are a function of what
// each probe measures and of the pass (plan and samples), so that an
// answer from the cache can be told from a wrong one. It records the
// probes of each call.
type statsTarget struct {
	*fakeTarget
	mu     sync.Mutex
	probes [][]string // tensors of each CollectStatistics call
}

func statValue(req *potv1.StatisticsRequest, p *potv1.StatisticProbe) []float32 {
	return []float32{float32(len(p.GetTensor())), float32(p.GetReducer()), float32(len(req.GetPlan().GetQuantizers())),
		float32(len(req.GetSamples().GetIndices()))}
}

func (s *statsTarget) CollectStatistics(ctx context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	s.fakeTarget.CollectStatistics(ctx, req)
	resp := &potv1.StatisticsResponse{Samples: int64(len(req.GetSamples().GetIndices()))}
	var tensors []string
	for _, p := range req.GetProbes() {
		tensors = append(tensors, p.GetTensor())
		resp.Values = append(resp.Values, &potv1.StatisticValue{ProbeId: p.GetId(), Values: statValue(req, p), Samples: resp.Samples})
	}
	s.mu.Lock()
	s.probes = append(s.probes, tensors)
	s.mu.Unlock()
	return resp, nil
}

func (s *statsTarget) calls() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.probes)
}

func meanOf(id, tensor string) *potv1.StatisticProbe {
	return &potv1.StatisticProbe{Id: id, Tensor: tensor, Reducer: potv1.Reducer_REDUCER_MEAN, PerChannel: true, ChannelAxis: 1,
		Aggregator: potv1.Aggregator_AGGREGATOR_MEAN}
}

// checkAnswer checks that resp answers req probe by probe, under req's
// ids, with the values a pass of req's own gives.
func checkAnswer(t *testing.T, what string, req *potv1.StatisticsRequest, resp *potv1.StatisticsResponse) {
	t.Helper()
	if len(resp.GetValues()) != len(req.GetProbes()) {
		t.Fatalf("%s: %d values for %d probes", what, len(resp.GetValues()), len(req.GetProbes()))
	}
	for i, p := range req.GetProbes() {
		v := resp.GetValues()[i]
		if v.GetProbeId() != p.GetId() || !slices.Equal(v.GetValues(), statValue(req, p)) {
			t.Errorf("%s: value %d is %s %v, want %s %v", what, i, v.GetProbeId(), v.GetValues(), p.GetId(), statValue(req, p))
		}
	}
	if resp.GetSamples() != int64(len(req.GetSamples().GetIndices())) {
		t.Errorf("%s: %d samples, want %d", what, resp.GetSamples(), len(req.GetSamples().GetIndices()))
	}
}

// TestStatsCache checks that prefetched probes join the next pass on the
// same model, plan and samples, that a later request for them is
// answered without a pass, under its own ids, with the values of a pass
// of its own, that only what is not held is collected, and that other
// plans, samples and unloaded models are passes of their own.
func TestStatsCache(t *testing.T) {
	h, ft, _ := testHost(t, "", nil)
	st := &statsTarget{fakeTarget: ft}
	h.target = st
	ctx := context.Background()
	idx := &potv1.Samples{Indices: []int64{0, 2, 4}, BatchSize: 2}
	req := func(plan *potv1.QuantizationPlan, samples *potv1.Samples, probes ...*potv1.StatisticProbe) *potv1.StatisticsRequest {
		return &potv1.StatisticsRequest{Plan: plan, Samples: samples, Probes: probes}
	}
	float := &potv1.QuantizationPlan{}
	// What a later algorithm will ask for, as the host sets it.
	ahead := req(float, idx, meanOf("in0", "x"), meanOf("out0", "conv1"))
	h.normalize(ahead)
	h.stats.prefetched([]*potv1.StatisticsRequest{ahead})
	steps := []struct {
		what string
		req  *potv1.StatisticsRequest
		want [][]string // the target's calls so far
	}{
		{"the first pass takes the prefetched probes along", req(float, idx, meanOf("a", "conv2"), meanOf("b", "x")),
			[][]string{{"conv2", "x", "conv1"}}},
		{"the prefetched request is answered from the pass", req(float, idx, meanOf("mine0", "x"), meanOf("mine1", "conv1")),
			[][]string{{"conv2", "x", "conv1"}}},
		{"only what is not held is collected", req(float, idx, meanOf("c", "conv1"), meanOf("d", "relu")),
			[][]string{{"conv2", "x", "conv1"}, {"relu"}}},
		{"another plan is another pass", req(&potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{{Bits: 8}}}, idx, meanOf("e", "x")),
			[][]string{{"conv2", "x", "conv1"}, {"relu"}, {"x"}}},
		{"other samples are another pass", req(float, &potv1.Samples{Indices: []int64{1}}, meanOf("f", "x")),
			[][]string{{"conv2", "x", "conv1"}, {"relu"}, {"x"}, {"x"}}},
	}
	for _, s := range steps {
		resp, err := h.CollectStatistics(ctx, s.req)
		if err != nil {
			t.Fatalf("%s: %v", s.what, err)
		}
		checkAnswer(t, s.what, s.req, resp)
		if got := st.calls(); fmt.Sprint(got) != fmt.Sprint(s.want) {
			t.Fatalf("%s: the target's passes %v, want %v", s.what, got, s.want)
		}
	}
	// Unloading a model drops its passes.
	sub, err := h.LoadModel(ctx, h.graph)
	if err != nil {
		t.Fatal(err)
	}
	onSub := func() *potv1.StatisticsRequest { r := req(float, idx, meanOf("g", "x")); r.ModelId = sub; return r }
	for range 2 {
		if _, err := h.CollectStatistics(ctx, onSub()); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(st.calls()); n != 5 {
		t.Errorf("a request repeated on a sub-model made %d passes in all, want 5", n)
	}
	if err := h.UnloadModel(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if _, err := h.CollectStatistics(ctx, onSub()); err != nil {
		t.Fatal(err)
	}
	if n := len(st.calls()); n != 6 {
		t.Errorf("after the sub-model was unloaded: %d passes in all, want 6", n)
	}
}

// prefetchingAlgorithm is a fakeAlgorithm that tells its statistics
// ahead (plugins.Prefetcher).
type prefetchingAlgorithm struct {
	*fakeAlgorithm
	prefetch func(req *plugins.RunRequest) []*potv1.StatisticsRequest
	asked    int
	hold     chan struct{} // when not nil, Prefetch answers once it is closed
}

func (a *prefetchingAlgorithm) Prefetch(_ context.Context, _ plugins.Host, req *plugins.RunRequest) ([]*potv1.StatisticsRequest, error) {
	a.mu.Lock()
	a.asked++
	hold := a.hold
	a.mu.Unlock()
	if hold != nil {
		<-hold
	}
	return a.prefetch(req), nil
}

// TestPrefetchChain runs a chain as DefaultQuantization does (Chain runs
// First naming Second in then, then Second): Second's statistics, told
// ahead, ride along First's pass, so the target makes one pass, and
// Second gets the values of a pass of its own. Without then (or with
// another plan for Second) it makes two.
func TestPrefetchChain(t *testing.T) {
	schema := `{"type": "object", "properties": {"preset": {"type": "string"}, "then": {"type": "boolean"}, "plan": {"type": "boolean"}}}`
	desc := &potv1.AlgorithmDescription{Capabilities: &potv1.AlgorithmCapabilities{}, ParamsSchema: schema}
	samples := func() *potv1.Samples { return &potv1.Samples{Indices: []int64{1, 3}, BatchSize: 1} }
	secondReq := func(req *plugins.RunRequest) *potv1.StatisticsRequest {
		return &potv1.StatisticsRequest{ModelId: req.ModelID, Plan: &potv1.QuantizationPlan{TensorUpdates: req.Plan.GetTensorUpdates()},
			Samples: samples(), Probes: []*potv1.StatisticProbe{meanOf("in0", "x"), meanOf("out0", "conv1")}}
	}
	var got *potv1.StatisticsResponse
	var asked *potv1.StatisticsRequest
	first := &fakeAlgorithm{desc: desc, run: func(ctx context.Context, h plugins.Host, req *plugins.RunRequest) (*potv1.RunResponse, error) {
		_, err := h.CollectStatistics(ctx, &potv1.StatisticsRequest{ModelId: req.ModelID, Plan: &potv1.QuantizationPlan{},
			Samples: samples(), Probes: []*potv1.StatisticProbe{meanOf("m", "conv2")}})
		plan := &potv1.QuantizationPlan{Precisions: []*potv1.NodePrecision{{Node: "/c2/Conv", Precision: potv1.Precision_PRECISION_FLOAT}}}
		return &potv1.RunResponse{Plan: plan}, err
	}}
	second := &prefetchingAlgorithm{fakeAlgorithm: &fakeAlgorithm{desc: desc, run: func(ctx context.Context, h plugins.Host, req *plugins.RunRequest) (*potv1.RunResponse, error) {
		asked = secondReq(req)
		var err error
		got, err = h.CollectStatistics(ctx, asked)
		return &potv1.RunResponse{Plan: req.Plan}, err
	}}, prefetch: func(req *plugins.RunRequest) []*potv1.StatisticsRequest {
		return []*potv1.StatisticsRequest{secondReq(req)}
	}}
	chain := &fakeAlgorithm{desc: desc, run: func(ctx context.Context, h plugins.Host, req *plugins.RunRequest) (*potv1.RunResponse, error) {
		var p struct{ Then, Plan bool }
		if err := json.Unmarshal(req.Params, &p); err != nil {
			return nil, err
		}
		r := &potv1.RunAlgorithmRequest{Name: "First", Plan: req.Plan, Params: "{}"}
		if p.Then {
			r.Then = []string{"Second"}
		}
		resp, err := h.RunAlgorithm(ctx, r)
		if err != nil {
			return nil, err
		}
		plan := resp.GetPlan()
		if p.Plan {
			// An update First did not foresee: Second's pass is another.
			plan.TensorUpdates = []*potv1.Tensor{proto.CloneOf(lenet(t).GetInitializers()[0])}
		}
		return h.RunAlgorithm(ctx, &potv1.RunAlgorithmRequest{Name: "Second", Plan: plan, Params: "{}"})
	}}
	algos := algorithmMap[plugins.Algorithm]{"Chain": chain, "First": first, "Second": second}
	for _, tc := range []struct {
		params string
		passes int
		asked  int
		slow   bool // Second's prefetch answers after the pass
	}{{`{"then": true}`, 1, 1, false}, {`{}`, 2, 0, false}, {`{"then": true, "plan": true}`, 2, 1, false}, {`{"then": true}`, 2, 1, true}} {
		d := &potv1.TargetDescription{Name: "fake"}
		s := chainSession(t, d, nil)
		st := &statsTarget{fakeTarget: &fakeTarget{}}
		s.target = st
		s.calib = &data{name: "calibration", id: "calib", n: 10}
		s.algos = newAlgorithmSet(nil, nil)
		s.algos.closed = true // nothing to start: the algorithms are in the test
		s.params = newParamChecker(algos)
		s.chain = &chainRunner{algos: algos, params: s.params, host: s, desc: d, modelID: "m0", log: s.log}
		second.mu.Lock()
		second.asked, second.hold = 0, nil
		second.mu.Unlock()
		if tc.slow {
			// A prefetch slower than prefetchWait does not hold the pass.
			was := prefetchWait
			prefetchWait = 20 * time.Millisecond
			second.mu.Lock()
			second.hold = make(chan struct{})
			second.mu.Unlock()
			defer func() { prefetchWait = was }()
		}
		if _, _, err := s.Run(context.Background(), []Step{{Name: "Chain", Params: json.RawMessage(tc.params)}}); err != nil {
			t.Fatalf("%s: %v", tc.params, err)
		}
		if second.hold != nil {
			close(second.hold)
		}
		second.mu.Lock()
		prefetches := second.asked
		second.mu.Unlock()
		if n := len(st.calls()); n != tc.passes || prefetches != tc.asked {
			t.Errorf("%s: %d passes %v and %d prefetches, want %d and %d", tc.params, n, st.calls(), prefetches, tc.passes, tc.asked)
		}
		checkAnswer(t, tc.params, asked, got)
	}
}
