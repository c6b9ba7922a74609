package sdk

import (
	"math/rand/v2"
)

// Subset returns the indices of the samples to use out of n: the first
// size indices, or, with shuffle, size distinct indices in random order,
// the first size of a permutation drawn from a PCG generator seeded with
// seed (the same on every run and machine; a test pins the draw, so a Go
// release that changed math/rand/v2's permutation would be noticed).
// size <= 0 or size >= n means all n samples (shuffled when shuffle is
// set). The host and the algorithms use it alike, so a subset means the
// same samples everywhere.
func Subset(n, size int, seed int64, shuffle bool) []int64 {
	if n <= 0 {
		return []int64{}
	}
	if size <= 0 || size > n {
		size = n
	}
	idx := make([]int64, size)
	if !shuffle {
		for i := range idx {
			idx[i] = int64(i)
		}
		return idx
	}
	r := rand.New(rand.NewPCG(uint64(seed), pcgStream))
	for i, v := range r.Perm(n)[:size] {
		idx[i] = int64(v)
	}
	return idx
}

// pcgStream is the fixed second PCG seed word (the golden ratio).
const pcgStream = 0x9e3779b97f4a7c15
