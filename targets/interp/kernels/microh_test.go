package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestHalfKernels checks the 8-column micro-kernels on every row count,
// flag combination and remainder of k modulo 4: bit for bit against the
// first 8 columns of the AVX2 16-column kernels (whose sums they stand
// in for), writing nothing else, and the Go twins against the 16-column
// Go kernels.
func TestHalfKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for _, kc := range []struct {
		name       string
		h          int
		half, full microKernel
		ok         bool
	}{
		{"asm6x8", 6, kernel6AsmH, kernel6Asm, hasAVX2FMA}, {"asm4x8", 4, kernel4AsmH, kernel4Asm, hasAVX2FMA},
		{"go6x8", 6, kernel6HGo, kernel6Go, true}, {"go4x8", 4, kernel4HGo, kernel4Go, true},
	} {
		if !kc.ok {
			continue
		}
		for _, k := range []int{0, 1, 2, 3, 4, 5, 7, 9, 17, 64, 291} {
			for mr := 1; mr <= kc.h; mr++ {
				for flags := 0; flags < 8; flags++ {
					what := fmt.Sprintf("%s k=%d mr=%d flags=%d", kc.name, k, mr, flags)
					a := randSlice(r, max(kc.h*k, 1))
					b := randSlice(r, 40*k+nr+3)
					offs := make([]int, max(k, 1))
					for p := range offs[:k] {
						offs[p] = r.IntN(40*k + 3)
					}
					bias := randSlice(r, mr)
					ldc := 37
					c := randSlice(r, kc.h*ldc)
					want := append([]float32(nil), c...)
					got := append([]float32(nil), c...)
					kc.full(k, a, b, offs, want, ldc, mr, bias, flags)
					for i := 0; i < kc.h; i++ {
						copy(want[i*ldc+8:(i+1)*ldc], c[i*ldc+8:(i+1)*ldc]) // untouched
					}
					kc.half(k, a, b, offs, got, ldc, mr, bias, flags)
					bitsEqual(t, what, got, want)
				}
			}
		}
	}
}

// TestMulOffsetsHalfSameBits checks that MulOffsets gives the same bits
// with and without the 8-column kernels for its last columns, for every
// tail length, with and without room after B.
func TestMulOffsetsHalfSameBits(t *testing.T) {
	if kernel6h == nil {
		t.Skip("no 8-column kernels in use on this CPU")
	}
	r := rand.New(rand.NewPCG(43, 44))
	for _, tc := range []struct{ m, k int }{{16, 16}, {40, 160}, {5, 3}, {10, 33}} {
		pa, err := PackA(tc.m, tc.k, randSlice(r, tc.m*tc.k), tc.k, false, 1)
		if err != nil {
			t.Fatal(err)
		}
		for n := 1; n <= 2*nr+8; n++ {
			offs := make([]int, tc.k)
			for p := range offs {
				offs[p] = p * n // rows of a channel-major image
			}
			for _, room := range []int{0, nr} {
				in := randSlice(r, tc.k*n+room)
				bias := randSlice(r, tc.m)
				c0 := randSlice(r, tc.m*n)
				for _, ep := range []Epilogue{{}, {Bias: bias, ReLU: true}, {Accumulate: true, Bias: bias}} {
					checkMulOffsetsWithout(t, fmt.Sprintf("%+v n=%d room=%d %+v", tc, n, room, ep), pa, in, offs, n, c0, ep, func() func() {
						k6, k4 := kernel6h, kernel4h
						kernel6h, kernel4h = nil, nil
						return func() { kernel6h, kernel4h = k6, k4 }
					})
				}
			}
		}
	}
}

