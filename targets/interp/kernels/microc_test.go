package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestColsKernels checks the column kernels and colsStore bit for bit
// against the 8-column kernels' first columns (the asm ones against
// kernel6x8 and kernel4x8, the Go twins against kernelHalfGo), on every
// row count, column count up to 4, bias and clamp flag and remainder of
// k, writing nothing else.
func TestColsKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(57, 58))
	for _, kc := range []struct {
		name string
		h    int
		cols colsKernel
		half microKernel
		ok   bool
	}{
		{"asm6", 6, kernel6AsmC, kernel6AsmH, hasAVX2FMA}, {"asm4", 4, kernel4AsmC, kernel4AsmH, hasAVX2FMA},
		{"go6", 6, kernel6CGo, kernel6HGo, true}, {"go4", 4, kernel4CGo, kernel4HGo, true},
	} {
		if !kc.ok {
			continue
		}
		for _, k := range []int{1, 2, 3, 4, 5, 9, 16, 160, 291} {
			for mr := 1; mr <= kc.h; mr++ {
				for _, flags := range []int{0, flagBias, flagReLU, flagBias | flagReLU} {
					for cols := 1; cols <= 4; cols++ {
						what := fmt.Sprintf("%s k=%d mr=%d flags=%d cols=%d", kc.name, k, mr, flags, cols)
						a := randSlice(r, kc.h*k)
						b := randSlice(r, 40*k+nr+3)
						offs := make([]int, k)
						for p := range offs {
							offs[p] = r.IntN(40*k + 3)
						}
						bias := randSlice(r, mr)
						ldc := 37
						c := randSlice(r, kc.h*ldc)
						want := append([]float32(nil), c...)
						got := append([]float32(nil), c...)
						kc.half(k, a, b, offs, want, ldc, mr, bias, flags)
						for i := 0; i < kc.h; i++ {
							copy(want[i*ldc+cols:(i+1)*ldc], c[i*ldc+cols:(i+1)*ldc]) // untouched
						}
						var out [4 * 8]float32
						kc.cols(k, a, b, offs, &out)
						colsStore(out[:], got, ldc, mr, cols, bias, flags)
						bitsEqual(t, what, got, want)
					}
				}
			}
		}
	}
}

// TestMulOffsetsColsSameBits checks that MulOffsets gives the same bits
// with and without the column kernels for its last columns, for every
// tail length, with and without room after B.
func TestMulOffsetsColsSameBits(t *testing.T) {
	if kernel6c == nil {
		t.Skip("no column kernels in use on this CPU")
	}
	r := rand.New(rand.NewPCG(59, 60))
	for _, tc := range []struct{ m, k int }{{16, 16}, {40, 160}, {5, 3}, {10, 33}, {96, 24}} {
		pa, err := PackA(tc.m, tc.k, randSlice(r, tc.m*tc.k), tc.k, false, 1)
		if err != nil {
			t.Fatal(err)
		}
		for n := 1; n <= 2*nr+8; n++ {
			offs := make([]int, tc.k)
			for p := range offs {
				offs[p] = p * n // rows of a channel-major image
			}
			for _, room := range []int{0, 3, nr} {
				in := randSlice(r, tc.k*n+room)
				bias := randSlice(r, tc.m)
				c0 := randSlice(r, tc.m*n)
				for _, ep := range []Epilogue{{}, {Bias: bias, ReLU: true}, {Bias: bias}, {Accumulate: true, Bias: bias}} {
					checkMulOffsetsWithout(t, fmt.Sprintf("%+v n=%d room=%d %+v", tc, n, room, ep), pa, in, offs, n, c0, ep, func() func() {
						k6, k4 := kernel6c, kernel4c
						kernel6c, kernel4c = nil, nil
						return func() { kernel6c, kernel4c = k6, k4 }
					})
				}
			}
		}
	}
}

