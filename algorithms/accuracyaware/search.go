package accuracyaware

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/algorithms/quant"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/graph"
)

// Name is the algorithm's name.
const Name = "AccuracyAwareQuantization"

// stateVersion changes when the checkpoint layout does.
const stateVersion = 1

// iteration records one step of the search.
type iteration struct {
	Iteration int      `json:"iteration"`
	Reverted  []string `json:"reverted"`
	Drop      float64  `json:"drop"`
	Metric    float64  `json:"metric"`
	Accepted  bool     `json:"accepted"`
	Reranked  bool     `json:"reranked"`
}

// state is the checkpointed search.
type state struct {
	Version     int     `json:"version"`
	Fingerprint string  `json:"fingerprint"`
	Metric      string  `json:"metric"`
	Baseline    float64 `json:"baseline"`
	MaxDrop     float64 `json:"max_drop"`
	DefaultDrop float64 `json:"default_drop"`
	// Plans, as serialized protobuf.
	Base    []byte `json:"base_plan"`
	Precise []byte `json:"precise_plan,omitempty"`
	Current []byte `json:"current_plan"`

	CurrentDrop   float64     `json:"current_drop"`
	CurrentMetric float64     `json:"current_metric"`
	PrevDrop      float64     `json:"prev_drop"`
	StepBack      bool        `json:"step_back"`
	Iteration     int         `json:"iteration"`
	Ranked        []scored    `json:"ranked"`
	RankingSubset []int64     `json:"ranking_subset"`
	Reverted      [][]string  `json:"reverted_groups"`
	History       []iteration `json:"history"`
	Evaluations   int         `json:"evaluations"`
	Done          bool        `json:"done"`
	Met           bool        `json:"met"`
	Notes         []string    `json:"notes,omitempty"`
	// Phase is phaseTune while the hyperparameter search is under way,
	// empty once the greedy search can run.
	Phase string     `json:"phase,omitempty"`
	Tune  *tuneState `json:"tune,omitempty"`
	// BaseTables are the tables of the base algorithm's report
	// (sdk.ReportTable) for the starting plan.
	BaseTables []sdk.ReportTable `json:"base_tables,omitempty"`
}

// scored is a group with its ranking score.
type scored struct {
	Group group   `json:"group"`
	Score float64 `json:"score"`
}

// Report is what the algorithm reports: POT's figures and the search's
// trajectory.
type Report struct {
	Metric      string      `json:"metric"`
	Baseline    float64     `json:"baseline"`
	MaxDrop     float64     `json:"max_drop"`
	DefaultDrop float64     `json:"default_drop"`
	FinalDrop   float64     `json:"final_drop"`
	Final       float64     `json:"final_metric"`
	Met         bool        `json:"met"`
	Reverted    []string    `json:"reverted"`
	Groups      [][]string  `json:"reverted_groups"`
	Iterations  []iteration `json:"iterations"`
	Evaluations int         `json:"evaluations"`
	Resumed     bool        `json:"resumed,omitempty"`
	Notes       []string    `json:"notes,omitempty"`
	// Trials of the hyperparameter search (tune_hyperparams).
	Trials []trial `json:"tune_trials,omitempty"`
	// Tables are the base algorithm's report tables for the starting plan
	// (sdk.ReportTable), when it has any.
	Tables []sdk.ReportTable `json:"tables,omitempty"`
}

// Result is the typed part of the report, what the host reads.
func (r *Report) Result() *potv1.SearchResult {
	out := &potv1.SearchResult{Metric: r.Metric, Baseline: r.Baseline, MaxDrop: r.MaxDrop, DefaultDrop: r.DefaultDrop,
		FinalDrop: r.FinalDrop, FinalMetric: r.Final, Met: r.Met, Reverted: r.Reverted, Evaluations: int64(r.Evaluations)}
	for _, it := range r.Iterations {
		out.Iterations = append(out.Iterations, &potv1.SearchIteration{Iteration: int32(it.Iteration), Reverted: it.Reverted,
			Drop: it.Drop, Metric: it.Metric, Accepted: it.Accepted, Reranked: it.Reranked})
	}
	for _, t := range r.Trials {
		out.Trials = append(out.Trials, &potv1.SearchTrial{Trial: int32(t.Trial), Step: t.Step, Params: string(t.Params),
			Metric: t.Metric, Drop: t.Drop, Kept: t.Kept, FullMeasured: t.FullMeasured, FullMetric: t.FullMetric,
			FullDrop: t.FullDrop, Adopted: t.Adopted})
	}
	return out
}

