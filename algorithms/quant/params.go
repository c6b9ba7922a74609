package quant

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Params are the parameters of MinMaxQuantization and DefaultQuantization,
// with POT's names (reference: POT's configs and algorithm defaults).
type Params struct {
	TargetDevice      string          `json:"target_device,omitempty"`
	Preset            string          `json:"preset,omitempty"`
	StatSubsetSize    int             `json:"stat_subset_size,omitempty"`
	StatBatchSize     int             `json:"stat_batch_size,omitempty"`
	ShuffleData       bool            `json:"shuffle_data,omitempty"`
	Seed              int64           `json:"seed,omitempty"`
	UseFastBias       *bool           `json:"use_fast_bias,omitempty"`
	Weights           *TensorParams   `json:"weights,omitempty"`
	Activations       *TensorParams   `json:"activations,omitempty"`
	RangeEstimator    *RangeEstimator `json:"range_estimator,omitempty"`
	Ignored           *Ignored        `json:"ignored,omitempty"`
	ModelType         string          `json:"model_type,omitempty"`
	SaturationFix     string          `json:"saturation_fix,omitempty"`
	InplaceStatistics *bool           `json:"inplace_statistics,omitempty"`
	Threshold         *float64        `json:"threshold,omitempty"`
	ApplyForAllNodes  bool            `json:"apply_for_all_nodes,omitempty"`
	// FastBiasReference is what FastBiasCorrection compares the quantized
	// sub-model with: "submodel" (default: the float sub-model on the same
	// constant input, only the weights quantized) or "statistics" (POT:
	// the float output mean of the data, input and weights quantized).
	FastBiasReference string `json:"fast_bias_reference,omitempty"`
	DumpIntermediate  bool   `json:"dump_intermediate_model,omitempty"`
	// SmoothQuantAlpha is NNCF's AdvancedQuantizationParameters.
	// smooth_quant_alpha: when it is at least 0 and ModelType is
	// transformer, DefaultQuantization first runs the SmoothQuant plugin
	// (smooth_only, this α). Nil or negative: disabled (the default; NNCF
	// enables it for transformers, pot does not, see docs/usage.md).
	SmoothQuantAlpha *float64 `json:"smooth_quant_alpha,omitempty"`
}

// SmoothQuantEnabled reports whether DefaultQuantization runs SmoothQuant
// before its chain: smooth_quant_alpha is at least 0 and model_type is
// transformer.
func (p *Params) SmoothQuantEnabled() bool {
	return p.SmoothQuantAlpha != nil && *p.SmoothQuantAlpha >= 0 && p.ModelType == ModelTypeTransformer
}

// TensorParams constrain the quantizers of weights or activations.
type TensorParams struct {
	Bits           int             `json:"bits,omitempty"`
	Mode           string          `json:"mode,omitempty"`
	Granularity    string          `json:"granularity,omitempty"`
	LevelLow       *int64          `json:"level_low,omitempty"`
	LevelHigh      *int64          `json:"level_high,omitempty"`
	RangeEstimator *RangeEstimator `json:"range_estimator,omitempty"`
}

// RangeEstimator selects how ranges come from statistics.
type RangeEstimator struct {
	Preset string     `json:"preset,omitempty"`
	Min    *Estimator `json:"min,omitempty"`
	Max    *Estimator `json:"max,omitempty"`
}

// Estimator is one side of a range estimator.
type Estimator struct {
	Type          string   `json:"type,omitempty"`
	Aggregator    string   `json:"aggregator,omitempty"`
	OutlierProb   *float64 `json:"outlier_prob,omitempty"`
	Granularity   string   `json:"granularity,omitempty"`
	ClippingValue *float64 `json:"clipping_value,omitempty"`
}

// Ignored is the ignored scope: nodes never quantized.
type Ignored struct {
	SkipModel  bool          `json:"skip_model,omitempty"`
	Scope      []string      `json:"scope,omitempty"`
	Patterns   []string      `json:"patterns,omitempty"`
	Operations []IgnoredType `json:"operations,omitempty"`
}

// IgnoredType ignores nodes of a type, optionally only those with some
// attribute values.
type IgnoredType struct {
	Type       string         `json:"type"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// ParseParams decodes a params object strictly: an unknown key is an
// error naming it.
func ParseParams(raw []byte) (*Params, error) {
	p := &Params{}
	if len(bytes.TrimSpace(raw)) == 0 {
		return p, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("params: %w", err)
	}
	if err := p.normalize(); err != nil {
		return nil, err
	}
	if a := p.SmoothQuantAlpha; a != nil && *a > 1 {
		return nil, fmt.Errorf("params: smooth_quant_alpha %g is above 1 (α in [0, 1]; negative disables SmoothQuant)", *a)
	}
	return p, nil
}

// ModelTypeTransformer is POT's model_type of transformers.
const ModelTypeTransformer = "transformer"

// FastBiasCorrection references.
const (
	FastBiasSubmodel   = "submodel"
	FastBiasStatistics = "statistics"
)

// Preset names and POT's aliases.
const (
	Performance = "performance"
	Mixed       = "mixed"
	Accuracy    = "accuracy"
)

// normalize applies POT's preset aliases and per-device mapping.
func (p *Params) normalize() error {
	p.Preset = strings.ToLower(p.Preset)
	switch p.Preset {
	case "", Performance, "symmetric":
		p.Preset = Performance
	case Mixed:
	case Accuracy, "asymmetric":
		p.Preset = Accuracy
	default:
		return fmt.Errorf("params: preset %q is not performance, mixed or accuracy", p.Preset)
	}
	return nil
}
