package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// bitsEqual fails unless got and want hold the same float32 bits.
func bitsEqual(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d = %v, want %v bit for bit", what, i, got[i], want[i])
		}
	}
}

// TestWideKernels checks the 32-column micro-kernels on every row count,
// flag combination and remainder of k modulo 4: bit for bit against two
// 16-column tiles of the 512-bit kernels (the results they replace), and
// against their Go twin within the FMA-vs-Go tolerance.
func TestWideKernels(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512 on this CPU: the 32-column kernels never run")
	}
	r := rand.New(rand.NewPCG(21, 22))
	for _, kc := range []struct {
		name       string
		h          int
		wide, half microKernel
		twin       microKernel
	}{{"6x32", 6, kernel6AsmW, kernel6AsmZ, kernel6WGo}, {"4x32", 4, kernel4AsmW, kernel4AsmZ, kernel4WGo}} {
		for _, k := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 64, 291} {
			for mr := 1; mr <= kc.h; mr++ {
				for flags := 0; flags < 8; flags++ {
					what := fmt.Sprintf("%s k=%d mr=%d flags=%d", kc.name, k, mr, flags)
					a := randSlice(r, max(kc.h*k, 1))
					b := randSlice(r, 40*k+nrWide+3)
					offs := make([]int, max(k, 1))
					for p := range offs[:k] {
						offs[p] = r.IntN(40*k + 3)
					}
					bias := randSlice(r, mr)
					ldc := 37
					c := randSlice(r, kc.h*ldc)
					halves := append([]float32(nil), c...)
					twin := append([]float32(nil), c...)
					got := append([]float32(nil), c...)
					kc.half(k, a, b, offs, halves, ldc, mr, bias, flags)
					kc.half(k, a, b[nr:], offs, halves[nr:], ldc, mr, bias, flags)
					kc.twin(k, a, b, offs, twin, ldc, mr, bias, flags)
					kc.wide(k, a, b, offs, got, ldc, mr, bias, flags)
					bitsEqual(t, what, got, halves)
					closeTo(t, what+" vs Go twin", got, twin, k)
				}
			}
		}
	}
}

// TestMulOffsetsWideSameBits checks that MulOffsets gives the same bits
// with and without the 32-column kernels, on convolution-like offsets
// (3×3 taps over padded planes) and widths that end in partial blocks
// and near the end of B.
func TestMulOffsetsWideSameBits(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512 on this CPU: the 32-column kernels never run")
	}
	r := rand.New(rand.NewPCG(23, 24))
	for _, tc := range []struct{ m, cin, w int }{{16, 1, 28}, {16, 16, 28}, {32, 16, 14}, {64, 32, 7}, {10, 3, 9}, {5, 2, 33}} {
		pw := tc.w + 2
		plane := pw * pw
		var offs []int
		for c := 0; c < tc.cin; c++ {
			for ky := 0; ky < 3; ky++ {
				for kx := 0; kx < 3; kx++ {
					offs = append(offs, c*plane+ky*pw+kx)
				}
			}
		}
		k := len(offs)
		n := (tc.w-1)*pw + tc.w
		pa, err := PackA(tc.m, k, randSlice(r, tc.m*k), k, false, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, room := range []int{0, nr, 2 * nr} {
			in := randSlice(r, tc.cin*plane+room)
			bias := randSlice(r, tc.m)
			c0 := randSlice(r, tc.m*n)
			for _, ep := range []Epilogue{{}, {Bias: bias}, {Accumulate: true, Bias: bias, ReLU: true}} {
				want := append([]float32(nil), c0...)
				got := append([]float32(nil), c0...)
				k6, k4 := kernel6w, kernel4w
				kernel6w, kernel4w = nil, nil
				err := pa.MulOffsets(in, offs, n, want, n, ep)
				kernel6w, kernel4w = k6, k4
				if err != nil {
					t.Fatal(err)
				}
				if err := pa.MulOffsets(in, offs, n, got, n, ep); err != nil {
					t.Fatal(err)
				}
				bitsEqual(t, fmt.Sprintf("%+v room=%d %+v", tc, room, ep), got, want)
			}
		}
	}
}
