package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// gemmSizes are shapes that the target models produce: conv layers as
// (out channels) × (spatial) × (in channels · taps), dense layers as
// (batch) × (units) × (inputs), and square sizes for reference.
var gemmSizes = []struct{ m, n, k int }{
	{16, 784, 144},
	{32, 196, 288},
	{64, 49, 576},
	{64, 256, 784},
	{128, 128, 128},
	{256, 256, 256},
	{512, 512, 512},
}

func reportGFLOPS(b *testing.B, m, n, k int) {
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkSgemm(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, sz := range gemmSizes {
		a := randSlice(r, sz.m*sz.k)
		bm := randSlice(r, sz.k*sz.n)
		c := make([]float32, sz.m*sz.n)
		name := fmt.Sprintf("%dx%dx%d", sz.m, sz.n, sz.k)
		b.Run("pot/"+name, func(b *testing.B) {
			for b.Loop() {
				if err := Sgemm(false, false, sz.m, sz.n, sz.k, 1, a, sz.k, bm, sz.n, 0, c, sz.n); err != nil {
					b.Fatal(err)
				}
			}
			reportGFLOPS(b, sz.m, sz.n, sz.k)
		})
		b.Run("purego/"+name, func(b *testing.B) {
			defer UseAssembly(UseAssembly(false))
			for b.Loop() {
				if err := Sgemm(false, false, sz.m, sz.n, sz.k, 1, a, sz.k, bm, sz.n, 0, c, sz.n); err != nil {
					b.Fatal(err)
				}
			}
			reportGFLOPS(b, sz.m, sz.n, sz.k)
		})
		b.Run("gonum/"+name, func(b *testing.B) {
			ga := blas32.General{Rows: sz.m, Cols: sz.k, Stride: sz.k, Data: a}
			gb := blas32.General{Rows: sz.k, Cols: sz.n, Stride: sz.n, Data: bm}
			gc := blas32.General{Rows: sz.m, Cols: sz.n, Stride: sz.n, Data: c}
			for b.Loop() {
				blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, ga, gb, 0, gc)
			}
			reportGFLOPS(b, sz.m, sz.n, sz.k)
		})
	}
}

// BenchmarkMulOffsets measures the pre-packed path convolutions use: B
// read in place through row offsets (here a 3×3 implicit im2col over a
// padded plane).
func BenchmarkMulOffsets(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, sz := range []struct{ m, cin, w int }{{16, 16, 28}, {32, 32, 14}, {64, 64, 7}} {
		pw := sz.w + 2
		plane := pw * pw
		k := sz.cin * 9
		offs := make([]int, 0, k)
		for c := 0; c < sz.cin; c++ {
			for ky := 0; ky < 3; ky++ {
				for kx := 0; kx < 3; kx++ {
					offs = append(offs, c*plane+ky*pw+kx)
				}
			}
		}
		n := (sz.w-1)*pw + sz.w
		in := randSlice(r, sz.cin*plane+nr)
		pa, err := PackA(sz.m, k, randSlice(r, sz.m*k), k, false, 1)
		if err != nil {
			b.Fatal(err)
		}
		c := make([]float32, sz.m*n)
		for _, wide := range []bool{false, true} {
			if wide && kernel6w == nil {
				continue
			}
			name := fmt.Sprintf("%dx%dx%d", sz.m, n, k)
			if wide {
				name += "-w32"
			}
			b.Run(name, func(b *testing.B) {
				k6, k4 := kernel6w, kernel4w
				if !wide {
					kernel6w, kernel4w = nil, nil
				}
				defer func() { kernel6w, kernel4w = k6, k4 }()
				for b.Loop() {
					if err := pa.MulOffsets(in, offs, n, c, n, Epilogue{}); err != nil {
						b.Fatal(err)
					}
				}
				reportGFLOPS(b, sz.m, sz.w*sz.w, k)
			})
		}
	}
}
