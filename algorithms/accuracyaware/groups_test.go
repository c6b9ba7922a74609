package accuracyaware

import (
	"slices"
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
)

// Reverting a layer drops the update of its weights (learned rounding)
// and of the bias made with them; a bias update of a layer whose weights
// are untouched (bias correction) stays, as do other layers' updates.
func TestRevertRestoresLearnedWeights(t *testing.T) {
	inputs := map[string][]string{
		"conv1": {"x", "w1", "b1"}, // learned weights and bias
		"conv2": {"y", "w2", "b2"}, // corrected bias only
		"gemm":  {"z", "w3", "b3"}, // learned, not reverted
	}
	upd := func(names ...string) []*potv1.Tensor {
		var out []*potv1.Tensor
		for _, n := range names {
			out = append(out, &potv1.Tensor{Name: n})
		}
		return out
	}
	names := func(p *potv1.QuantizationPlan) []string {
		var out []string
		for _, t := range p.GetTensorUpdates() {
			out = append(out, t.GetName())
		}
		return out
	}
	p := &potv1.QuantizationPlan{TensorUpdates: upd("w1", "b1", "b2", "w3", "b3")}
	for _, c := range []struct {
		name   string
		ops    []string
		inputs map[string][]string
		want   []string
	}{
		{"learned layer", []string{"conv1"}, inputs, []string{"b2", "w3", "b3"}},
		{"bias-corrected layer", []string{"conv2"}, inputs, []string{"w1", "b1", "b2", "w3", "b3"}},
		{"both", []string{"conv1", "conv2"}, inputs, []string{"b2", "w3", "b3"}},
		{"no graph", []string{"conv1"}, nil, []string{"w1", "b1", "b2", "w3", "b3"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := revert(p, group{Ops: c.ops}, c.inputs)
			if !slices.Equal(names(got), c.want) {
				t.Errorf("updates %v, want %v", names(got), c.want)
			}
			if len(p.GetTensorUpdates()) != 5 {
				t.Fatal("revert changed its input plan")
			}
		})
	}
}

// Another base algorithm's own keys pass on (the host checks them against
// its schema); AA still reads the DefaultQuantization keys among them.
func TestParamsOtherBase(t *testing.T) {
	p, base, qp, err := parse([]byte(`{"base_algorithm": "AdaRound", "iterations": 100, "preset": "mixed", "weights": {"bits": 4}}`))
	if err != nil || p.BaseAlgorithm != "AdaRound" || qp.Preset != "mixed" || !strings.Contains(string(base), `"iterations":100`) {
		t.Fatalf("parse: %+v %+v %s %v", p, qp, base, err)
	}
	for _, bad := range []string{`{"iterations": 100}`, `{"base_algorithm": "AdaRound", "preset": "fast"}`} {
		if _, _, _, err := parse([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
