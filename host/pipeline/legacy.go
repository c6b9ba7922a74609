package pipeline

import (
	"encoding/json"

	"github.com/potgo/pot/proto/potv1"
)

// legacySearch reads the accuracy search out of the JSON report of an
// algorithm built before RunResponse.search (it describes no
// capabilities either): AccuracyAwareQuantization reported its figures
// there. nil when the report holds no search.
func legacySearch(report string) *potv1.SearchResult {
	var r struct {
		Metric      string   `json:"metric"`
		Baseline    float64  `json:"baseline"`
		MaxDrop     float64  `json:"max_drop"`
		DefaultDrop *float64 `json:"default_drop"`
		FinalDrop   float64  `json:"final_drop"`
		Final       float64  `json:"final_metric"`
		Met         bool     `json:"met"`
		Reverted    []string `json:"reverted"`
		Iterations  []struct {
			Iteration int32    `json:"iteration"`
			Reverted  []string `json:"reverted"`
			Drop      float64  `json:"drop"`
			Metric    float64  `json:"metric"`
			Accepted  bool     `json:"accepted"`
			Reranked  bool     `json:"reranked"`
		} `json:"iterations"`
		Evaluations int64 `json:"evaluations"`
	}
	if json.Unmarshal([]byte(report), &r) != nil || r.Iterations == nil || r.DefaultDrop == nil {
		return nil
	}
	s := &potv1.SearchResult{Metric: r.Metric, Baseline: r.Baseline, MaxDrop: r.MaxDrop, DefaultDrop: *r.DefaultDrop,
		FinalDrop: r.FinalDrop, FinalMetric: r.Final, Met: r.Met, Reverted: r.Reverted, Evaluations: r.Evaluations}
	for _, it := range r.Iterations {
		s.Iterations = append(s.Iterations, &potv1.SearchIteration{Iteration: it.Iteration, Reverted: it.Reverted,
			Drop: it.Drop, Metric: it.Metric, Accepted: it.Accepted, Reranked: it.Reranked})
	}
	return s
}
