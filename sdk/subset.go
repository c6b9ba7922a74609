package sdk

import (
	"math/bits"
	"math/rand/v2"
)

// Subset returns the indices of the samples to use out of n: the first
// size indices, or, with shuffle, size distinct indices in random order,
// drawn by a partial Fisher–Yates shuffle driven by a PCG generator seeded
// with seed. The draw depends only on the PCG output stream (which
// math/rand/v2 specifies exactly), so it is the same on every run, machine
// and Go release. size <= 0 or size >= n means all n samples (shuffled when
// shuffle is set). The host and the algorithms use it alike, so a subset
// means the same samples everywhere.
func Subset(n, size int, seed int64, shuffle bool) []int64 {
	if n <= 0 {
		return []int64{}
	}
	if size <= 0 || size > n {
		size = n
	}
	idx := make([]int64, n)
	for i := range idx {
		idx[i] = int64(i)
	}
	if !shuffle {
		return idx[:size:size]
	}
	r := rand.NewPCG(uint64(seed), pcgStream)
	for i := range size {
		j := i + int(bounded(r, uint64(n-i)))
		idx[i], idx[j] = idx[j], idx[i]
	}
	return idx[:size:size]
}

// pcgStream is the fixed second PCG seed word (the golden ratio).
const pcgStream = 0x9e3779b97f4a7c15

// bounded returns a uniform value in [0, m) from r (Lemire's multiply and
// reject method).
func bounded(r *rand.PCG, m uint64) uint64 {
	hi, lo := bits.Mul64(r.Uint64(), m)
	if lo < m {
		thresh := -m % m
		for lo < thresh {
			hi, lo = bits.Mul64(r.Uint64(), m)
		}
	}
	return hi
}
