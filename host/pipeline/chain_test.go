package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
)

// fakeAlgorithm is an algorithm in the test process; it records its
// requests.
type fakeAlgorithm struct {
	desc *potv1.AlgorithmDescription
	run  func(ctx context.Context, h plugins.Host, req *plugins.RunRequest) (*potv1.RunResponse, error)

	mu   sync.Mutex
	reqs []*plugins.RunRequest
}

func (a *fakeAlgorithm) Describe(context.Context) (*potv1.AlgorithmDescription, error) {
	return a.desc, nil
}

func (a *fakeAlgorithm) Run(ctx context.Context, h plugins.Host, req *plugins.RunRequest) (*potv1.RunResponse, error) {
	a.mu.Lock()
	a.reqs = append(a.reqs, req)
	a.mu.Unlock()
	return a.run(ctx, h, req)
}

func (a *fakeAlgorithm) runs() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.reqs)
}

// algorithmMap is an algorithmSource over algorithms in the test
// process, by name.
type algorithmMap[A plugins.Algorithm] map[string]A

// fakeAlgorithms is an algorithmSource over fake algorithms.
type fakeAlgorithms = algorithmMap[*fakeAlgorithm]

func (f algorithmMap[A]) algorithm(_ context.Context, name string) (plugins.Algorithm, error) {
	if a, ok := f[name]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("algorithm plugin %q not found", name)
}

func (f algorithmMap[A]) describe(ctx context.Context, name string) (*potv1.AlgorithmDescription, error) {
	a, err := f.algorithm(ctx, name)
	if err != nil {
		return nil, err
	}
	return a.Describe(ctx)
}

// gna publishes the presets of POT's GNA: mixed runs as accuracy.
var gna = &potv1.TargetDescription{Name: "gna", Device: "GNA", Presets: []string{"performance", "accuracy"}}

// testAlgorithms are:
//   - Float keeps params.node in float and reports nothing;
//   - Rescale marks params.nodes as needing a rescale, nodes or not;
//   - Legacy (no capabilities, as built before RunResponse.search)
//     reports an accuracy search in its JSON report;
//   - Search runs Float through the host (RunAlgorithm) with params.inner
//     on model params.model and returns its plan with a search result;
//   - Failing fails.
func testAlgorithms() fakeAlgorithms {
	object := func(props string) string {
		return `{"type": "object", "additionalProperties": false, "properties": {` + props + `}}`
	}
	type testParams struct {
		Node  string          `json:"node"`
		Nodes []string        `json:"nodes"`
		Inner json.RawMessage `json:"inner"`
		Model string          `json:"model"`
	}
	params := func(req *plugins.RunRequest) (p testParams) {
		if err := json.Unmarshal(req.Params, &p); err != nil {
			panic(err) // the chain runner checked them against the schema
		}
		return p
	}
	return fakeAlgorithms{
		"Float": {desc: &potv1.AlgorithmDescription{Name: "Float", Capabilities: &potv1.AlgorithmCapabilities{},
			ParamsSchema: object(`"preset": {"type": "string"}, "node": {"type": "string"}`)},
			run: func(_ context.Context, _ plugins.Host, req *plugins.RunRequest) (*potv1.RunResponse, error) {
				p := params(req)
				plan := proto.CloneOf(req.Plan)
				plan.Precisions = append(plan.Precisions, &potv1.NodePrecision{Node: p.Node, Precision: potv1.Precision_PRECISION_FLOAT})
				return &potv1.RunResponse{Plan: plan}, nil
			}},
		"Rescale": {desc: &potv1.AlgorithmDescription{Name: "Rescale", Capabilities: &potv1.AlgorithmCapabilities{},
			ParamsSchema: object(`"nodes": {"type": "array"}`)},
			run: func(_ context.Context, _ plugins.Host, req *plugins.RunRequest) (*potv1.RunResponse, error) {
				p := params(req)
				plan := proto.CloneOf(req.Plan)
				plan.NeedRescale = p.Nodes
				return &potv1.RunResponse{Plan: plan, Report: `{"rescaled":true}`}, nil
			}},
		"Legacy": {desc: &potv1.AlgorithmDescription{Name: "Legacy"},
			run: func(_ context.Context, _ plugins.Host, req *plugins.RunRequest) (*potv1.RunResponse, error) {
				return &potv1.RunResponse{Plan: req.Plan, Report: `{"metric":"top1","default_drop":0.02,"final_drop":0.004,"met":true,` +
					`"reverted":["/f1/Gemm"],"iterations":[{"iteration":1,"reverted":["/f1/Gemm"],"drop":0.004,"accepted":true}]}`}, nil
			}},
		"Search": {desc: &potv1.AlgorithmDescription{Name: "Search", Capabilities: &potv1.AlgorithmCapabilities{},
			ParamsSchema: object(`"inner": {"type": "object"}, "model": {"type": "string"}`)},
			run: func(ctx context.Context, h plugins.Host, req *plugins.RunRequest) (*potv1.RunResponse, error) {
				p := params(req)
				resp, err := h.RunAlgorithm(ctx, &potv1.RunAlgorithmRequest{Name: "Float", ModelId: p.Model, Plan: req.Plan, Params: string(p.Inner)})
				if err != nil {
					return nil, fmt.Errorf("inner Float: %w", err)
				}
				// A search that reports like Legacy, but is no legacy
				// algorithm: its report is not read.
				return &potv1.RunResponse{Plan: resp.GetPlan(), Search: &potv1.SearchResult{Met: true, Reverted: []string{"/c2/Conv"}},
					Report: `{"default_drop":0.5,"iterations":[]}`}, nil
			}},
		"Failing": {desc: &potv1.AlgorithmDescription{Name: "Failing"},
			run: func(context.Context, plugins.Host, *plugins.RunRequest) (*potv1.RunResponse, error) {
				return nil, errors.New("algorithm plugin Failing: out of memory")
			}},
	}
}

