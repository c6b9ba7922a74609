package accuracyaware

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/potgo/pot/algorithms/quant"
)

// Params are AccuracyAwareQuantization's own parameters (POT's names and
// defaults); every other key goes to the base algorithm.
type Params struct {
	MaximalDrop             float64 `json:"maximal_drop"`
	DropType                string  `json:"drop_type"`
	MaxIterNum              int     `json:"max_iter_num"`
	RankingSubsetSize       int     `json:"ranking_subset_size"`
	MetricSubsetRatio       float64 `json:"metric_subset_ratio"`
	UsePrevIfDropIncrease   bool    `json:"use_prev_if_drop_increase"`
	BaseAlgorithm           string  `json:"base_algorithm"`
	ConvertToMixedPreset    bool    `json:"convert_to_mixed_preset"`
	TuneHyperparams         bool    `json:"tune_hyperparams"`
	AnnotationFree          bool    `json:"annotation_free"`
	AnnotationConfThreshold float64 `json:"annotation_conf_threshold"`
	Workers                 int     `json:"workers"`
	// RevertOrder is how groups are ordered for reverting: "ranking"
	// (POT's: by their effect on the ranking subset), or the naive
	// baselines "graph" (graph order) and "random" (seeded shuffle), for
	// comparing the search against them.
	RevertOrder string `json:"revert_order"`
}

// ownKeys are the parameters not passed to the base algorithm.
var ownKeys = []string{"maximal_drop", "drop_type", "max_iter_num", "ranking_subset_size", "metric_subset_ratio",
	"use_prev_if_drop_increase", "base_algorithm", "convert_to_mixed_preset", "tune_hyperparams",
	"annotation_free", "annotation_conf_threshold", "workers", "metrics", "revert_order"}

// parse splits the parameters into AA's own (with defaults) and the base
// algorithm's.
func parse(raw []byte) (*Params, json.RawMessage, *quant.Params, error) {
	p := &Params{
		MaximalDrop: 0.01, DropType: "absolute", UsePrevIfDropIncrease: true, BaseAlgorithm: "DefaultQuantization",
		MetricSubsetRatio: 0.5, AnnotationConfThreshold: 0.6, Workers: 1, RevertOrder: "ranking",
	}
	all := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &all); err != nil {
			return nil, nil, nil, fmt.Errorf("params: %w", err)
		}
	}
	own := map[string]json.RawMessage{}
	for _, k := range ownKeys {
		if v, ok := all[k]; ok {
			own[k] = v
			delete(all, k)
		}
	}
	b, _ := json.Marshal(own)
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
	base, _ := json.Marshal(all)
	qp, err := quant.ParseParams(base)
	if err != nil {
		return nil, nil, nil, err
	}
	return p, base, qp, nil
}

// Schema is the JSON Schema of the parameters: DefaultQuantization's plus
// AA's own.
var Schema = func() string {
	var s map[string]any
	if err := json.Unmarshal([]byte(quant.Schema), &s); err != nil {
		panic(err)
	}
	s["title"] = "AccuracyAwareQuantization parameters (POT names)"
	props := s["properties"].(map[string]any)
	num := func(extra map[string]any) map[string]any {
		m := map[string]any{"type": "number"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	props["maximal_drop"] = num(map[string]any{"minimum": 0})
	props["drop_type"] = map[string]any{"enum": []string{"absolute", "relative"}}
	props["max_iter_num"] = map[string]any{"type": "integer", "minimum": 0}
	props["ranking_subset_size"] = map[string]any{"type": "integer", "minimum": 0}
	props["metric_subset_ratio"] = num(map[string]any{"minimum": 0, "maximum": 1})
	props["use_prev_if_drop_increase"] = map[string]any{"type": "boolean"}
	props["base_algorithm"] = map[string]any{"type": "string"}
	props["convert_to_mixed_preset"] = map[string]any{"type": "boolean"}
	props["tune_hyperparams"] = map[string]any{"type": "boolean"}
	props["annotation_free"] = map[string]any{"type": "boolean"}
	props["annotation_conf_threshold"] = num(map[string]any{"minimum": 0, "maximum": 1})
	props["workers"] = map[string]any{"type": "integer", "minimum": 0}
	props["metrics"] = map[string]any{"type": "array"}
	props["revert_order"] = map[string]any{"enum": []string{"ranking", "graph", "random"}}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// Defaults of AA's own parameters.
const Defaults = `{"maximal_drop": 0.01, "drop_type": "absolute", "max_iter_num": 0, "ranking_subset_size": 300, "metric_subset_ratio": 0.5, "use_prev_if_drop_increase": true, "base_algorithm": "DefaultQuantization", "convert_to_mixed_preset": false, "tune_hyperparams": false, "annotation_free": false, "annotation_conf_threshold": 0.6}`
