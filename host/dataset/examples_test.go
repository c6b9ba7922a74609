package dataset

import (
	"path/filepath"
	"slices"
	"testing"
)

// TestExampleDescriptors opens the shared MNIST and Fashion-MNIST
// descriptors and checks sizes, labels and a few preprocessed pixels
// against values computed by hand from the raw bytes
// (x = (byte/255 − mean) / std).
func TestExampleDescriptors(t *testing.T) {
	type pixel struct {
		sample, row, col int
		raw              float64 // the byte in the IDX file
	}
	tests := []struct {
		file       string
		n          int
		mean, std  float64
		firstLabel []int
		pixels     []pixel
		counts     []int // label histogram, nil to skip
	}{
		{
			file: "mnist-calib.json", n: 1000, mean: 0.1307, std: 0.3081,
			firstLabel: []int{3, 6, 6, 6, 0, 3, 6, 2, 5, 6},
			pixels:     []pixel{{0, 14, 9, 26}, {0, 14, 13, 252}, {0, 0, 0, 0}, {999, 14, 15, 205}},
			counts:     []int{110, 116, 96, 105, 96, 83, 111, 111, 86, 86},
		},
		{
			file: "mnist-test.json", n: 10000, mean: 0.1307, std: 0.3081,
			firstLabel: []int{7, 2, 1, 0, 4, 1, 4, 9, 5, 9},
			pixels:     []pixel{{0, 14, 17, 249}, {0, 14, 19, 62}, {0, 14, 15, 0}, {9999, 14, 7, 217}},
			counts:     []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009},
		},
		{
			file: "fmnist-calib.json", n: 1000, mean: 0.286, std: 0.353,
			firstLabel: []int{0, 2, 6, 5, 2, 2, 2, 9, 5, 5},
			pixels:     []pixel{{0, 14, 9, 225}, {0, 14, 8, 145}, {999, 14, 3, 116}},
			counts:     []int{98, 90, 110, 106, 96, 126, 96, 82, 97, 99},
		},
		{
			file: "fmnist-test.json", n: 10000, mean: 0.286, std: 0.353,
			firstLabel: []int{9, 2, 1, 1, 6, 1, 4, 6, 5, 7},
			pixels:     []pixel{{0, 14, 6, 2}, {0, 14, 13, 136}, {9999, 14, 5, 71}},
			counts:     []int{1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			ds, err := Open(filepath.Join(examples, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if ds.Len() != tc.n {
				t.Errorf("Len = %d, want %d", ds.Len(), tc.n)
			}
			if !slices.Equal(ds.SampleShape(), []int{1, 28, 28}) {
				t.Errorf("SampleShape = %v, want [1 28 28]", ds.SampleShape())
			}
			if !ds.Labelled() {
				t.Error("Labelled = false, want true")
			}
			counts := make([]int, 10)
			dst := make([]float32, 28*28)
			for i := range ds.Len() {
				l, err := ds.Read(i, dst)
				if err != nil {
					t.Fatal(err)
				}
				if l < 0 || l > 9 {
					t.Fatalf("label %d of sample %d outside 0..9", l, i)
				}
				counts[l]++
				if i < len(tc.firstLabel) && l != tc.firstLabel[i] {
					t.Errorf("label %d = %d, want %d", i, l, tc.firstLabel[i])
				}
			}
			if !slices.Equal(counts, tc.counts) {
				t.Errorf("label counts = %v, want %v", counts, tc.counts)
			}
			for _, p := range tc.pixels {
				if _, err := ds.Read(p.sample, dst); err != nil {
					t.Fatal(err)
				}
				want := (p.raw/255 - tc.mean) / tc.std
				if got := dst[p.row*28+p.col]; !near(got, want) {
					t.Errorf("sample %d pixel (%d,%d) = %v, want %v", p.sample, p.row, p.col, got, want)
				}
			}
		})
	}
}
