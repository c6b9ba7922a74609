package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/hashicorp/go-hclog"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/plan"
)

// Step is one algorithm of a chain with its parameters (a JSON object).
type Step struct {
	Name   string
	Params json.RawMessage
}

// StepReport is what an algorithm reported: its free-form JSON report
// and, typed, what the host reads.
type StepReport struct {
	Name   string
	Report json.RawMessage
	// Search is the accuracy search the algorithm ran, or nil.
	Search *potv1.SearchResult
}

// Run runs the algorithms in order, each starting from the plan of the
// previous one, and returns the final plan. Presets are resolved for the
// target (ResolvePresets) before the first algorithm starts.
func (s *Session) Run(ctx context.Context, steps []Step) (*potv1.QuantizationPlan, []StepReport, error) {
	return s.chain.run(ctx, steps)
}

// chainRunner runs algorithms for a target: their presets resolved for
// it, their parameters checked against their schemas, the plan each
// returns checked against the graph it was given. Its fields do not
// change once set: no lock.
type chainRunner struct {
	algos   algorithmSource
	params  *paramChecker
	host    plugins.Host // what the algorithms call back; its Graph serves plan checks
	desc    *potv1.TargetDescription
	modelID string // the session's model, where a chain starts
	log     hclog.Logger
}

// run is Session.Run.
func (c *chainRunner) run(ctx context.Context, steps []Step) (*potv1.QuantizationPlan, []StepReport, error) {
	steps, err := ResolvePresets(c.desc, c.log, steps)
	if err != nil {
		return nil, nil, err
	}
	if steps, err = c.markFollowed(ctx, steps); err != nil {
		return nil, nil, err
	}
	p := &potv1.QuantizationPlan{}
	var reports []StepReport
	for _, st := range steps {
		resp, err := c.runAlgorithm(ctx, st.Name, c.modelID, p, st.Params)
		if err != nil {
			return nil, nil, err
		}
		p = resp.GetPlan()
		if p == nil {
			p = &potv1.QuantizationPlan{}
		}
		rep := json.RawMessage(resp.GetReport())
		if len(rep) == 0 {
			rep = json.RawMessage("{}")
		}
		search := resp.GetSearch()
		if search == nil {
			if d, err := c.algos.describe(ctx, st.Name); err == nil && d.GetCapabilities() == nil {
				search = legacySearch(resp.GetReport())
			}
		}
		reports = append(reports, StepReport{Name: st.Name, Report: rep, Search: search})
	}
	return p, reports, nil
}

// runAlgorithm runs one algorithm on a model from plan p.
func (c *chainRunner) runAlgorithm(ctx context.Context, name, model string, p *potv1.QuantizationPlan, params json.RawMessage) (*potv1.RunResponse, error) {
	a, params, err := c.prepare(ctx, name, params)
	if err != nil {
		return nil, err
	}
	if p == nil {
		p = &potv1.QuantizationPlan{}
	}
	c.log.Debug("running algorithm", "name", name)
	// The plugin manager's errors name the plugin already.
	resp, err := a.Run(ctx, c.host, &plugins.RunRequest{ModelID: model, Plan: p, Params: params, Target: c.desc})
	if err != nil {
		return nil, err
	}
	// The plan is checked against the graph the algorithm was given
	// before anything uses it: a bad plan is the algorithm's fault, not
	// the target's that would fail on it later.
	g, err := c.host.Graph(ctx, model)
	if err != nil {
		return nil, err
	}
	if err := plan.Validate(g, resp.GetPlan()); err != nil {
		return nil, fmt.Errorf("algorithm %s returned an invalid plan: %w", name, err)
	}
	return resp, nil
}

// prepare returns the running plugin of an algorithm and its parameters,
// presets resolved and checked against its schema.
func (c *chainRunner) prepare(ctx context.Context, name string, params json.RawMessage) (plugins.Algorithm, json.RawMessage, error) {
	a, err := c.algos.algorithm(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	if len(params) == 0 {
		params = json.RawMessage("{}")
	}
	// Algorithms that run others (RunAlgorithm) get presets resolved too.
	if params, err = resolvePreset(c.desc, c.log, name, params); err != nil {
		return nil, nil, fmt.Errorf("parameters of %s: %w", name, err)
	}
	if err := c.params.validate(ctx, name, params); err != nil {
		return nil, nil, err
	}
	return a, params, nil
}

// prefetch asks an algorithm what statistics it would collect if it ran
// on model and plan with params (nothing, when its plugin does not say).
func (c *chainRunner) prefetch(ctx context.Context, name, model string, p *potv1.QuantizationPlan, params json.RawMessage) ([]*potv1.StatisticsRequest, error) {
	a, params, err := c.prepare(ctx, name, params)
	if err != nil {
		return nil, err
	}
	pf, ok := a.(plugins.Prefetcher)
	if !ok {
		return nil, nil
	}
	return pf.Prefetch(ctx, c.host, &plugins.RunRequest{ModelID: model, Plan: p, Params: params, Target: c.desc})
}

// markFollowed sets, in the parameters of every algorithm that other
// algorithms follow in the chain, the parameter its capabilities name in
// followed_param to true, unless the parameters set it: such an
// algorithm (SmoothQuant) then leaves quantizing to the algorithms after
// it instead of also running the one it passes parameters to. The steps
// are copied; the last one is never marked.
func (c *chainRunner) markFollowed(ctx context.Context, steps []Step) ([]Step, error) {
	out := slices.Clone(steps)
	for i := 0; i < len(out)-1; i++ {
		d, err := c.algos.describe(ctx, out[i].Name)
		if err != nil {
			return nil, err
		}
		key := sdk.AlgorithmCapabilities(d).GetFollowedParam()
		if key == "" {
			continue
		}
		m := map[string]json.RawMessage{}
		if len(out[i].Params) > 0 {
			if err := json.Unmarshal(out[i].Params, &m); err != nil {
				return nil, fmt.Errorf("parameters of %s: %w", out[i].Name, err)
			}
		}
		if _, ok := m[key]; ok {
			continue
		}
		m[key] = json.RawMessage("true")
		b, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("parameters of %s: %w", out[i].Name, err)
		}
		out[i].Params = b
		c.log.Debug("algorithm followed in the chain", "name", out[i].Name, "param", key)
	}
	return out, nil
}
