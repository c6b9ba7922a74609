package interp

import (
	"slices"
	"testing"
)

// TestChunkEnds checks the chunks of sample-parallel runs: they cover
// the batch in order; on one thread they hold chunkSamples samples (the
// last one what is left); on more they never grow, hold at most
// chunkSamples and at least minTailChunk (or what is left), and the
// last 2·threads of them are small enough that the threads finish close
// together.
func TestChunkEnds(t *testing.T) {
	for _, tc := range []struct {
		n, workers int
		want       []int // the sizes, when given
	}{
		{64, 1, []int{8, 8, 8, 8, 8, 8, 8, 8}},
		{21, 1, []int{8, 8, 5}},
		{64, 2, []int{8, 8, 8, 8, 8, 6, 5, 4, 3, 2, 2, 2}},
		{21, 2, []int{6, 4, 3, 2, 2, 2, 2}},
		{9, 2, []int{3, 2, 2, 2}},
		{100, 2, nil},
		{64, 3, nil},
		{1000, 4, nil},
		{17, 8, nil},
	} {
		ends := chunkEnds([]int{99}, tc.n, tc.workers)
		var sizes []int
		lo := 0
		for _, hi := range ends {
			sizes = append(sizes, hi-lo)
			lo = hi
		}
		if lo != tc.n {
			t.Fatalf("n=%d workers=%d: chunks end at %d", tc.n, tc.workers, lo)
		}
		if tc.want != nil && !slices.Equal(sizes, tc.want) {
			t.Errorf("n=%d workers=%d: sizes %v, want %v", tc.n, tc.workers, sizes, tc.want)
		}
		left := tc.n
		for i, s := range sizes {
			switch {
			case s < 1 || s > chunkSamples:
				t.Errorf("n=%d workers=%d: chunk %d of %d samples", tc.n, tc.workers, i, s)
			case tc.workers == 1 && s != min(chunkSamples, left):
				t.Errorf("n=%d on one thread: chunk %d of %d samples", tc.n, i, s)
			case tc.workers > 1 && s < min(minTailChunk, left):
				t.Errorf("n=%d workers=%d: chunk %d of %d samples, %d left", tc.n, tc.workers, i, s, left)
			case tc.workers > 1 && i > 0 && s > sizes[i-1]:
				t.Errorf("n=%d workers=%d: chunk %d grows: %v", tc.n, tc.workers, i, sizes)
			}
			left -= s
		}
		if tc.workers > 1 && len(sizes) >= tc.workers {
			for _, s := range sizes[len(sizes)-tc.workers:] {
				if s > minTailChunk {
					t.Errorf("n=%d workers=%d: tail %v: the last chunks should hold %d samples", tc.n, tc.workers, sizes, minTailChunk)
					break
				}
			}
		}
	}
}