// searcher runs one search.
type searcher struct {
	h      sdk.Host
	req    *sdk.RunRequest
	p      *Params
	base   json.RawMessage
	qp     *quant.Params
	st     *state
	caps   *potv1.TargetCapabilities
	metric string
	mu     sync.Mutex // guards st.Evaluations during parallel ranking
	// inputs are the constant inputs (weights, bias) of each node, for
	// reverting learned weights (see revert).
	inputs map[string][]string
}

// Run implements AccuracyAwareQuantization.
func Run(ctx context.Context, h sdk.Host, req *sdk.RunRequest) (*potv1.QuantizationPlan, *Report, error) {
	p, base, qp, err := parse(req.Params)
	if err != nil {
		return nil, nil, err
	}
	info, err := h.DataInfo(ctx)
	if err != nil {
		return nil, nil, err
	}
	if info.GetEvaluationSamples() == 0 {
		return nil, nil, fmt.Errorf("%s needs evaluation data (--eval-data)", Name)
	}
	s := &searcher{h: h, req: req, p: p, base: base, qp: qp, caps: sdk.Capabilities(req.Target)}
	// The run's metric (the host's: the user's --metric, else top-1 with
	// labels and agreement without), unless POT's annotation-free mode
	// asks for agreement.
	switch {
	case p.AnnotationFree:
		s.metric = "agreement"
	case !info.GetLabelled() && info.GetMetric() == "top1":
		s.metric = "agreement"
	}
	fp, err := s.fingerprint(ctx)
	if err != nil {
		return nil, nil, err
	}
	if s.inputs, err = nodeInputs(ctx, h, req.ModelID); err != nil {
		return nil, nil, err
	}
	resumed := false
	if raw, found, err := h.LoadState(ctx, Name); err != nil {
		return nil, nil, err
	} else if found {
		var st state
		if err := json.Unmarshal(raw, &st); err != nil {
			return nil, nil, fmt.Errorf("checkpoint is unreadable: %w", err)
		}
		if st.Version != stateVersion || st.Fingerprint != fp {
			return nil, nil, fmt.Errorf("the checkpoint belongs to another run (other model, target or parameters); remove it or run without --resume")
		}
		s.st, resumed = &st, true
	}
	if s.st == nil {
		s.st = &state{Version: stateVersion, Fingerprint: fp}
		if err := s.start(ctx); err != nil {
			return nil, nil, err
		}
	}
	if !s.st.Done && s.st.Phase == phaseTune {
		if err := s.tune(ctx); err != nil {
			return nil, nil, err
		}
	}
	if !s.st.Done {
		if err := s.search(ctx); err != nil {
			return nil, nil, err
		}
	}
	cur, err := s.plan(s.st.Current)
	if err != nil {
		return nil, nil, err
	}
	rep := &Report{Metric: s.st.Metric, Baseline: s.st.Baseline, MaxDrop: s.st.MaxDrop, DefaultDrop: s.st.DefaultDrop,
		FinalDrop: s.st.CurrentDrop, Final: s.st.CurrentMetric, Met: s.st.Met, Groups: s.st.Reverted,
		Iterations: s.st.History, Evaluations: s.st.Evaluations, Resumed: resumed, Notes: s.st.Notes, Tables: s.st.BaseTables}
	if s.st.Tune != nil {
		rep.Trials = s.st.Tune.Trials
	}
	rep.Reverted = []string{}
	for _, g := range s.st.Reverted {
		rep.Reverted = append(rep.Reverted, g...)
	}
	if rep.Groups == nil {
		rep.Groups = [][]string{}
	}
	if rep.Iterations == nil {
		rep.Iterations = []iteration{}
	}
	return cur, rep, nil
}

