package sdk

import (
	"slices"
	"testing"
)

// TestSubset checks the first-N and the seeded shuffled subsets.
func TestSubset(t *testing.T) {
	tests := []struct {
		n, size int
		want    []int64
	}{
		{5, 3, []int64{0, 1, 2}},
		{5, 0, []int64{0, 1, 2, 3, 4}},
		{5, -1, []int64{0, 1, 2, 3, 4}},
		{5, 5, []int64{0, 1, 2, 3, 4}},
		{5, 9, []int64{0, 1, 2, 3, 4}},
		{0, 3, []int64{}},
	}
	for _, tc := range tests {
		if got := Subset(tc.n, tc.size, 0, false); !slices.Equal(got, tc.want) {
			t.Errorf("Subset(%d, %d) = %v, want %v", tc.n, tc.size, got, tc.want)
		}
	}

	a := Subset(10000, 300, 42, true)
	b := Subset(10000, 300, 42, true)
	if !slices.Equal(a, b) {
		t.Error("the same seed gives different subsets")
	}
	if len(a) != 300 {
		t.Fatalf("len = %d, want 300", len(a))
	}
	sorted := slices.Clone(a)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != 300 || sorted[0] < 0 || sorted[299] >= 10000 {
		t.Error("shuffled subset has duplicates or out-of-range indices")
	}
	if slices.Equal(a, Subset(10000, 300, 43, true)) {
		t.Error("seeds 42 and 43 give the same subset")
	}
	if slices.IsSorted(a) {
		t.Error("shuffled subset is in order")
	}
	// Pinned draws: the subsets every quantized model so far was
	// calibrated on. A change here changes users' models.
	pinned := []struct {
		n, size int
		seed    int64
		want    []int64
	}{
		{10, 4, 7, []int64{5, 8, 7, 6}},
		{1000, 5, 42, []int64{5, 63, 850, 459, 310}},
	}
	for _, p := range pinned {
		if got := Subset(p.n, p.size, p.seed, true); !slices.Equal(got, p.want) {
			t.Errorf("Subset(%d, %d, %d, true) = %v, want %v", p.n, p.size, p.seed, got, p.want)
		}
	}
	all := Subset(6, 0, 1, true)
	slices.Sort(all)
	if !slices.Equal(all, []int64{0, 1, 2, 3, 4, 5}) {
		t.Errorf("shuffled full subset = %v, want a permutation of 0..5", all)
	}
}
