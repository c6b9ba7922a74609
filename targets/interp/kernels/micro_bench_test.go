package kernels

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkMicroKernel measures one 6×16 tile with k=256 from L1: the
// ceiling of every other path.
func BenchmarkMicroKernel(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 9))
	const k = 256
	a := randSlice(r, 6*k)
	bb := randSlice(r, nr*k)
	offs := make([]int, k)
	for p := range offs {
		offs[p] = p * nr
	}
	c := make([]float32, 6*nr)
	for _, kc := range []struct {
		name string
		kern microKernel
		ok   bool
	}{{"go", kernel6Go, true}, {"avx2", kernel6Asm, hasAVX2FMA}, {"avx512", kernel6AsmZ, hasAVX512}} {
		if !kc.ok {
			continue
		}
		b.Run(kc.name, func(b *testing.B) {
			for b.Loop() {
				kc.kern(k, a, bb, offs, c, nr, 6, nil, 0)
			}
			reportGFLOPS(b, 6, nr, k)
		})
	}
}

func BenchmarkMicroKernelMisaligned(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 9))
	const k = 256
	a := randSlice(r, 6*k)
	bb := randSlice(r, nr*k+8)
	offs := make([]int, k)
	for p := range offs {
		offs[p] = p*nr + 3
	}
	c := make([]float32, 6*nr)
	for b.Loop() {
		kernel6(k, a, bb, offs, c, nr, 6, nil, 0)
	}
	reportGFLOPS(b, 6, nr, k)
}
