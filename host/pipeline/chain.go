package pipeline

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/plan"
	"github.com/potgo/pot/sdk/schema"
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
	steps, err := s.ResolvePresets(steps)
	if err != nil {
		return nil, nil, err
	}
	p := &potv1.QuantizationPlan{}
	var reports []StepReport
	for _, st := range steps {
		resp, err := s.runAlgorithm(ctx, st.Name, s.modelID, p, st.Params)
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
			if d, err := s.Describe(ctx, st.Name); err == nil && d.GetCapabilities() == nil {
				search = legacySearch(resp.GetReport())
			}
		}
		reports = append(reports, StepReport{Name: st.Name, Report: rep, Search: search})
	}
	return p, reports, nil
}

func (s *Session) algorithm(ctx context.Context, name string) (plugins.Algorithm, error) {
	s.mu.Lock()
	a, ok := s.algos[name]
	s.mu.Unlock()
	if ok && !a.Exited() {
		return a, nil
	}
	a, err := s.opts.Manager.Algorithm(ctx, name)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.algos[name] = a
	s.mu.Unlock()
	return a, nil
}

func (s *Session) runAlgorithm(ctx context.Context, name, model string, p *potv1.QuantizationPlan, params json.RawMessage) (*potv1.RunResponse, error) {
	a, err := s.algorithm(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(params) == 0 {
		params = json.RawMessage("{}")
	}
	// Algorithms that run others (RunAlgorithm) get presets resolved too.
	if params, err = resolvePreset(s.desc, s.log, name, params); err != nil {
		return nil, fmt.Errorf("parameters of %s: %w", name, err)
	}
	if err := s.validate(ctx, name, params); err != nil {
		return nil, err
	}
	if p == nil {
		p = &potv1.QuantizationPlan{}
	}
	s.log.Debug("running algorithm", "name", name)
	// The plugin manager's errors name the plugin already.
	resp, err := a.Run(ctx, s, &plugins.RunRequest{ModelID: model, Plan: p, Params: params, Target: s.desc})
	if err != nil {
		return nil, err
	}
	// The plan is checked against the graph the algorithm was given
	// before anything uses it: a bad plan is the algorithm's fault, not
	// the target's that would fail on it later.
	g, err := s.Graph(ctx, model)
	if err != nil {
		return nil, err
	}
	if err := plan.Validate(g, resp.GetPlan()); err != nil {
		return nil, fmt.Errorf("algorithm %s returned an invalid plan: %w", name, err)
	}
	return resp, nil
}

// validate checks parameters as CheckParams does.
func (s *Session) validate(ctx context.Context, name string, params json.RawMessage) error {
	problems, err := s.CheckParams(ctx, name, params)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("parameters of %s: %w", name, &schema.Error{Problems: problems})
	}
	return nil
}