// chainSession is a session of the example LeNet (model m0, and the
// sub-model "sub" of its first two nodes) on a fake target described as
// d, running the fake algorithms.
func chainSession(t *testing.T, d *potv1.TargetDescription, algos fakeAlgorithms) *Session {
	h := newHostService(d.GetName(), lenet(t), "", nil)
	h.target, h.modelID = &fakeTarget{}, "m0"
	h.models["sub"] = &potv1.Graph{Name: "sub", Nodes: h.graph.GetNodes()[:2], Initializers: h.graph.GetInitializers()}
	s := &Session{hostService: h, desc: d, log: hclog.NewNullLogger(), params: newParamChecker(algos)}
	s.chain = &chainRunner{algos: algos, params: s.params, host: s, desc: d, modelID: "m0", log: s.log}
	return s
}

func floatNodes(p *potv1.QuantizationPlan) []string {
	var nodes []string
	for _, pr := range p.GetPrecisions() {
		nodes = append(nodes, pr.GetNode())
	}
	return nodes
}

func TestChainRun(t *testing.T) {
	algos := testAlgorithms()
	s := chainSession(t, gna, algos)
	plan, reports, err := s.Run(context.Background(), []Step{
		{"Float", json.RawMessage(`{"preset": "mixed", "node": "/c1/Conv"}`)},
		{"Legacy", nil},
		{"Rescale", json.RawMessage(`{"nodes": ["/f2/Gemm"]}`)},
		{"Float", json.RawMessage(`{"node": "/f2/Gemm"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := floatNodes(plan); !slices.Equal(got, []string{"/c1/Conv", "/f2/Gemm"}) || !slices.Equal(plan.GetNeedRescale(), []string{"/f2/Gemm"}) {
		t.Errorf("final plan: float %v, rescale %v", got, plan.GetNeedRescale())
	}
	// Each algorithm starts from the plan of the one before, on the
	// session's model, for the target, with its preset resolved for it.
	float := algos["Float"].reqs
	if len(float) != 2 || string(float[0].Params) != `{"node":"/c1/Conv","preset":"accuracy"}` || float[0].ModelID != "m0" ||
		float[0].Target != gna || len(float[0].Plan.GetPrecisions()) != 0 {
		t.Errorf("first Float request: %+v", float[0])
	}
	if legacy := algos["Legacy"].reqs[0]; string(legacy.Params) != "{}" || !slices.Equal(floatNodes(legacy.Plan), []string{"/c1/Conv"}) {
		t.Errorf("Legacy request: params %s, plan %v", legacy.Params, legacy.Plan)
	}
	if got := float[1].Plan.GetNeedRescale(); !slices.Equal(got, []string{"/f2/Gemm"}) {
		t.Errorf("second Float started from need_rescale %v", got)
	}
	var got []string
	for _, r := range reports {
		got = append(got, fmt.Sprintf("%s %s search=%v", r.Name, r.Report, r.Search != nil))
	}
	want := []string{
		`Float {} search=false`,
		`Legacy {"metric":"top1","default_drop":0.02,"final_drop":0.004,"met":true,"reverted":["/f1/Gemm"],"iterations":[{"iteration":1,"reverted":["/f1/Gemm"],"drop":0.004,"accepted":true}]} search=true`,
		`Rescale {"rescaled":true} search=false`,
		`Float {} search=false`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("reports\n%q\nwant\n%q", got, want)
	}
	if s := reports[1].Search; s.GetDefaultDrop() != 0.02 || !slices.Equal(s.GetReverted(), []string{"/f1/Gemm"}) || len(s.GetIterations()) != 1 {
		t.Errorf("Legacy's search, read from its report: %v", s)
	}
}

// TestChainRunRefused: what stops a chain, and which algorithms ran
// before it stopped.
func TestChainRunRefused(t *testing.T) {
	tests := []struct {
		name   string
		steps  []Step
		want   string
		preset int      // the step of a *PresetError, or -1
		ran    []string // algorithms run
		notRan []string
	}{
		{"parameters against the schema", []Step{{"Float", json.RawMessage(`{"nodee": "/c1/Conv"}`)}},
			`parameters of Float: nodee: unknown key; did you mean "node"?`, -1, nil, []string{"Float"}},
		{"every problem of a step", []Step{{"Rescale", nil}, {"Float", json.RawMessage(`{"node": 1, "extra": 2}`)}},
			`parameters of Float: 2 problems: extra: unknown key (valid keys: node, preset); node: is number, want string`, -1, []string{"Rescale"}, nil},
		{"a preset the target does not publish", []Step{{"Float", json.RawMessage(`{"node": "/c1/Conv"}`)}, {"Float", json.RawMessage(`{"preset": "fast"}`)}},
			`preset "fast" is not published by target "gna"; it publishes: performance, accuracy`, 1, nil, []string{"Float"}},
		{"an invalid plan", []Step{{"Rescale", json.RawMessage(`{"nodes": ["/c1/Conv", "/nosuch"]}`)}, {"Float", nil}},
			`algorithm Rescale returned an invalid plan: need_rescale "/nosuch": no such node in the model`, -1, []string{"Rescale"}, []string{"Float"}},
		{"an algorithm that fails", []Step{{"Failing", nil}, {"Float", nil}},
			`algorithm plugin Failing: out of memory`, -1, []string{"Failing"}, []string{"Float"}},
		{"an algorithm that is not there", []Step{{"Nosuch", nil}}, `algorithm plugin "Nosuch" not found`, -1, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			algos := testAlgorithms()
			_, _, err := chainSession(t, gna, algos).Run(context.Background(), tc.steps)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			var pe *PresetError
			if errors.As(err, &pe) != (tc.preset >= 0) || pe != nil && pe.Step != tc.preset {
				t.Errorf("preset error %+v, want step %d", pe, tc.preset)
			}
			for _, name := range tc.ran {
				if algos[name].runs() == 0 {
					t.Errorf("%s did not run", name)
				}
			}
			for _, name := range tc.notRan {
				if n := algos[name].runs(); n != 0 {
					t.Errorf("%s ran %d times", name, n)
				}
			}
		})
	}
}

// TestChainNested: an algorithm running another through the host gets
// the same treatment as a step: preset, parameters and plan checked, the
// plan against the graph of the model it was run on.
func TestChainNested(t *testing.T) {
	tests := []struct {
		name, params string
		want         string // the error, or the final plan's float nodes
		model        string // the inner Float's model
	}{
		{"preset resolved", `{"inner": {"preset": "mixed", "node": "/c1/Conv"}}`, "[/c1/Conv]", "m0"},
		{"parameters checked", `{"inner": {"nod": "/c1/Conv"}}`, `inner Float: parameters of Float: nod: unknown key; did you mean "node"?`, ""},
		{"preset checked", `{"inner": {"preset": "fast"}}`, `inner Float: parameters of Float: preset "fast" is not published by target "gna"; it publishes: performance, accuracy`, ""},
		{"on a sub-model", `{"model": "sub", "inner": {"node": "/Relu"}}`, "[/Relu]", "sub"},
		{"a plan invalid on the sub-model", `{"model": "sub", "inner": {"node": "/f2/Gemm"}}`,
			`inner Float: algorithm Float returned an invalid plan: precision of node "/f2/Gemm": no such node in the model`, ""},
		{"an unknown model", `{"model": "gone", "inner": {"node": "/f2/Gemm"}}`, `inner Float: no model "gone"`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			algos := testAlgorithms()
			plan, reports, err := chainSession(t, gna, algos).Run(context.Background(), []Step{{"Search", json.RawMessage(tc.params)}})
			got := fmt.Sprint(floatNodes(plan))
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
			if err != nil {
				return
			}
			if inner := algos["Float"].reqs[0]; inner.ModelID != tc.model {
				t.Errorf("inner Float ran on model %q, want %q", inner.ModelID, tc.model)
			}
			if s := reports[0].Search; !s.GetMet() || !slices.Equal(s.GetReverted(), []string{"/c2/Conv"}) {
				t.Errorf("Search's search result: %v", s)
			}
		})
	}
	// The inner request's preset, resolved for the target.
	algos := testAlgorithms()
	if _, _, err := chainSession(t, gna, algos).Run(context.Background(), []Step{{"Search", json.RawMessage(tests[0].params)}}); err != nil {
		t.Fatal(err)
	}
	if p := Preset(algos["Float"].reqs[0].Params); p != "accuracy" {
		t.Errorf("inner preset %q, want accuracy", p)
	}
}

// TestChainFollowed: an algorithm that names a followed_param (as
// SmoothQuant's smooth_only) gets it set to true when another algorithm
// follows it in the chain, unless its parameters set it; alone, or last,
// it is not set.
func TestChainFollowed(t *testing.T) {
	object := `{"type": "object", "additionalProperties": false, "properties": {"prepare_only": {"type": "boolean"}, "node": {"type": "string"}}}`
	var seen []string
	algos := testAlgorithms()
	algos["Prepare"] = &fakeAlgorithm{desc: &potv1.AlgorithmDescription{Name: "Prepare", ParamsSchema: object,
		Capabilities: &potv1.AlgorithmCapabilities{FollowedParam: "prepare_only"}},
		run: func(_ context.Context, _ plugins.Host, req *plugins.RunRequest) (*potv1.RunResponse, error) {
			var p struct {
				PrepareOnly *bool `json:"prepare_only"`
			}
			if err := json.Unmarshal(req.Params, &p); err != nil {
				return nil, err
			}
			switch {
			case p.PrepareOnly == nil:
				seen = append(seen, "unset")
			default:
				seen = append(seen, fmt.Sprint(*p.PrepareOnly))
			}
			return &potv1.RunResponse{Plan: req.Plan}, nil
		}}
	for _, tc := range []struct {
		name  string
		steps []Step
		want  []string
	}{
		{"alone", []Step{{"Prepare", nil}}, []string{"unset"}},
		{"followed", []Step{{"Prepare", json.RawMessage(`{"node": "x"}`)}, {"Float", json.RawMessage(`{"node": "/c1/Conv"}`)}}, []string{"true"}},
		{"followed, set by the user", []Step{{"Prepare", json.RawMessage(`{"prepare_only": false}`)}, {"Float", json.RawMessage(`{"node": "/c1/Conv"}`)}}, []string{"false"}},
		{"last", []Step{{"Float", json.RawMessage(`{"node": "/c1/Conv"}`)}, {"Prepare", nil}}, []string{"unset"}},
		{"twice", []Step{{"Prepare", nil}, {"Prepare", nil}}, []string{"true", "unset"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen = nil
			s := chainSession(t, gna, algos)
			steps := slices.Clone(tc.steps)
			if _, _, err := s.Run(context.Background(), steps); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(seen, tc.want) {
				t.Errorf("prepare_only %v, want %v", seen, tc.want)
			}
			if !slices.EqualFunc(steps, tc.steps, func(a, b Step) bool { return a.Name == b.Name && string(a.Params) == string(b.Params) }) {
				t.Errorf("the caller's steps changed: %v", steps)
			}
		})
	}
}
