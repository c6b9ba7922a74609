package pipeline

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
)

// TestLegacySearch reads the report of an AccuracyAwareQuantization built
// before RunResponse.search, as pot 1's --json did.
func TestLegacySearch(t *testing.T) {
	tests := []struct {
		name, report string
		want         *potv1.SearchResult
	}{
		{"search with iterations", `{"metric":"top1","baseline":0.988,"max_drop":0,"default_drop":0.0001,"final_drop":0,"final_metric":0.988,` +
			`"met":true,"reverted":["/f1/Gemm"],"reverted_groups":[["/f1/Gemm"]],"iterations":[{"iteration":1,"reverted":["/f1/Gemm"],` +
			`"drop":0,"metric":0.988,"accepted":true,"reranked":false}],"evaluations":8}`,
			&potv1.SearchResult{Metric: "top1", Baseline: 0.988, DefaultDrop: 0.0001, FinalMetric: 0.988, Met: true, Reverted: []string{"/f1/Gemm"},
				Iterations: []*potv1.SearchIteration{{Iteration: 1, Reverted: []string{"/f1/Gemm"}, Metric: 0.988, Accepted: true}}, Evaluations: 8}},
		{"budget met at once", `{"max_drop":0.005,"default_drop":0.0001,"met":true,"reverted":[],"iterations":[]}`,
			&potv1.SearchResult{MaxDrop: 0.005, DefaultDrop: 0.0001, Met: true, Reverted: []string{}}},
		{"another algorithm's report", `{"steps":["MinMaxQuantization"],"reports":{}}`, nil},
		{"iterations without drops", `{"iterations":[]}`, nil},
		{"not an object", `[1]`, nil},
		{"empty", ``, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := legacySearch(tc.report); !proto.Equal(got, tc.want) {
				t.Errorf("legacySearch = %v, want %v", got, tc.want)
			}
		})
	}
}
