package kernels

import (
	"math/rand/v2"
	"testing"
)

func BenchmarkLocalPieces(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	s := ConvShape{In: []int{28, 28}, Kernel: []int{3, 3}, Strides: []int{1, 1}, Dilations: []int{1, 1}, PadBegin: []int{1, 1}, Out: []int{28, 28}}
	l, _ := NewConvLayout(s)
	c, m := 16, 16
	src := randSlice(r, c*784)
	buf := make([]float32, l.BufferSize(c))
	offs := l.Offsets(nil, c)
	pa, _ := PackA(m, c*9, randSlice(r, m*c*9), c*9, false, 1)
	grid := make([]float32, m*l.Span)
	out := make([]float32, m*784)
	bias := randSlice(r, m)
	b.Run("fill", func(b *testing.B) {
		for b.Loop() {
			l.Fill(buf, src, c)
		}
	})
	b.Run("mul", func(b *testing.B) {
		for b.Loop() {
			pa.MulOffsets(buf, offs, l.Span, grid, l.Span, Epilogue{Bias: bias})
		}
		b.ReportMetric(2*float64(m*c*9*l.Span)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	b.Run("compact", func(b *testing.B) {
		for b.Loop() {
			l.Compact(out, grid, m, l.Span)
		}
	})
}
