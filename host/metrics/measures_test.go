package metrics

import (
	"math"
	"testing"
)

// nan is a float32 NaN.
var nan = float32(math.NaN())

// approx reports whether got is within 1e-12 (relative) of want, or both
// are NaN.
func approx(got, want float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= 1e-12*math.Max(1, math.Abs(want))
}

// TestArgmax checks ties, NaN and empty input.
func TestArgmax(t *testing.T) {
	tests := []struct {
		v    []float32
		want int
	}{
		{[]float32{1, 3, 3, 2}, 1},
		{[]float32{-1, -2}, 0},
		{[]float32{1, nan, 5, nan}, 1},
		{[]float32{7}, 0},
		{nil, -1},
	}
	for _, tc := range tests {
		if got := Argmax(tc.v); got != tc.want {
			t.Errorf("Argmax(%v) = %d, want %d", tc.v, got, tc.want)
		}
	}
}

// TestInTopK checks ranks, ties, NaN and labels outside the classes.
func TestInTopK(t *testing.T) {
	v := []float32{0.1, 0.5, 0.2, 0.9, 0.3} // ranking 3, 1, 4, 2, 0
	tests := []struct {
		v     []float32
		label int
		k     int
		want  bool
	}{
		{v, 3, 1, true},
		{v, 1, 1, false},
		{v, 1, 2, true},
		{v, 2, 3, false},
		{v, 2, 4, true},
		{v, 0, 4, false},
		{v, 0, 5, true},
		{[]float32{1, 1, 1}, 1, 2, true}, // ties rank by index
		{[]float32{1, 1, 1}, 2, 2, false},
		{[]float32{1, nan, 0}, 1, 3, false}, // a NaN label score never counts
		{[]float32{nan, 2, 0}, 1, 1, false}, // NaN ranks first
		{[]float32{nan, 2, 0}, 1, 2, true},
		{v, 5, 5, false},
		{v, -1, 5, false},
	}
	for _, tc := range tests {
		if got := InTopK(tc.v, tc.label, tc.k); got != tc.want {
			t.Errorf("InTopK(%v, %d, %d) = %v, want %v", tc.v, tc.label, tc.k, got, tc.want)
		}
	}
}

// TestPairMeasures checks SQNR, cosine, MSE and PSNR against values
// computed by hand.
func TestPairMeasures(t *testing.T) {
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"sqnr 25/1", SQNR([]float32{3, 4}, []float32{3, 3}), 10 * math.Log10(25)},
		{"sqnr 1/1", SQNR([]float32{1, 0}, []float32{0, 0}), 0},
		{"sqnr no noise", SQNR([]float32{1, 2}, []float32{1, 2}), MaxDB},
		{"sqnr all zero", SQNR([]float32{0, 0}, []float32{0, 0}), MaxDB},
		{"sqnr no signal", SQNR([]float32{0, 0}, []float32{1, 0}), -MaxDB},
		{"sqnr NaN", SQNR([]float32{1, 0}, []float32{nan, 0}), math.NaN()},
		{"cosine orthogonal", Cosine([]float32{1, 0}, []float32{0, 1}), 0},
		{"cosine parallel", Cosine([]float32{1, 2}, []float32{2, 4}), 1},
		{"cosine opposite", Cosine([]float32{1, 0}, []float32{-1, 0}), -1},
		{"cosine 24/25", Cosine([]float32{3, 4}, []float32{4, 3}), 0.96},
		{"cosine zeros", Cosine([]float32{0, 0}, []float32{0, 0}), 1},
		{"cosine one zero", Cosine([]float32{0, 0}, []float32{1, 0}), 0},
		{"mse", MSE([]float32{1, 2, 3}, []float32{1, 2, 5}), 4.0 / 3},
		{"mse empty", MSE(nil, nil), 0},
		{"psnr range 1", PSNR([]float32{0, 1}, []float32{0, 0.5}, 1), 10 * math.Log10(8)},
		{"psnr own range", PSNR([]float32{0, 1}, []float32{0, 0.5}, 0), 10 * math.Log10(8)},
		{"psnr range 255", PSNR([]float32{0, 1}, []float32{0, 0.5}, 255), 10 * math.Log10(255*255/0.125)},
		{"psnr exact", PSNR([]float32{0, 1}, []float32{0, 1}, 1), MaxDB},
	}
	for _, tc := range tests {
		if !approx(tc.got, tc.want) {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}
