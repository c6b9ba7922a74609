package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
)

// ResolvePreset returns the preset to run for a requested one on a
// target that publishes the presets published (sdk.ResolvePreset), or an
// error naming what the target publishes. A target that publishes no
// presets accepts any name.
func ResolvePreset(preset, target string, published []string) (string, error) {
	if len(published) == 0 {
		p, _ := sdk.ResolvePreset(preset, nil)
		return p, nil
	}
	p, ok := sdk.ResolvePreset(preset, published)
	if ok {
		return p, nil
	}
	name := fmt.Sprintf("%q", preset)
	if p != preset {
		name += " (" + p + ")"
	}
	return "", fmt.Errorf("preset %s is not published by target %q; it publishes: %s", name, target, strings.Join(published, ", "))
}

// ResolvePresets resolves the "preset" parameter of every step against
// the presets target d publishes (ResolvePreset) and returns the steps
// with the resolved presets. A mapping is logged at info. Steps without a
// string preset are unchanged. The error of step i is a *PresetError.
func ResolvePresets(d *potv1.TargetDescription, log hclog.Logger, steps []Step) ([]Step, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	out := make([]Step, len(steps))
	for i, st := range steps {
		params, err := resolvePreset(d, log, st.Name, st.Params)
		if err != nil {
			return nil, &PresetError{Step: i, Err: err}
		}
		out[i] = Step{Name: st.Name, Params: params}
	}
	return out, nil
}

// PresetError is a preset of step Step that the target cannot run.
type PresetError struct {
	Step int
	Err  error
}

func (e *PresetError) Error() string { return e.Err.Error() }
func (e *PresetError) Unwrap() error { return e.Err }

// Preset returns the "preset" parameter of params, "" when there is none.
func Preset(params json.RawMessage) string {
	var m struct {
		Preset any `json:"preset"`
	}
	if json.Unmarshal(params, &m) != nil {
		return ""
	}
	p, _ := m.Preset.(string)
	return p
}

// ResolvePresets resolves the steps' presets for the session's target
// (the package's ResolvePresets); Run does it before the first algorithm.
func (s *Session) ResolvePresets(steps []Step) ([]Step, error) {
	return ResolvePresets(s.desc, s.log, steps)
}

// resolvePreset returns params with its preset resolved for target d;
// params unchanged when nothing changes.
func resolvePreset(d *potv1.TargetDescription, log hclog.Logger, algorithm string, params json.RawMessage) (json.RawMessage, error) {
	if len(params) == 0 {
		return params, nil
	}
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return params, nil // the schema check reports it
	}
	requested, ok := m["preset"].(string)
	if !ok {
		return params, nil
	}
	preset, err := ResolvePreset(requested, d.GetName(), d.GetPresets())
	if err != nil {
		return nil, err
	}
	if preset == requested {
		return params, nil
	}
	if normalised, _ := sdk.ResolvePreset(requested, nil); normalised != preset {
		log.Info("preset mapped to one the target publishes", "algorithm", algorithm, "requested", requested, "preset", preset,
			"target", d.GetName(), "published", strings.Join(d.GetPresets(), ","))
	}
	m["preset"] = preset
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("parameters of %s: %w", algorithm, err)
	}
	return b, nil
}
