package vpu

import (
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/plan"
	"github.com/potgo/pot/targets/fp16"
)

func asymWeights(lo, hi []float32) *potv1.Quantizer {
	return &potv1.Quantizer{Id: "w", Weights: true, Bits: 8, Levels: 256, LevelLow: -128, LevelHigh: 127,
		Mode: potv1.QuantizationMode_QUANTIZATION_MODE_ASYMMETRIC, Granularity: potv1.Granularity_GRANULARITY_PER_CHANNEL,
		InputLow: lo, InputHigh: hi, OutputLow: lo, OutputHigh: hi}
}

func TestZeroPointIssues(t *testing.T) {
	// Channel ranges [-1, 3] and [-2, 6]: steps 4/255 and 8/255, zero
	// points round(255/4) = 64 and 64 — unified. [-1, 1] has 128.
	tests := []struct {
		name   string
		q      *potv1.Quantizer
		issues int
	}{
		{"unified", asymWeights([]float32{-1, -2}, []float32{3, 6}), 0},
		{"spread", asymWeights([]float32{-1, -1}, []float32{3, 1}), 1},
		{"per-tensor", asymWeights([]float32{-1}, []float32{1}), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ZeroPointIssues(&potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{tc.q}})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.issues {
				t.Errorf("issues %v, want %d", got, tc.issues)
			}
			if tc.issues > 0 && !strings.Contains(got[0], "-64..0") {
				t.Errorf("issue %q does not give the zero point spread -64..0", got[0])
			}
		})
	}
	// The simulation keeps the plan's per-channel zero points.
	p, err := plan.ParamsOf(asymWeights([]float32{-1, -1}, []float32{3, 1}))
	if err != nil {
		t.Fatal(err)
	}
	if p.Zero[0] != 64 || p.Zero[1] != 128 {
		t.Errorf("zero points %v, want [64 128]", p.Zero)
	}
}

func TestLowerWarnsOnce(t *testing.T) {
	g := &potv1.Graph{Opsets: []*potv1.OpsetImport{{Version: 13}}}
	var calls int
	lower := Lower(fp16.Lowering{}, func(string, []string) { calls++ })
	bad := &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{asymWeights([]float32{-1, -1}, []float32{3, 1})}}
	bad.Quantizers[0].Location = &potv1.Location{Tensor: "nowhere"}
	if _, err := lower(g, bad); err == nil {
		t.Error("a plan on a missing tensor lowered without error")
	}
	if calls != 1 {
		t.Errorf("warned %d times, want 1", calls)
	}
	if _, err := lower(g, nil); err != nil || calls != 1 {
		t.Errorf("float model: %v, %d warnings", err, calls)
	}
}
