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
				checkMulOffsetsWithout(t, fmt.Sprintf("%+v room=%d %+v", tc, room, ep), pa, in, offs, n, c0, ep, func() func() {
					k6, k4 := kernel6w, kernel4w
					kernel6w, kernel4w = nil, nil
					return func() { kernel6w, kernel4w = k6, k4 }
				})
			}
		}
	}
}

// TestWideKernelsCompact checks the compacting stores of the 32-column
// micro-kernels (flagCompact) on every row count and mask shape: bit for
// bit against the plain store followed by compactRow, for the assembly
// and its Go twin, without writing past the stored columns.
func TestWideKernelsCompact(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	kernels := []struct {
		name string
		h    int
		kern microKernel
	}{{"6x32go", 6, kernel6WGo}, {"4x32go", 4, kernel4WGo}}
	if hasAVX512 {
		kernels = append(kernels, struct {
			name string
			h    int
			kern microKernel
		}{"6x32", 6, kernel6AsmW}, struct {
			name string
			h    int
			kern microKernel
		}{"4x32", 4, kernel4AsmW})
	}
	masks := []uint32{0xFFFFFFFF, 0, 1, 0x80000000, 0x0FFFFFFF, 0xFFFFFFF0, 0x3FFF3FFF, 0xFFFF0000, 0x0000FFFF}
	for i := 0; i < 20; i++ {
		masks = append(masks, r.Uint32())
	}
	for _, kc := range kernels {
		for _, k := range []int{0, 1, 5, 17, 64} {
			for mr := 1; mr <= kc.h; mr++ {
				for _, flags := range []int{0, flagBias, flagReLU, flagBias | flagReLU} {
					for _, mask := range masks {
						what := fmt.Sprintf("%s k=%d mr=%d flags=%d mask=%#x", kc.name, k, mr, flags, mask)
						a := randSlice(r, max(kc.h*k, 1))
						b := randSlice(r, 40*k+nrWide+3)
						offs := make([]int, max(k, 1))
						for p := range offs[:k] {
							offs[p] = r.IntN(40*k + 3)
						}
						bias := randSlice(r, mr)
						const ldc = 37
						plain := make([]float32, kc.h*nrWide)
						kc.kern(k, a, b, offs, plain, nrWide, mr, bias, flags)
						want := randSlice(r, kc.h*ldc)
						got := append([]float32(nil), want...)
						for row := 0; row < mr; row++ {
							compactRow(want[row*ldc:], plain[row*nrWide:(row+1)*nrWide], mask)
						}
						kc.kern(k, a, b, offs, got, ldc, mr, bias, flags|flagCompact|int(uint64(mask)<<32))
						bitsEqual(t, what, got, want)
					}
				}
			}
		}
	}
}

// TestMulOffsetsCompact checks that MulOffsets with compacted rows
// stores what the plain product followed by ConvLayout.Compact does,
// for 3×3 convolutions of both strides split into column ranges as the
// threads split them, with and without the 32-column kernels and in
// assembly and Go.
func TestMulOffsetsCompact(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 28))
	for _, asm := range []bool{true, false} {
		was := UseAssembly(asm)
		for _, tc := range []struct{ m, cin, w, stride int }{{16, 16, 28, 1}, {32, 16, 28, 2}, {32, 32, 14, 1}, {64, 64, 7, 1}, {10, 3, 9, 1}, {5, 2, 33, 2}, {7, 4, 40, 1}} {
			pad := 1
			out := (tc.w+2*pad-3)/tc.stride + 1
			l, err := NewConvLayout(ConvShape{In: []int{tc.w, tc.w}, Kernel: []int{3, 3}, Strides: []int{tc.stride, tc.stride}, Dilations: []int{1, 1}, PadBegin: []int{pad, pad}, Out: []int{out, out}})
			if err != nil {
				t.Fatal(err)
			}
			offs := l.Offsets(nil, tc.cin)
			k := len(offs)
			pa, err := PackA(tc.m, k, randSlice(r, tc.m*k), k, false, 1)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]float32, l.BufferSize(tc.cin))
			l.Fill(buf, randSlice(r, tc.cin*tc.w*tc.w), tc.cin)
			bias := randSlice(r, tc.m)
			outSize := l.OutSize()
			for _, ep := range []Epilogue{{}, {Bias: bias}, {Bias: bias, ReLU: true}} {
				grid := make([]float32, tc.m*l.Span)
				if err := pa.MulOffsets(buf, offs, l.Span, grid, l.Span, ep); err != nil {
					t.Fatal(err)
				}
				want := make([]float32, tc.m*outSize)
				l.Compact(want, grid, tc.m, l.Span)
				for _, block := range []int{l.Span, 64, 32, 16} {
					got := make([]float32, tc.m*outSize)
					for q0 := 0; q0 < l.Span; q0 += block {
						q1 := min(q0+block, l.Span)
						e := ep
						e.Rows = ColumnRows{Stride: l.GridStride[0], Width: out, Col0: q0}
						if err := pa.MulOffsets(buf[q0:], offs, q1-q0, got[e.Rows.Pos(q0):], outSize, e); err != nil {
							t.Fatal(err)
						}
					}
					bitsEqual(t, fmt.Sprintf("asm=%v %+v block=%d %+v", asm, tc, block, ep), got, want)
				}
			}
		}
		UseAssembly(was)
	}
}
