package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestDirectConv checks DirectConv bit for bit against MulOffsets over
// ConvLayout's padded buffer followed by Compact, for several kernels,
// paddings and dilations, column ranges split as the threads split
// them, with the masked assembly kernels and with their Go twins.
func TestDirectConv(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 30))
	type shape struct{ m, cin, h, w, kh, kw, dil, padY, padX int }
	shapes := []shape{
		{16, 16, 28, 28, 3, 3, 1, 1, 1}, {32, 32, 14, 14, 3, 3, 1, 1, 1}, {64, 64, 7, 7, 3, 3, 1, 1, 1},
		{5, 3, 9, 11, 3, 3, 1, 1, 1}, {10, 2, 6, 40, 5, 5, 1, 2, 2}, {7, 4, 8, 9, 3, 3, 2, 2, 2},
		{16, 1, 28, 28, 3, 3, 1, 1, 1}, {6, 3, 5, 33, 1, 3, 1, 0, 1}, {4, 2, 4, 4, 3, 3, 1, 0, 1},
	}
	masked := []struct {
		name   string
		k6, k4 maskedKernel
		ok     bool
	}{{"asm", kernel6AsmM, kernel4AsmM, hasAVX512}, {"go", kernel6MGo, kernel4MGo, true}}
	for _, mk := range masked {
		if !mk.ok {
			continue
		}
		// The Go twins against the Go kernels (the same reduction order),
		// the assembly against the assembly.
		was := UseAssembly(mk.name == "asm")
		k6, k4 := kernel6m, kernel4m
		kernel6m, kernel4m = mk.k6, mk.k4
		for _, sh := range shapes {
			outH := sh.h + 2*sh.padY - (sh.kh-1)*sh.dil
			s := ConvShape{In: []int{sh.h, sh.w}, Kernel: []int{sh.kh, sh.kw}, Strides: []int{1, 1}, Dilations: []int{sh.dil, sh.dil}, PadBegin: []int{sh.padY, sh.padX}, Out: []int{outH, sh.w}}
			d := NewDirectConv(s, sh.cin)
			if d == nil {
				t.Fatalf("%+v: no direct plan", sh)
			}
			l, err := NewConvLayout(s)
			if err != nil {
				t.Fatal(err)
			}
			offs := l.Offsets(nil, sh.cin)
			k := len(offs)
			pa, err := PackA(sh.m, k, randSlice(r, sh.m*k), k, false, 1)
			if err != nil {
				t.Fatal(err)
			}
			img := randSlice(r, sh.cin*sh.h*sh.w)
			buf := make([]float32, l.BufferSize(sh.cin))
			l.Fill(buf, img, sh.cin)
			bias := randSlice(r, sh.m)
			n := l.OutSize()
			for _, ep := range []Epilogue{{}, {Bias: bias}, {Bias: bias, ReLU: true}} {
				grid := make([]float32, sh.m*l.Span)
				if err := pa.MulOffsets(buf, offs, l.Span, grid, l.Span, ep); err != nil {
					t.Fatal(err)
				}
				want := make([]float32, sh.m*n)
				l.Compact(want, grid, sh.m, l.Span)
				for _, block := range []int{n, 64, 32} {
					got := randSlice(r, sh.m*n)
					for q0 := 0; q0 < n; q0 += block {
						q1 := min(q0+block, n)
						if err := d.Mul(pa, img, q0, q1, got[q0:], n, ep); err != nil {
							t.Fatal(err)
						}
					}
					bitsEqual(t, fmt.Sprintf("%s %+v block=%d %+v", mk.name, sh, block, ep), got, want)
				}
			}
		}
		kernel6m, kernel4m = k6, k4
		UseAssembly(was)
	}
}

// BenchmarkDirectConv measures DirectConv.Mul on the 3×3 convolutions
// of BenchmarkMulOffsets (useful GFLOP/s: the same count).
func BenchmarkDirectConv(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, sz := range []struct{ m, cin, w int }{{16, 16, 28}, {32, 32, 14}, {64, 64, 7}} {
		s := ConvShape{In: []int{sz.w, sz.w}, Kernel: []int{3, 3}, Strides: []int{1, 1}, Dilations: []int{1, 1}, PadBegin: []int{1, 1}, Out: []int{sz.w, sz.w}}
		d := NewDirectConv(s, sz.cin)
		if d == nil {
			b.Skip("no masked kernels")
		}
		k := sz.cin * 9
		pa, err := PackA(sz.m, k, randSlice(r, sz.m*k), k, false, 1)
		if err != nil {
			b.Fatal(err)
		}
		img := randSlice(r, sz.cin*sz.w*sz.w)
		c := make([]float32, sz.m*d.N)
		b.Run(fmt.Sprintf("%dx%dx%d", sz.m, d.N, k), func(b *testing.B) {
			for b.Loop() {
				if err := d.Mul(pa, img, 0, d.N, c, d.N, Epilogue{}); err != nil {
					b.Fatal(err)
				}
			}
			reportGFLOPS(b, sz.m, sz.w*sz.w, k)
		})
	}
}
