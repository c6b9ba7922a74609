package adaround

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/params"
)

// Params are AdaRound's own parameters; every other key goes to
// DefaultQuantization.
type Params struct {
	// Iterations of Adam per layer.
	Iterations int `json:"iterations"`
	// LearningRate of Adam.
	LearningRate float64 `json:"learning_rate"`
	// RegLambda is the paper's λ, the weight of the rounding regulariser.
	RegLambda float64 `json:"reg_lambda"`
	// BetaRange is the start and end of the regulariser's annealed β.
	BetaRange []float64 `json:"beta_range"`
	// WarmStart is the share of the iterations without the regulariser.
	WarmStart float64 `json:"warm_start"`
	// Samples is how many calibration samples the layers' inputs come
	// from (0: all).
	Samples int `json:"samples"`
	// MaxColumns bounds the input columns (image positions, rows) per
	// layer that the second moments are computed from (0: all).
	MaxColumns int `json:"max_columns"`
	// Input is what a layer's input is while its rounding is learned:
	// "quantized", the quantized model's (with the rounding learned for
	// the layers before), or "float". The reference output is always
	// the float model's.
	Input string `json:"input"`
	// Bias is what becomes of the layers' biases: "layer" sets each
	// refined layer's bias so that its mean output matches the float
	// model's on the same columns; "keep" leaves the plan's biases.
	Bias string `json:"bias"`
}

// defaults are AdaRound's defaults (see docs/usage.md for the
// measurements behind them).
func defaults() *Params {
	return &Params{Iterations: 1000, LearningRate: 0.01, RegLambda: 0.01, BetaRange: []float64{20, 2}, WarmStart: 0.2,
		Samples: 256, MaxColumns: 16384, Input: "quantized", Bias: "layer"}
}

// Defaults are the defaults as JSON.
var Defaults = func() string {
	b, err := json.Marshal(defaults())
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// Schema is the JSON Schema of AdaRound's own parameters. It admits other
// keys: they go to DefaultQuantization (Capabilities.PassesParamsTo),
// against whose schema the host checks them.
var Schema = func() string {
	num := func(min, max float64) map[string]any {
		m := map[string]any{"type": "number", "minimum": min}
		if max > min {
			m["maximum"] = max
		}
		return m
	}
	props := map[string]any{
		"iterations":    map[string]any{"type": "integer", "minimum": 0},
		"learning_rate": map[string]any{"type": "number", "exclusiveMinimum": 0},
		"reg_lambda":    num(0, 0),
		"beta_range": map[string]any{"type": "array", "items": map[string]any{"type": "number", "exclusiveMinimum": 0},
			"minItems": 2, "maxItems": 2},
		"warm_start":  num(0, 1),
		"samples":     map[string]any{"type": "integer", "minimum": 0},
		"max_columns": map[string]any{"type": "integer", "minimum": 0},
		"input":       map[string]any{"enum": []string{"quantized", "float"}},
		"bias":        map[string]any{"enum": []string{"layer", "keep"}},
	}
	s := map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"title":                "AdaRound parameters; other keys go to DefaultQuantization",
		"type":                 "object",
		"additionalProperties": true,
		"properties":           props,
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// Capabilities: the keys AdaRound's schema does not define are
// DefaultQuantization's, which it runs with them.
func Capabilities() *potv1.AlgorithmCapabilities {
	return &potv1.AlgorithmCapabilities{PassesParamsTo: "DefaultQuantization"}
}

// passedOn are the keys of DefaultQuantization's parameters AdaRound
// reads too (without taking them): which calibration samples to use.
type passedOn struct {
	StatSubsetSize int   `json:"stat_subset_size"`
	ShuffleData    *bool `json:"shuffle_data"`
	Seed           int64 `json:"seed"`
}

// parse splits the parameters into AdaRound's own (with defaults) and
// the rest, which go to DefaultQuantization.
func parse(raw json.RawMessage) (*Params, *passedOn, json.RawMessage, error) {
	own, rest, err := params.Split(raw, Schema)
	if err != nil {
		return nil, nil, nil, err
	}
	p := defaults()
	dec := json.NewDecoder(bytes.NewReader(own))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return nil, nil, nil, fmt.Errorf("params: %w", err)
	}
	switch {
	case p.Iterations < 0:
		return nil, nil, nil, fmt.Errorf("params: iterations %d is negative", p.Iterations)
	case !(p.LearningRate > 0):
		return nil, nil, nil, fmt.Errorf("params: learning_rate %g is not positive", p.LearningRate)
	case p.RegLambda < 0:
		return nil, nil, nil, fmt.Errorf("params: reg_lambda %g is negative", p.RegLambda)
	case len(p.BetaRange) != 2 || !(p.BetaRange[0] > 0) || !(p.BetaRange[1] > 0):
		return nil, nil, nil, fmt.Errorf("params: beta_range %v, want two positive numbers (start, end)", p.BetaRange)
	case p.WarmStart < 0 || p.WarmStart > 1:
		return nil, nil, nil, fmt.Errorf("params: warm_start %g is not in [0, 1]", p.WarmStart)
	case p.Samples < 0 || p.MaxColumns < 0:
		return nil, nil, nil, fmt.Errorf("params: samples %d, max_columns %d: want >= 0", p.Samples, p.MaxColumns)
	}
	switch p.Input {
	case "quantized", "float":
	default:
		return nil, nil, nil, fmt.Errorf("params: input %q is not quantized or float", p.Input)
	}
	switch p.Bias {
	case "layer", "keep":
	default:
		return nil, nil, nil, fmt.Errorf("params: bias %q is not layer or keep", p.Bias)
	}
	po := &passedOn{}
	if err := json.Unmarshal(rest, po); err != nil {
		return nil, nil, nil, fmt.Errorf("params: %w", err)
	}
	return p, po, rest, nil
}

func (p *Params) options() Options {
	return Options{Iterations: p.Iterations, LearningRate: p.LearningRate, Lambda: p.RegLambda,
		BetaStart: p.BetaRange[0], BetaEnd: p.BetaRange[1], WarmUp: p.WarmStart}
}
