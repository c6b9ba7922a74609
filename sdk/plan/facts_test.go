package plan_test

import (
	"slices"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/plan"
)

func TestNeedRescale(t *testing.T) {
	tests := []struct {
		name string
		plan *potv1.QuantizationPlan
		want []string
	}{
		{"none", &potv1.QuantizationPlan{}, nil},
		{"nil plan", nil, nil},
		{"typed", &potv1.QuantizationPlan{NeedRescale: []string{"a", "b"}}, []string{"a", "b"}},
		{"older plugin's metadata", &potv1.QuantizationPlan{Metadata: map[string]string{"need_rescale": "a,,b"}}, []string{"a", "b"}},
		{"typed wins", &potv1.QuantizationPlan{NeedRescale: []string{"c"}, Metadata: map[string]string{"need_rescale": "a"}}, []string{"c"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := plan.NeedRescale(tc.plan); !slices.Equal(got, tc.want) {
				t.Errorf("NeedRescale = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSetNeedRescaleDropsMetadata(t *testing.T) {
	p := &potv1.QuantizationPlan{Metadata: map[string]string{"need_rescale": "a", "other": "kept"}}
	plan.SetNeedRescale(p, []string{"b"})
	if got := plan.NeedRescale(p); !slices.Equal(got, []string{"b"}) {
		t.Errorf("NeedRescale = %q, want [b]", got)
	}
	if _, ok := p.Metadata["need_rescale"]; ok || p.Metadata["other"] != "kept" {
		t.Errorf("metadata = %v, want only other", p.Metadata)
	}
}