// hashGraph writes g to h without serializing it whole (a model's
// weights may exceed protobuf's 2 GiB limit): the graph without its
// initializers, then each initializer's header and data.
func hashGraph(h io.Writer, g *potv1.Graph) error {
	opts := proto.MarshalOptions{Deterministic: true}
	head := graph.WithoutInitializers(g)
	b, err := opts.Marshal(head)
	if err != nil {
		return err
	}
	h.Write(b)
	for _, t := range g.GetInitializers() {
		th := &potv1.Tensor{Name: t.GetName(), Dtype: t.GetDtype(), Dims: t.GetDims(), StringData: t.GetStringData(), DataSize: int64(len(t.GetData()))}
		if b, err = opts.Marshal(th); err != nil {
			return err
		}
		fmt.Fprintf(h, "\x00%d\x00", len(b))
		h.Write(b)
		h.Write(t.GetData())
	}
	return nil
}

// fingerprint identifies a run: graph, target and parameters.
func (s *searcher) fingerprint(ctx context.Context) (string, error) {
	g, err := s.h.Graph(ctx, s.req.ModelID)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	if err := hashGraph(h, g); err != nil {
		return "", err
	}
	h.Write([]byte(s.req.Target.GetName()))
	h.Write([]byte(s.req.Params))
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (s *searcher) plan(b []byte) (*potv1.QuantizationPlan, error) {
	p := &potv1.QuantizationPlan{}
	if err := proto.Unmarshal(b, p); err != nil {
		return nil, fmt.Errorf("checkpoint plan: %w", err)
	}
	return p, nil
}

func (s *searcher) save(ctx context.Context) error {
	b, err := json.Marshal(s.st)
	if err != nil {
		return err
	}
	return s.h.SaveState(ctx, Name, b)
}

// evaluate measures a plan (nil: float) on the evaluation data, on some
// samples (nil: all).
func (s *searcher) evaluate(ctx context.Context, p *potv1.QuantizationPlan, idx []int64, distance string) (*potv1.HostEvaluateResponse, error) {
	r, err := s.h.Evaluate(ctx, &potv1.HostEvaluateRequest{ModelId: s.req.ModelID, Plan: p, DataSet: potv1.DataSet_DATA_SET_EVALUATION,
		Indices: idx, Distance: distance, Metric: s.metric, ConfidenceThreshold: s.confidence()})
	if err == nil {
		s.countEval()
	}
	return r, err
}

func (s *searcher) countEval() {
	s.mu.Lock()
	s.st.Evaluations++
	s.mu.Unlock()
}

func (s *searcher) confidence() float64 {
	if s.metric == "agreement" && s.p.AnnotationFree {
		return s.p.AnnotationConfThreshold
	}
	return 0
}

// drop of a metric value against the baseline.
func (s *searcher) drop(v float64) float64 { return s.st.Baseline - v }

// within reports whether a drop meets the budget. Metric values are
// fractions of the sample count: a drop equal to the budget up to
// floating-point rounding (0.9204 - 0.9186 is 0.0018000000000000238)
// meets it.
func (s *searcher) within(drop float64) bool { return drop <= s.st.MaxDrop+1e-9 }

// runBase runs the base algorithm with some parameters changed.
func (s *searcher) runBase(ctx context.Context, override map[string]any) (*potv1.QuantizationPlan, error) {
	p, _, err := s.runBaseReport(ctx, override)
	return p, err
}

// runBaseReport is runBase that returns the base algorithm's report too.
func (s *searcher) runBaseReport(ctx context.Context, override map[string]any) (*potv1.QuantizationPlan, string, error) {
	params := map[string]any{}
	if err := json.Unmarshal(s.base, &params); err != nil {
		return nil, "", err
	}
	for k, v := range override {
		params[k] = v
	}
	b, _ := json.Marshal(params)
	resp, err := s.h.RunAlgorithm(ctx, &potv1.RunAlgorithmRequest{Name: s.p.BaseAlgorithm, ModelId: s.req.ModelID, Plan: s.req.Plan, Params: string(b)})
	if err != nil {
		return nil, "", err
	}
	return resp.GetPlan(), resp.GetReport(), nil
}

func marshal(p *potv1.QuantizationPlan) []byte {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(p)
	return b
}

// start runs the base quantization, measures it and ranks the groups.
func (s *searcher) start(ctx context.Context) error {
	st := s.st
	var baseline *potv1.HostEvaluateResponse
	var err error
	if s.caps.GetIntegerOnly() {
		// Integer-only targets (GNA): the baseline is the most precise
		// integer model (GNA: all int16).
		preset := s.caps.GetPrecisePreset()
		if preset == "" {
			preset = quant.Accuracy
		}
		precise, err := s.runBase(ctx, map[string]any{"preset": preset})
		if err != nil {
			return err
		}
		st.Precise = marshal(precise)
		baseline, err = s.evaluate(ctx, precise, nil, s.startDistance())
		if err != nil {
			return err
		}
	} else if baseline, err = s.evaluate(ctx, nil, nil, s.startDistance()); err != nil {
		return err
	}
	st.Metric, st.Baseline = baseline.GetMetric(), baseline.GetValue()
	st.MaxDrop = s.p.MaximalDrop
	if s.p.DropType == "relative" {
		st.MaxDrop = st.Baseline * s.p.MaximalDrop
	}
	override := map[string]any{}
	if s.caps.GetIntegerOnly() {
		override["preset"] = quant.Performance
	}
	basePlan, baseReport, err := s.runBaseReport(ctx, override)
	if err != nil {
		return err
	}
	// The base algorithm's tables (AdaRound's per-layer errors) go into
	// AA's report, for report.html.
	for _, t := range sdk.ReportTables(baseReport) {
		t.Title = "Before any layer is reverted — " + t.Title
		st.BaseTables = append(st.BaseTables, t)
	}
	r, err := s.evaluate(ctx, basePlan, nil, s.startDistance())
	if err != nil {
		return err
	}
	st.DefaultDrop = s.drop(r.GetValue())
	s.setCurrent(basePlan, r.GetValue())
	st.Base = st.Current
	if s.within(st.CurrentDrop) {
		st.Done, st.Met = true, true
		return s.save(ctx)
	}
	var current map[string]any // the base parameters the current plan was made with
	if s.p.ConvertToMixedPreset && s.qp.Preset == quant.Performance && !s.caps.GetIntegerOnly() {
		current = map[string]any{"preset": quant.Mixed}
		mixed, err := s.runBase(ctx, map[string]any{"preset": quant.Mixed})
		if err != nil {
			return err
		}
		r, err := s.evaluate(ctx, mixed, nil, s.startDistance())
		if err != nil {
			return err
		}
		st.Notes = append(st.Notes, fmt.Sprintf("mixed preset: drop %.4f", s.drop(r.GetValue())))
		s.setCurrent(mixed, r.GetValue())
		if s.within(st.CurrentDrop) {
			st.Done, st.Met = true, true
			return s.save(ctx)
		}
	}
	if s.p.TuneHyperparams && !s.caps.GetIntegerOnly() {
		cur, _ := s.plan(st.Current)
		return s.startTuning(ctx, cur, baseline.GetPerSample(), current)
	}
	return s.prepare(ctx, baseline.GetPerSample(), nil)
}

// startDistance is the distance start asks for with the metric of the
// plans it measures: the one the ranking subset is picked by (hardest),
// when the groups are ranked. The plan the search starts from is then
// measured once: hardest's evaluation of it is the host's cached answer
// to the same request, and the float model's outputs the host compares
// with are computed once, on the baseline's evaluation.
func (s *searcher) startDistance() string {
	if s.p.RevertOrder == "ranking" {
		return hardestDistance
	}
	return ""
}

// hardestDistance is the distance to the float model's outputs that
// breaks ties between equally hurt samples in hardest.
const hardestDistance = "cosine"

// prepare readies the greedy search on the current plan: the ranking
// subset (known, when it was measured on this plan before) and the
// ranked candidates.
func (s *searcher) prepare(ctx context.Context, baseline []float64, known []int64) error {
	st := s.st
	st.PrevDrop = st.CurrentDrop
	cur, _ := s.plan(st.Current)
	if s.p.RevertOrder == "ranking" {
		if known != nil {
			st.RankingSubset = known
		} else {
			sub, err := s.hardest(ctx, cur, baseline)
			if err != nil {
				return err
			}
			st.RankingSubset = sub
		}
	}
	if err := s.rank(ctx, cur, s.candidates(cur)); err != nil {
		return err
	}
	return s.save(ctx)
}

func (s *searcher) setCurrent(p *potv1.QuantizationPlan, value float64) {
	s.st.Current = marshal(p)
	s.st.CurrentMetric = value
	s.st.CurrentDrop = s.drop(value)
}

// candidates are the groups that can still be reverted.
func (s *searcher) candidates(p *potv1.QuantizationPlan) []group {
	if s.caps.GetIntegerOnly() {
		precise, _ := s.plan(s.st.Precise)
		return promotable(p, precise)
	}
	return groups(p)
}

// apply reverts (or on GNA promotes) a group.
func (s *searcher) apply(p *potv1.QuantizationPlan, g group) *potv1.QuantizationPlan {
	if s.caps.GetIntegerOnly() {
		precise, _ := s.plan(s.st.Precise)
		return promote(p, precise, g)
	}
	return revert(p, g, s.inputs)
}

// hardest picks the samples a plan hurts most (the ranking subset): by
// per-sample metric difference to the baseline's per-sample values, ties
// broken by the cosine distance of the outputs to the float model's, then
// by index.
func (s *searcher) hardest(ctx context.Context, p *potv1.QuantizationPlan, baseline []float64) ([]int64, error) {
	r, err := s.evaluate(ctx, p, nil, hardestDistance)
	if err != nil {
		return nil, err
	}
	n := len(r.GetPerSample())
	size := s.p.RankingSubsetSize
	if size <= 0 || size > n {
		size = min(n, 300)
	}
	type cand struct {
		i          int
		diff, dist float64
	}
	cs := make([]cand, 0, n)
	for i := 0; i < n; i++ {
		q := r.GetPerSample()[i]
		if math.IsNaN(q) {
			continue // left out of the annotation-free metric
		}
		b := 1.0
		if i < len(baseline) && !math.IsNaN(baseline[i]) {
			b = baseline[i]
		}
		d := 0.0
		if i < len(r.GetDistances()) {
			d = r.GetDistances()[i]
		}
		cs = append(cs, cand{i, b - q, d})
	}
	sort.SliceStable(cs, func(a, b int) bool {
		if cs[a].diff != cs[b].diff {
			return cs[a].diff > cs[b].diff
		}
		if cs[a].dist != cs[b].dist {
			return cs[a].dist > cs[b].dist
		}
		return cs[a].i < cs[b].i
	})
	size = min(size, len(cs))
	sub := make([]int64, size)
	for k := 0; k < size; k++ {
		sub[k] = int64(cs[k].i)
	}
	sort.Slice(sub, func(a, b int) bool { return sub[a] < sub[b] })
	return sub, nil
}

// rank scores each candidate group by the metric on the ranking subset
// with the group reverted (higher = reverting it helps more), evaluating
// several groups at once.
func (s *searcher) rank(ctx context.Context, p *potv1.QuantizationPlan, cands []group) error {
	if s.p.RevertOrder != "ranking" {
		return s.naiveOrder(ctx, cands)
	}
	scores := make([]scored, len(cands))
	workers := max(s.p.Workers, 1)
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	done := 0
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i, g := range cands {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r, err := s.evaluate(ctx, s.apply(p, g), s.st.RankingSubset, "")
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				return
			}
			scores[i] = scored{Group: g, Score: r.GetValue()}
			done++
			_ = s.h.Progress(ctx, &potv1.ProgressRequest{Stage: "rank layers", Done: int64(done), Total: int64(len(cands))})
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("rank layers: %w", firstErr)
	}
	sort.SliceStable(scores, func(a, b int) bool {
		if scores[a].Score != scores[b].Score {
			return scores[a].Score > scores[b].Score
		}
		return scores[a].Group.key() < scores[b].Group.key()
	})
	s.st.Ranked = scores
	return nil
}

