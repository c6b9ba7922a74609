package metrics

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// addAll feeds batches to a fresh metric of the spec.
func addAll(t *testing.T, spec string, batches ...Batch) Metric {
	t.Helper()
	m, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if err := m.Add(b); err != nil {
			t.Fatalf("%s: Add: %v", spec, err)
		}
	}
	return m
}

// Two comparison samples: x1 = [3 4], y1 = [3 3] (Σx² 25, noise 1) and
// x2 = [1 0], y2 = [0 0] (Σx² 1, noise 1).
var (
	refPair = []float32{3, 4, 1, 0}
	outPair = []float32{3, 3, 0, 0}
)

// TestMetrics checks aggregate and per-sample values against hand
// computation, fed in one or two batches.
func TestMetrics(t *testing.T) {
	logits := []float32{
		0.1, 0.7, 0.2, // best 1
		0.5, 0.3, 0.2, // best 0
		0.2, 0.2, 0.6, // best 2
	}
	floatLogits := []float32{
		0.2, 0.6, 0.2, // best 1
		0.1, 0.8, 0.1, // best 1
		0.3, 0.3, 0.4, // best 2
	}
	six := []float32{0.6, 0.5, 0.4, 0.3, 0.2, 0.1} // label 5 ranks sixth
	tests := []struct {
		name    string
		spec    string
		batches []Batch
		value   float64
		per     []float64
	}{
		{"top1 logits", "top1", []Batch{{N: 3, Outputs: logits, Labels: []int{1, 1, 2}}},
			2.0 / 3, []float64{1, 0, 1}},
		{"top1 two batches", "top1", []Batch{
			{N: 2, Outputs: logits[:6], Labels: []int{1, 1}},
			{N: 1, Outputs: logits[6:], Labels: []int{0}}},
			1.0 / 3, []float64{1, 0, 0}},
		{"top1 indices", "top1", []Batch{{N: 2, TopK: []int{4, 2, 7, 1}, Labels: []int{4, 1}}},
			0.5, []float64{1, 0}},
		{"top5 logits", "top5", []Batch{{N: 3, Outputs: slices.Concat(six, six, six), Labels: []int{4, 5, 0}}},
			2.0 / 3, []float64{1, 0, 1}},
		{"top5 indices", "top5", []Batch{{N: 2, TopK: []int{9, 8, 7, 6, 5, 4, 1, 2, 3, 4, 5, 6}, Labels: []int{5, 6}}},
			0.5, []float64{1, 0}},
		{"accuracy alias", "accuracy@top1", []Batch{{N: 1, Outputs: []float32{0, 1}, Labels: []int{1}}},
			1, []float64{1}},
		{"agreement logits", "agreement", []Batch{{N: 3, Outputs: logits, Reference: floatLogits}},
			2.0 / 3, []float64{1, 0, 1}},
		{"agreement indices", "agreement", []Batch{{N: 2, TopK: []int{3, 1, 2, 0}, ReferenceTopK: []int{3, 0, 0, 2}}},
			0.5, []float64{1, 0}},
		{"agreement mixed", "agreement", []Batch{{N: 3, TopK: []int{1, 0, 0}, Reference: floatLogits}},
			1.0 / 3, []float64{1, 0, 0}},
		{"sqnr pooled", "sqnr", []Batch{{N: 2, Outputs: outPair, Reference: refPair}},
			10 * math.Log10(26.0/2), []float64{10 * math.Log10(25), 0}},
		{"sqnr two batches", "sqnr", []Batch{
			{N: 1, Outputs: outPair[:2], Reference: refPair[:2]},
			{N: 1, Outputs: outPair[2:], Reference: refPair[2:]}},
			10 * math.Log10(26.0/2), []float64{10 * math.Log10(25), 0}},
		{"cosine", "cosine", []Batch{{N: 2, Outputs: outPair, Reference: refPair}},
			21 / (5 * math.Sqrt(18)) / 2, []float64{21 / (5 * math.Sqrt(18)), 0}},
		{"mse", "mse", []Batch{{N: 2, Outputs: outPair, Reference: refPair}},
			0.5, []float64{0.5, 0.5}},
		{"psnr own range", "psnr", []Batch{{N: 2, Outputs: outPair, Reference: refPair}},
			// aggregate range 4 − 0; per-sample ranges 1 and 1.
			10 * math.Log10(16/0.5), []float64{10 * math.Log10(2), 10 * math.Log10(2)}},
		{"psnr range 255", "psnr:255", []Batch{{N: 2, Outputs: outPair, Reference: refPair}},
			10 * math.Log10(255*255/0.5), []float64{10 * math.Log10(255*255/0.5), 10 * math.Log10(255*255/0.5)}},
		{"empty batch", "top1", []Batch{{N: 0}}, math.NaN(), []float64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := addAll(t, tc.spec, tc.batches...)
			if got := m.Value(); !approx(got, tc.value) {
				t.Errorf("Value = %v, want %v", got, tc.value)
			}
			per := m.PerSample()
			if len(per) != len(tc.per) || m.Count() != len(tc.per) {
				t.Fatalf("PerSample = %v (Count %d), want %v", per, m.Count(), tc.per)
			}
			for i := range per {
				if !approx(per[i], tc.per[i]) {
					t.Errorf("PerSample[%d] = %v, want %v", i, per[i], tc.per[i])
				}
			}
			m.Reset()
			if m.Count() != 0 || !math.IsNaN(m.Value()) {
				t.Errorf("after Reset: Count %d Value %v", m.Count(), m.Value())
			}
		})
	}
}

// TestAddErrors checks that bad batches are refused with a clear message
// and leave the accumulator unchanged.
func TestAddErrors(t *testing.T) {
	tests := []struct {
		spec     string
		b        Batch
		fragment string
	}{
		{"top1", Batch{N: 2, Outputs: make([]float32, 4)}, "top1 needs labels"},
		{"top1", Batch{N: 2, Outputs: make([]float32, 4), Labels: []int{0}}, "1 labels for a batch of 2"},
		{"top1", Batch{N: 2, Outputs: make([]float32, 4), Labels: []int{0, -1}}, "sample 1 has no label"},
		{"top1", Batch{N: 2, Outputs: make([]float32, 4), Labels: []int{0, 2}}, "label 2 of sample 1 is not one of the 2 output classes"},
		{"top1", Batch{N: 2, Outputs: make([]float32, 5), Labels: []int{0, 1}}, "5 values, not a positive multiple of the batch size 2"},
		{"top1", Batch{N: 1, Labels: []int{0}}, "top1 needs the model outputs or top-k indices"},
		{"top5", Batch{N: 1, TopK: []int{1, 2, 3}, Labels: []int{0}}, "top5 needs 5 class indices per sample, the batch has 3"},
		{"agreement", Batch{N: 1, Outputs: []float32{1, 2}}, "agreement: the float reference outputs or top-k indices are missing"},
		{"sqnr", Batch{N: 1, Outputs: []float32{1, 2}}, "sqnr needs the model outputs and the float reference outputs"},
		{"mse", Batch{N: 1, Outputs: []float32{1, 2}, Reference: []float32{1}}, "2 output values but 1 reference values"},
	}
	for _, tc := range tests {
		m, err := New(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		err = m.Add(tc.b)
		if err == nil || !strings.Contains(err.Error(), tc.fragment) {
			t.Errorf("%s: Add error = %v, want one containing %q", tc.spec, err, tc.fragment)
		}
		if m.Count() != 0 {
			t.Errorf("%s: a refused batch added %d samples", tc.spec, m.Count())
		}
	}
}
