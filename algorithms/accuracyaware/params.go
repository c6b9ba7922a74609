package accuracyaware

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/potgo/pot/algorithms/quant"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/params"
)

// Params are AccuracyAwareQuantization's own parameters (POT's names and
// defaults); every other key goes to the base algorithm.
type Params struct {
	MaximalDrop           float64 `json:"maximal_drop"`
	DropType              string  `json:"drop_type"`
	MaxIterNum            int     `json:"max_iter_num"`
	RankingSubsetSize     int     `json:"ranking_subset_size"`
	MetricSubsetRatio     float64 `json:"metric_subset_ratio"`
	UsePrevIfDropIncrease bool    `json:"use_prev_if_drop_increase"`
	BaseAlgorithm         string  `json:"base_algorithm"`
	ConvertToMixedPreset  bool    `json:"convert_to_mixed_preset"`
	TuneHyperparams       bool    `json:"tune_hyperparams"`
	// TuneHyperparamsTrials caps the trials of the hyperparameter search
	// (0: the whole grid).
	TuneHyperparamsTrials   int     `json:"tune_hyperparams_trials"`
	AnnotationFree          bool    `json:"annotation_free"`
	AnnotationConfThreshold float64 `json:"annotation_conf_threshold"`
	Workers                 int     `json:"workers"`
	// RevertOrder is how groups are ordered for reverting: "ranking"
	// (POT's: by their effect on the ranking subset), or the naive
	// baselines "graph" (graph order) and "random" (seeded shuffle), for
	// comparing the search against them.
	RevertOrder string `json:"revert_order"`
}

// parse splits the parameters into AA's own (with defaults), those its
// schema defines, and the base algorithm's.
func parse(raw []byte) (*Params, json.RawMessage, *quant.Params, error) {
	p := &Params{
		MaximalDrop: 0.01, DropType: "absolute", UsePrevIfDropIncrease: true, BaseAlgorithm: "DefaultQuantization",
		MetricSubsetRatio: 0.5, AnnotationConfThreshold: 0.6, Workers: 1, RevertOrder: "ranking",
	}
	b, base, err := params.Split(raw, Schema)
	if err != nil {
		return nil, nil, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return nil, nil, nil, fmt.Errorf("params: %w", err)
	}
	switch p.DropType {
	case "absolute", "relative":
	default:
		return nil, nil, nil, fmt.Errorf("params: drop_type %q is not absolute or relative", p.DropType)
	}
	switch p.RevertOrder {
	case "ranking", "graph", "random":
	default:
		return nil, nil, nil, fmt.Errorf("params: revert_order %q is not ranking, graph or random", p.RevertOrder)
	}
	if p.MaximalDrop < 0 {
		return nil, nil, nil, fmt.Errorf("params: maximal_drop %g is negative", p.MaximalDrop)
	}
	qbase := base
	if p.BaseAlgorithm != "DefaultQuantization" {
		// Another base algorithm (AdaRound, SmoothQuant) has keys of its
		// own, which the host checked against its schema; AA reads only
		// the DefaultQuantization keys it passes on (preset,
		// use_fast_bias).
		if qbase, _, err = params.Split(base, quant.Schema); err != nil {
			return nil, nil, nil, err
		}
	}
	qp, err := quant.ParseParams(qbase)
	if err != nil {
		return nil, nil, nil, err
	}
	return p, base, qp, nil
}

// Schema is the JSON Schema of AA's own parameters. It admits other
// keys: they go to the base algorithm (Capabilities.PassesParamsTo),
// against whose schema the host checks them.
var Schema = func() string {
	num := func(extra map[string]any) map[string]any {
		m := map[string]any{"type": "number"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	props := map[string]any{
		"maximal_drop":              num(map[string]any{"minimum": 0}),
		"drop_type":                 map[string]any{"enum": []string{"absolute", "relative"}},
		"max_iter_num":              map[string]any{"type": "integer", "minimum": 0},
		"ranking_subset_size":       map[string]any{"type": "integer", "minimum": 0},
		"metric_subset_ratio":       num(map[string]any{"minimum": 0, "maximum": 1}),
		"use_prev_if_drop_increase": map[string]any{"type": "boolean"},
		"base_algorithm":            map[string]any{"type": "string"},
		"convert_to_mixed_preset":   map[string]any{"type": "boolean"},
		"tune_hyperparams": map[string]any{"type": "boolean", "description": "Before reverting layers, search the base algorithm's " +
			"hyperparameters (preset, activation range estimators, bias correction) on the ranking subset and start from the best " +
			"setting when it lowers the drop on the full set"},
		"tune_hyperparams_trials": map[string]any{"type": "integer", "minimum": 0, "description": "Most trials of the " +
			"tune_hyperparams search, in grid order (0: the whole grid, 18 trials from the performance preset, 9 otherwise)"},
		"annotation_free":           map[string]any{"type": "boolean"},
		"annotation_conf_threshold": num(map[string]any{"minimum": 0, "maximum": 1}),
		"workers":                   map[string]any{"type": "integer", "minimum": 0},
		"metrics":                   map[string]any{"type": "array"},
		"revert_order":              map[string]any{"enum": []string{"ranking", "graph", "random"}},
	}
	s := map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"title":                "AccuracyAwareQuantization parameters (POT names); other keys go to the base algorithm",
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

// Capabilities are what the host does for AA: evaluation data and a
// higher-is-better metric, checkpoints, --max-drop into maximal_drop,
// --workers into workers, the other keys checked against the base
// algorithm's schema, and the base algorithm's plugin started ahead.
func Capabilities() *potv1.AlgorithmCapabilities {
	return &potv1.AlgorithmCapabilities{Evaluates: true, Checkpoints: true, MaxDropParam: "maximal_drop", WorkersParam: "workers",
		PassesParamsTo: "DefaultQuantization", PassesParamsToParam: "base_algorithm", Runs: []string{"DefaultQuantization"}}
}

// Defaults of AA's own parameters.
const Defaults = `{"maximal_drop": 0.01, "drop_type": "absolute", "max_iter_num": 0, "ranking_subset_size": 300, "metric_subset_ratio": 0.5, "use_prev_if_drop_increase": true, "base_algorithm": "DefaultQuantization", "convert_to_mixed_preset": false, "tune_hyperparams": false, "tune_hyperparams_trials": 0, "annotation_free": false, "annotation_conf_threshold": 0.6}`