// BenchmarkMulOffsetsTail measures pointwise products of the example
// MobileNet's 7×7, 14×14 and 28×28 layers (49, 196 and 784 columns, one
// image of a batch) with and without the 8-column kernels for their last
// columns (the 28×28 ones have none: they show the blocks kernels).
func BenchmarkMulOffsetsTail(b *testing.B) {
	r := rand.New(rand.NewPCG(45, 46))
	for _, tc := range []struct{ m, k, n int }{{40, 160, 49}, {160, 40, 49}, {24, 96, 196}, {16, 16, 784}, {64, 16, 784}} {
		pa, err := PackA(tc.m, tc.k, randSlice(r, tc.m*tc.k), tc.k, false, 1)
		if err != nil {
			b.Fatal(err)
		}
		offs := make([]int, tc.k)
		for p := range offs {
			offs[p] = p * tc.n
		}
		in := randSlice(r, 2*tc.k*tc.n)
		c := make([]float32, tc.m*tc.n)
		for _, half := range []bool{true, false} {
			if half && kernel6h == nil {
				continue
			}
			b.Run(fmt.Sprintf("%dx%dx%d-half=%v", tc.m, tc.n, tc.k, half), func(b *testing.B) {
				k6, k4 := kernel6h, kernel4h
				if !half {
					kernel6h, kernel4h = nil, nil
				}
				defer func() { kernel6h, kernel4h = k6, k4 }()
				for b.Loop() {
					if err := pa.MulOffsets(in, offs, tc.n, c, tc.n, Epilogue{}); err != nil {
						b.Fatal(err)
					}
				}
				reportGFLOPS(b, tc.m, tc.n, tc.k)
			})
		}
	}
}

// TestBlocksKernels checks the AVX2 blocks kernels bit for bit against a
// call of the 16-column kernels per block, on every row count, flag
// combination and remainder of k modulo 4, writing nothing else; and
// their Go twins the same way against the Go kernels.
func TestBlocksKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(47, 48))
	for _, kc := range []struct {
		name   string
		h      int
		blocks blocksKernel
		one    microKernel
		ok     bool
	}{
		{"asm6", 6, kernel6AsmN, kernel6Asm, hasAVX2FMA}, {"asm4", 4, kernel4AsmN, kernel4Asm, hasAVX2FMA},
		{"go6", 6, kernel6NGo, kernel6Go, true}, {"go4", 4, kernel4NGo, kernel4Go, true},
	} {
		if !kc.ok {
			continue
		}
		for _, k := range []int{1, 2, 3, 4, 5, 9, 16, 291} {
			for _, blocks := range []int{1, 2, 5} {
				for mr := 1; mr <= kc.h; mr++ {
					for flags := 0; flags < 8; flags++ {
						what := fmt.Sprintf("%s k=%d blocks=%d mr=%d flags=%d", kc.name, k, blocks, mr, flags)
						a := randSlice(r, kc.h*k)
						b := randSlice(r, 40*k+blocks*nr+3)
						offs := make([]int, k)
						for p := range offs {
							offs[p] = r.IntN(40*k + 3)
						}
						bias := randSlice(r, mr)
						ldc := blocks*nr + 5
						c := randSlice(r, kc.h*ldc)
						want := append([]float32(nil), c...)
						got := append([]float32(nil), c...)
						for i := 0; i < blocks; i++ {
							kc.one(k, a, b[i*nr:], offs, want[i*nr:], ldc, mr, bias, flags)
						}
						kc.blocks(k, a, b, offs, got, ldc, mr, bias, flags, blocks)
						bitsEqual(t, what, got, want)
					}
				}
			}
		}
	}
}

// TestMulOffsetsBlocksSameBits checks that MulOffsets gives the same bits
// with and without the blocks kernels, with and without room after B.
func TestMulOffsetsBlocksSameBits(t *testing.T) {
	if kernel6n == nil {
		t.Skip("no blocks kernels in use on this CPU")
	}
	r := rand.New(rand.NewPCG(49, 50))
	for _, tc := range []struct{ m, k, n int }{{16, 16, 784}, {40, 160, 49}, {5, 3, 35}, {10, 33, 16}, {64, 16, 100}} {
		pa, err := PackA(tc.m, tc.k, randSlice(r, tc.m*tc.k), tc.k, false, 1)
		if err != nil {
			t.Fatal(err)
		}
		offs := make([]int, tc.k)
		for p := range offs {
			offs[p] = p * tc.n
		}
		for _, room := range []int{0, 7, nr} {
			in := randSlice(r, tc.k*tc.n+room)
			bias := randSlice(r, tc.m)
			c0 := randSlice(r, tc.m*tc.n)
			for _, ep := range []Epilogue{{}, {Bias: bias, ReLU: true}, {Accumulate: true, Bias: bias}} {
				checkMulOffsetsWithout(t, fmt.Sprintf("%+v room=%d %+v", tc, room, ep), pa, in, offs, tc.n, c0, ep, func() func() {
					k6, k4 := kernel6n, kernel4n
					kernel6n, kernel4n = nil, nil
					return func() { kernel6n, kernel4n = k6, k4 }
				})
			}
		}
	}
}