// checkMulOffsetsWithout checks MulOffsets from c0 with the kernels in
// use against the same product with the kernels that off switches off
// (it returns what switches them back on), bit for bit.
func checkMulOffsetsWithout(t *testing.T, what string, pa *PackedA, in []float32, offs []int, n int, c0 []float32, ep Epilogue, off func() (restore func())) {
	t.Helper()
	want, got := slices.Clone(c0), slices.Clone(c0)
	restore := off()
	err := pa.MulOffsets(in, offs, n, want, n, ep)
	restore()
	if err != nil {
		t.Fatal(err)
	}
	if err := pa.MulOffsets(in, offs, n, got, n, ep); err != nil {
		t.Fatal(err)
	}
	bitsEqual(t, what, got, want)
}

// BenchmarkMulOffsetsCols measures pointwise products of the example
// MobileNet's 7×7 and 14×14 layers (49 and 196 columns: 1 and 4 left
// after the 16-column blocks) with and without the column kernels.
func BenchmarkMulOffsetsCols(b *testing.B) {
	r := rand.New(rand.NewPCG(61, 62))
	for _, tc := range []struct{ m, k, n int }{{40, 160, 49}, {160, 40, 49}, {96, 24, 49}, {24, 96, 196}, {64, 16, 196}} {
		pa, err := PackA(tc.m, tc.k, randSlice(r, tc.m*tc.k), tc.k, false, 1)
		if err != nil {
			b.Fatal(err)
		}
		offs := make([]int, tc.k)
		for p := range offs {
			offs[p] = p * tc.n
		}
		in := randSlice(r, 2*tc.k*tc.n)
		bias := randSlice(r, tc.m)
		c := make([]float32, tc.m*tc.n)
		for _, cols := range []bool{true, false} {
			if cols && kernel6c == nil {
				continue
			}
			b.Run(fmt.Sprintf("%dx%dx%d-cols=%v", tc.m, tc.n, tc.k, cols), func(b *testing.B) {
				k6, k4 := kernel6c, kernel4c
				if !cols {
					kernel6c, kernel4c = nil, nil
				}
				defer func() { kernel6c, kernel4c = k6, k4 }()
				for b.Loop() {
					if err := pa.MulOffsets(in, offs, tc.n, c, tc.n, Epilogue{Bias: bias, ReLU: true}); err != nil {
						b.Fatal(err)
					}
				}
				reportGFLOPS(b, tc.m, tc.n, tc.k)
			})
		}
	}
}

// TestPanelsKernel checks the four-panel kernel against the column
// kernel on each panel (the asm one against kernel6x4C, the Go twin
// against kernelColsGo), bit for bit.
func TestPanelsKernel(t *testing.T) {
	r := rand.New(rand.NewPCG(63, 64))
	for _, kc := range []struct {
		name   string
		panels panelsKernel
		cols   colsKernel
		ok     bool
	}{{"asm", kernel6AsmP4, kernel6AsmC, hasAVX2FMA}, {"go", kernel6P4Go, kernel6CGo, true}} {
		if !kc.ok {
			continue
		}
		for _, k := range []int{1, 2, 3, 5, 16, 160, 291} {
			a := randSlice(r, 4*6*k)
			b := randSlice(r, 40*k+nr+3)
			offs := make([]int, k)
			for p := range offs {
				offs[p] = r.IntN(40*k + 3)
			}
			var got, want [4 * 8]float32
			kc.panels(k, a, b, offs, &got)
			for i := 0; i < 4; i++ {
				var o [4 * 8]float32
				kc.cols(k, a[6*k*i:6*k*(i+1)], b, offs, &o)
				copy(want[8*i:8*i+6], o[:6])
				copy(want[8*i+6:8*i+8], got[8*i+6:8*i+8]) // not results
			}
			bitsEqual(t, fmt.Sprintf("%s k=%d", kc.name, k), got[:], want[:])
		}
	}
}
