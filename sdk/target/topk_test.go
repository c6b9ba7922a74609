package target

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// TestTopK checks topK against a stable sort of each row, on rows with
// ties and NaNs, for k on both sides of topKSelect.
func TestTopK(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name string
		data []float32
		k    int
		want []int64
	}{
		{"largest first", []float32{0.1, 0.7, 0.2}, 3, []int64{1, 2, 0}},
		{"ties keep index order", []float32{2, 5, 5, 1, 5}, 2, []int64{1, 2}},
		{"NaN ranks last", []float32{nan, -1, nan, -3}, 3, []int64{1, 3, 0}},
		{"k beyond the row", []float32{3, 4}, 5, []int64{1, 0}},
		{"negative infinity above NaN", []float32{nan, float32(math.Inf(-1))}, 1, []int64{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := topK(tt.data, 1, tt.k).I64()
			if !slices.Equal(got, tt.want) {
				t.Errorf("topK(%v, %d) = %v, want %v", tt.data, tt.k, got, tt.want)
			}
		})
	}
	r := rand.New(rand.NewPCG(3, 4))
	const samples, per = 5, 300
	data := make([]float32, samples*per)
	for i := range data {
		switch r.IntN(20) {
		case 0:
			data[i] = nan
		default:
			data[i] = float32(r.IntN(40)) // many ties
		}
	}
	for _, k := range []int{1, 2, 5, topKSelect, topKSelect + 1, per} {
		got := topK(data, samples, k)
		if !slices.Equal(got.Shape, []int{samples, k}) {
			t.Fatalf("k=%d: shape %v", k, got.Shape)
		}
		for s := 0; s < samples; s++ {
			row := data[s*per : (s+1)*per]
			idx := make([]int64, per)
			for i := range idx {
				idx[i] = int64(i)
			}
			sort.SliceStable(idx, func(a, b int) bool {
				x, y := row[idx[a]], row[idx[b]]
				return x > y || math.IsNaN(float64(y)) && !math.IsNaN(float64(x))
			})
			if g := got.I64()[s*k : (s+1)*k]; !slices.Equal(g, idx[:k]) {
				t.Errorf("k=%d sample %d: got %v, want %v", k, s, g, idx[:k])
			}
		}
	}
}

func BenchmarkTopK(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]float32, 320*320)
	for i := range data {
		data[i] = r.Float32()
	}
	for b.Loop() {
		topK(data, 1, 1)
	}
}
