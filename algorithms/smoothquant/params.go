package smoothquant

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/params"
)

// Name is the algorithm's name (its binary is pot-algorithm-SmoothQuant).
const Name = "SmoothQuant"

// Params are SmoothQuant's own parameters; every other key goes to the
// base algorithm.
type Params struct {
	// Alpha is the migration strength α in [0, 1]: 0 leaves activations
	// as they are, 1 moves all of their range into the weights.
	Alpha float64 `json:"alpha"`
	// AlphaSearch picks each layer's α from AlphaGrid by the simulated
	// int8 error of its output on SearchSamples calibration samples.
	AlphaSearch   bool      `json:"alpha_search"`
	AlphaGrid     []float64 `json:"alpha_grid"`
	SearchSamples int       `json:"search_samples"`
	// BaseAlgorithm quantizes the smoothed model.
	BaseAlgorithm string `json:"base_algorithm"`
	// SmoothOnly returns the smoothed constants without quantizing; the
	// host sets it when other algorithms follow in the chain.
	SmoothOnly bool `json:"smooth_only"`
}

// passed are the base algorithm's parameters SmoothQuant reads too: the
// calibration subset its statistics use, as everyone else's, and the
// preset its α search simulates.
type passed struct {
	StatSubsetSize int    `json:"stat_subset_size"`
	Seed           int64  `json:"seed"`
	ShuffleData    bool   `json:"shuffle_data"`
	Preset         string `json:"preset"`
}

// Defaults of SmoothQuant's own parameters.
const Defaults = `{"alpha": 0.5, "alpha_search": false, "alpha_grid": [0.3, 0.4, 0.5, 0.6, 0.7, 0.8], "search_samples": 8, "base_algorithm": "DefaultQuantization", "smooth_only": false}`

// parse splits the parameters into SmoothQuant's own (with defaults),
// the base algorithm's (passed on verbatim) and what it reads of them.
func parse(raw []byte) (*Params, json.RawMessage, *passed, error) {
	p := &Params{}
	if err := json.Unmarshal([]byte(Defaults), p); err != nil {
		return nil, nil, nil, fmt.Errorf("defaults: %w", err)
	}
	own, rest, err := params.Split(raw, Schema)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("params: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(own))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return nil, nil, nil, fmt.Errorf("params: %w", err)
	}
	if rest, err = takeDQAlpha(own, rest, p); err != nil {
		return nil, nil, nil, err
	}
	if p.Alpha < 0 || p.Alpha > 1 {
		return nil, nil, nil, fmt.Errorf("params: alpha %g is not in [0, 1]", p.Alpha)
	}
	for _, a := range p.AlphaGrid {
		if a < 0 || a > 1 {
			return nil, nil, nil, fmt.Errorf("params: alpha_grid value %g is not in [0, 1]", a)
		}
	}
	if p.AlphaSearch && len(p.AlphaGrid) == 0 {
		return nil, nil, nil, fmt.Errorf("params: alpha_search with an empty alpha_grid")
	}
	if p.SearchSamples < 1 {
		return nil, nil, nil, fmt.Errorf("params: search_samples %d is less than 1", p.SearchSamples)
	}
	if p.BaseAlgorithm == "" || p.BaseAlgorithm == Name {
		return nil, nil, nil, fmt.Errorf("params: base_algorithm %q: name the algorithm that quantizes (DefaultQuantization)", p.BaseAlgorithm)
	}
	ps := &passed{}
	if len(bytes.TrimSpace(rest)) > 0 {
		// Lenient: the base algorithm checks its own keys.
		if err := json.Unmarshal(rest, ps); err != nil {
			return nil, nil, nil, fmt.Errorf("params: %w", err)
		}
	}
	return p, rest, ps, nil
}

// dqAlpha is DefaultQuantization's parameter (NNCF's smooth_quant_alpha)
// that, for transformers, makes it run SmoothQuant with that α first.
const dqAlpha = "smooth_quant_alpha"

// takeDQAlpha takes DefaultQuantization's smooth_quant_alpha out of the
// parameters SmoothQuant passes on (the base algorithm would smooth
// again) and, when it is at least 0, makes it SmoothQuant's α: that is
// how `pot quantize --algorithm SmoothQuant --smooth-quant-alpha 0.8`
// sets α. Given with a different alpha, it is an error. rest is returned
// unchanged when it has no smooth_quant_alpha.
func takeDQAlpha(own, rest json.RawMessage, p *Params) (json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(rest)) > 0 {
		if err := json.Unmarshal(rest, &m); err != nil {
			return nil, fmt.Errorf("params: %w", err)
		}
	}
	v, ok := m[dqAlpha]
	if !ok {
		return rest, nil
	}
	var a float64
	if err := json.Unmarshal(v, &a); err != nil {
		return nil, fmt.Errorf("params: %s: %w", dqAlpha, err)
	}
	delete(m, dqAlpha)
	out, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("params: %w", err)
	}
	if a < 0 {
		return out, nil // disabled: SmoothQuant's alpha stands
	}
	mine := map[string]json.RawMessage{}
	if err := json.Unmarshal(own, &mine); err != nil {
		return nil, fmt.Errorf("params: %w", err)
	}
	if _, given := mine["alpha"]; given && p.Alpha != a {
		return nil, fmt.Errorf("params: alpha %g and %s %g both give SmoothQuant's α; give one", p.Alpha, dqAlpha, a)
	}
	p.Alpha = a
	return out, nil
}

// Schema is the JSON Schema of SmoothQuant's own parameters. It admits
// other keys: they go to the base algorithm (Capabilities.PassesParamsTo),
// against whose schema the host checks them.
const Schema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "SmoothQuant parameters; other keys go to the base algorithm",
  "type": "object",
  "additionalProperties": true,
  "properties": {
    "alpha": {"type": "number", "minimum": 0, "maximum": 1},
    "alpha_search": {"type": "boolean"},
    "alpha_grid": {"type": "array", "minItems": 1, "items": {"type": "number", "minimum": 0, "maximum": 1}},
    "search_samples": {"type": "integer", "minimum": 1},
    "base_algorithm": {"type": "string", "minLength": 1},
    "smooth_only": {"type": "boolean"}
  }
}`

// Capabilities: the other keys go to the base algorithm
// (DefaultQuantization unless base_algorithm names another), and the
// host sets smooth_only when other algorithms follow in the chain.
func Capabilities() *potv1.AlgorithmCapabilities {
	return &potv1.AlgorithmCapabilities{PassesParamsTo: "DefaultQuantization", PassesParamsToParam: "base_algorithm",
		FollowedParam: "smooth_only"}
}
