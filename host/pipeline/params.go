package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/params"
	"github.com/potgo/pot/sdk/schema"
)

// paramChecker checks algorithm parameters against the schemas the
// algorithms publish, each schema compiled once: the algorithms that take
// DefaultQuantization's parameters publish the same one.
type paramChecker struct {
	algos describer

	mu      sync.Mutex
	schemas map[string]*schema.Schema // by the schema's text
}

func newParamChecker(algos describer) *paramChecker {
	return &paramChecker{algos: algos, schemas: map[string]*schema.Schema{}}
}

// Describe returns an algorithm's description, starting its plugin on
// first use; the answer is kept for the session.
func (s *Session) Describe(ctx context.Context, name string) (*potv1.AlgorithmDescription, error) {
	return s.algos.describe(ctx, name)
}

// compiled returns the algorithm's compiled schema (nil: it publishes
// none).
func (c *paramChecker) compiled(name string, d *potv1.AlgorithmDescription) (*schema.Schema, error) {
	src := d.GetParamsSchema()
	if src == "" {
		return nil, nil
	}
	c.mu.Lock()
	sch, ok := c.schemas[src]
	c.mu.Unlock()
	if ok {
		return sch, nil
	}
	sch, err := schema.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("algorithm %s publishes a bad schema: %w", name, err)
	}
	c.mu.Lock()
	c.schemas[src] = sch
	c.mu.Unlock()
	return sch, nil
}

// CheckParams checks an algorithm's parameters (a JSON object) against
// the schema it publishes. The keys its schema does not define, when it
// passes them on (AlgorithmCapabilities.passes_params_to), are checked
// against the schema of the algorithm that receives them, and so on down
// the line; a key that none of them defines is unknown, with "did you
// mean" from whichever has the nearest key (named when it is not name).
// It returns every problem, paths relative to params; the error is for
// a plugin that cannot be started or described.
func (s *Session) CheckParams(ctx context.Context, name string, raw json.RawMessage) ([]schema.Problem, error) {
	return s.params.check(ctx, name, raw)
}

// check is CheckParams.
func (c *paramChecker) check(ctx context.Context, name string, raw json.RawMessage) ([]schema.Problem, error) {
	problems, err := c.checkParams(ctx, name, raw, map[string]bool{})
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Path < problems[j].Path })
	return problems, err
}

// validate checks parameters as check does; the problems make one error.
func (c *paramChecker) validate(ctx context.Context, name string, params json.RawMessage) error {
	problems, err := c.check(ctx, name, params)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("parameters of %s: %w", name, &schema.Error{Problems: problems})
	}
	return nil
}

func (c *paramChecker) checkParams(ctx context.Context, name string, raw json.RawMessage, seen map[string]bool) ([]schema.Problem, error) {
	seen[name] = true
	d, err := c.algos.describe(ctx, name)
	if err != nil {
		return nil, err
	}
	sch, err := c.compiled(name, d)
	if err != nil {
		return nil, err
	}
	validate := func(raw json.RawMessage) ([]schema.Problem, error) {
		if sch == nil {
			return nil, nil
		}
		err := sch.Validate(raw)
		if se, ok := err.(*schema.Error); ok {
			return se.Problems, nil
		}
		if err != nil {
			return nil, fmt.Errorf("parameters of %s: %w", name, err)
		}
		return nil, nil
	}
	to, err := receiver(name, d, raw)
	if err != nil {
		return nil, err
	}
	if to == "" || seen[to] {
		return validate(raw)
	}
	own, rest, err := params.Split(raw, d.GetParamsSchema())
	if err != nil {
		// Not an object: the schema says so.
		return validate(raw)
	}
	problems, err := validate(own)
	if err != nil {
		return nil, err
	}
	mine, _, _ := params.Properties(d.GetParamsSchema())
	owners := map[string]string{}
	for _, k := range mine {
		owners[k] = name
	}
	open, err := c.keys(ctx, to, owners, map[string]bool{name: true})
	if err != nil {
		return nil, err
	}
	var passed map[string]json.RawMessage
	if err := json.Unmarshal(rest, &passed); err != nil {
		return nil, err
	}
	if !open {
		known := make([]string, 0, len(owners))
		for k := range owners {
			known = append(known, k)
		}
		slices.Sort(known)
		for k := range passed {
			if _, ok := owners[k]; ok {
				continue
			}
			msg := "unknown key"
			if near := schema.Nearest(k, known); near != "" {
				msg += fmt.Sprintf("; did you mean %q?", near)
				if owners[near] != name {
					msg = fmt.Sprintf("unknown key; did you mean %q (a parameter of %s)?", near, owners[near])
				}
			}
			problems = append(problems, schema.Problem{Path: k, Message: msg})
			delete(passed, k)
		}
	}
	rest, _ = json.Marshal(passed)
	more, err := c.checkParams(ctx, to, rest, seen)
	return append(problems, more...), err
}

// receiver is the algorithm that receives the parameters name does not
// define, or "".
func receiver(name string, d *potv1.AlgorithmDescription, raw json.RawMessage) (string, error) {
	c := sdk.AlgorithmCapabilities(d)
	to := c.GetPassesParamsTo()
	if key := c.GetPassesParamsToParam(); key != "" {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) == nil {
			if v, ok := m[key]; ok {
				var other string
				if err := json.Unmarshal(v, &other); err == nil && other != "" {
					to = other
				}
			}
		}
	}
	if to == name {
		return "", nil
	}
	return to, nil
}

// keys adds to owners the top-level parameters algorithm name defines,
// and those of the algorithms it passes parameters on to, each with the
// first algorithm that defines it. open reports whether the last of them
// takes any key.
func (c *paramChecker) keys(ctx context.Context, name string, owners map[string]string, seen map[string]bool) (open bool, err error) {
	seen[name] = true
	d, err := c.algos.describe(ctx, name)
	if err != nil {
		return false, err
	}
	names, open, err := params.Properties(d.GetParamsSchema())
	if err != nil {
		return false, fmt.Errorf("algorithm %s publishes a bad schema: %w", name, err)
	}
	for _, k := range names {
		if _, ok := owners[k]; !ok {
			owners[k] = name
		}
	}
	if to := sdk.AlgorithmCapabilities(d).GetPassesParamsTo(); to != "" && to != name && !seen[to] {
		return c.keys(ctx, to, owners, seen)
	}
	return open, nil
}
