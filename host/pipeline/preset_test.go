package pipeline

import "testing"

func TestResolvePreset(t *testing.T) {
	cpu := []string{"performance", "mixed"}
	gna := []string{"performance", "accuracy"}
	vpu := []string{"performance", "mixed", "accuracy"}
	perf := []string{"performance"}
	tests := []struct {
		preset    string
		published []string
		want      string // "" : refused
		err       string
	}{
		{"performance", cpu, "performance", ""},
		{"mixed", cpu, "mixed", ""},
		{"accuracy", cpu, "mixed", ""}, // POT on CPU and GPU
		{"asymmetric", cpu, "mixed", ""},
		{"Symmetric", cpu, "performance", ""},
		{"MIXED", cpu, "mixed", ""},
		{"mixed", gna, "accuracy", ""}, // POT on GNA
		{"accuracy", gna, "accuracy", ""},
		{"accuracy", vpu, "accuracy", ""},
		{"mixed", vpu, "mixed", ""},
		{"performance", perf, "performance", ""},
		{"mixed", perf, "", `preset "mixed" is not published by target "t"; it publishes: performance`},
		{"accuracy", perf, "", `preset "accuracy" is not published by target "t"; it publishes: performance`},
		{"asymmetric", perf, "", `preset "asymmetric" (accuracy) is not published by target "t"; it publishes: performance`},
		{"fast", cpu, "", `preset "fast" is not published by target "t"; it publishes: performance, mixed`},
		{"Accuracy", nil, "accuracy", ""}, // a target that publishes none accepts any
	}
	for _, tc := range tests {
		got, err := ResolvePreset(tc.preset, "t", tc.published)
		switch {
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("ResolvePreset(%q, %v) = %q, %v; want error %q", tc.preset, tc.published, got, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ResolvePreset(%q, %v) = %q, %v; want %q", tc.preset, tc.published, got, err, tc.want)
		}
	}
}

func TestPresetParam(t *testing.T) {
	for params, want := range map[string]string{
		`{"preset": "mixed", "seed": 1}`: "mixed",
		`{"seed": 1}`:                    "",
		`{"preset": 3}`:                  "",
		`not json`:                       "",
	} {
		if got := Preset([]byte(params)); got != want {
			t.Errorf("Preset(%s) = %q, want %q", params, got, want)
		}
	}
}