// search is POT's greedy loop: revert the best-ranked group and measure
// on the full set; keep it when the drop does not grow (or right after a
// step back); otherwise restore the previous model, re-rank and go on.
func (s *searcher) search(ctx context.Context) error {
	st := s.st
	for len(st.Ranked) > 0 && (s.p.MaxIterNum <= 0 || st.Iteration < s.p.MaxIterNum) {
		if err := ctx.Err(); err != nil {
			return err
		}
		cur, err := s.plan(st.Current)
		if err != nil {
			return err
		}
		top := st.Ranked[0]
		st.Ranked = st.Ranked[1:]
		next := s.apply(cur, top.Group)
		r, err := s.evaluate(ctx, next, nil, "")
		if err != nil {
			return err
		}
		st.Iteration++
		drop := s.drop(r.GetValue())
		it := iteration{Iteration: st.Iteration, Reverted: top.Group.Ops, Drop: drop, Metric: r.GetValue()}
		_ = s.h.Progress(ctx, &potv1.ProgressRequest{Stage: "accuracy-aware search", Done: int64(st.Iteration),
			Message: fmt.Sprintf("reverted %s: drop %.4f (budget %.4f)", strings.Join(top.Group.Ops, ","), drop, st.MaxDrop)})
		rerank := false
		switch {
		case s.within(drop):
			it.Accepted = true
		case drop <= st.PrevDrop || (drop > st.PrevDrop && st.StepBack):
			it.Accepted = true
			st.StepBack = false
		case drop > st.PrevDrop && s.p.UsePrevIfDropIncrease:
			// Step back: keep the previous model, try the others re-ranked.
			st.StepBack = true
			rerank = true
		default:
			it.Accepted = true
			rerank = true
		}
		if it.Accepted {
			s.setCurrent(next, r.GetValue())
			st.PrevDrop = drop
			st.Reverted = append(st.Reverted, top.Group.Ops)
		}
		if s.within(drop) {
			st.Met = true
			st.History = append(st.History, it)
			break
		}
		if rerank && len(st.Ranked) > 0 {
			cur, _ := s.plan(st.Current)
			var rest []group
			for _, sc := range st.Ranked {
				rest = append(rest, sc.Group)
			}
			if err := s.rank(ctx, cur, rest); err != nil {
				return err
			}
			it.Reranked = true
		}
		st.History = append(st.History, it)
		if err := s.save(ctx); err != nil {
			return err
		}
	}
	st.Met = s.within(st.CurrentDrop)
	st.Done = true
	return s.save(ctx)
}

// naiveOrder orders the groups without evaluating them: in graph order
// (of each group's first operation) or shuffled with seed 0. These are
// the baselines the ranking is measured against.
func (s *searcher) naiveOrder(ctx context.Context, cands []group) error {
	out := make([]scored, len(cands))
	for i, g := range cands {
		out[i] = scored{Group: g}
	}
	switch s.p.RevertOrder {
	case "graph":
		g, err := s.h.Graph(ctx, s.req.ModelID)
		if err != nil {
			return err
		}
		pos := map[string]int{}
		for i, n := range g.GetNodes() {
			pos[n.GetName()] = i
		}
		first := func(gr group) int {
			m := len(g.GetNodes())
			for _, op := range gr.Ops {
				if p, ok := pos[op]; ok && p < m {
					m = p
				}
			}
			return m
		}
		sort.SliceStable(out, func(a, b int) bool { return first(out[a].Group) < first(out[b].Group) })
	case "random":
		sort.Slice(out, func(a, b int) bool { return out[a].Group.key() < out[b].Group.key() })
		r := rand.New(rand.NewPCG(0, 0))
		r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	}
	s.st.Ranked = out
	return nil
}
