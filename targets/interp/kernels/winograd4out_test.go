//go:build amd64 && !noasm && (linux || darwin)

// The kernel exists with assembly only, and its test puts the addend
// rows before pages that may not be read (mmap).

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"unsafe"
)

// guardedSlice returns n float32s that end where a page the process
// may not read begins: a read past them faults.
func guardedSlice(t testing.TB, n int) []float32 {
	t.Helper()
	pg := syscall.Getpagesize()
	size := (4*n+pg-1)/pg*pg + pg
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	t.Cleanup(func() { syscall.Munmap(b) })
	if err := syscall.Mprotect(b[size-pg:], syscall.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	if n == 0 {
		return []float32{}
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[size-pg-4*n])), n)
}

// TestWinograd4OutputMatchesGo checks the F(4×4) output kernel bit for
// bit against wg4OutputGo, over row widths around its groups of 8 tiles
// (32 columns), several channels, 1 to 4 output rows, and every
// epilogue (bias, addend, clamp), with NaN and negative products, the
// channels taken forwards and backwards (wg4OutputAsm alternates):
// nothing may be written between or past the rows, and the addend rows
// end where a page the process may not read begins.
func TestWinograd4OutputMatchesGo(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("no Winograd row kernels on this CPU or build (they need AVX2 and FMA)")
	}
	r := rand.New(rand.NewPCG(65, 66))
	nan, negNaN := math.Float32frombits(0x7fc00123), math.Float32frombits(0xffc00456)
	const chans = 3
	for _, w := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 14, 15, 16, 17, 28, 31, 32, 33, 36, 56, 63} {
		n := (w + 3) / 4
		ps := (n+7)/8*8 + 3
		ss := 36*ps + 9
		// Room for two lengths of src: wg4OutputAsm goes through the
		// channels backwards when len(src)/n is odd.
		src := randSlice(r, chans*ss+2*n)
		// NaN products, never two in a tile: one output of the first
		// tile (product 35 of channel 0: row 3, column 3), one of the
		// last (product 0 of channel 2: row 0, column 0), a whole tile
		// (product 7 of channel 1: every output).
		src[35*ps] = nan
		src[(chans-1)*ss+n-1] = nan
		src[ss+7*ps+(n-1)/2] = nan
		if n > 1 {
			// A negative NaN subtracted (product 14: m2 of column 2,
			// then of every row), in a tile of its own.
			src[14*ps+n-1] = negNaN
		}
		ys := w + 5
		span := (chans-1)*ys + w
		for rows := 1; rows <= 4; rows++ {
			for flags := 0; flags < 8; flags++ {
				t.Run(fmt.Sprintf("w=%d/rows=%d/flags=%d", w, rows, flags), func(t *testing.T) {
					var bias []float32
					if flags&1 != 0 {
						bias = randSlice(r, chans)
					}
					relu := flags&4 != 0
					var add [4][]float32
					var outs [2][4][]float32
					var y [2][4][]float32
					for k := 0; k < rows; k++ {
						if flags&2 != 0 {
							add[k] = guardedSlice(t, span)
							copy(add[k], randSlice(r, span))
						}
						for v := range outs {
							// Guards between and past the rows must
							// stay zero.
							outs[v][k] = make([]float32, span+16)
							y[v][k] = outs[v][k][:span]
						}
					}
					wg4OutputGo(src, ps, n, w, &y[1], &add, bias, relu, chans, ss, ys)
					for _, back := range []bool{false, true} {
						for k := 0; k < rows; k++ {
							clear(outs[0][k])
						}
						wg4OutputAsm(src, ps, n, w, &y[0], &add, bias, relu, chans, ss, ys, back)
						for k := 0; k < rows; k++ {
							for i := range outs[0][k] {
								g, e := outs[0][k][i], outs[1][k][i]
								if math.Float32bits(g) != math.Float32bits(e) {
									t.Fatalf("backwards %v: row %d index %d (channel %d, column %d): %v, Go twin %v", back, k, i, i/ys, i%ys, g, e)
								}
								if i%ys >= w && g != 0 {
									t.Fatalf("backwards %v: row %d index %d, between or past the rows, was written", back, k, i)
								}
							}
						}
					}
				})
			}
		}
	}
}

// BenchmarkWinograd4Output times the F(4×4) output kernel on the
// products of a chunk (laid out as Winograd.Run lays them out) of the
// ResNet shapes, with bias, addend and clamp, in ns per output (an
// output pixel of one channel). The F(2×2, 3×3) output kernel it
// replaced took 0.54, 0.84 and 1.62 ns an output at these shapes, this
// one 0.48, 0.65 and 1.25 (best of 10, AVX2 on Zen 3).
func BenchmarkWinograd4Output(b *testing.B) {
	if !hasAVX2FMA {
		b.Skip("no Winograd row kernels on this CPU or build (they need AVX2 and FMA)")
	}
	r := rand.New(rand.NewPCG(67, 68))
	for _, sh := range []struct{ w, chans int }{{28, 16}, {14, 32}, {7, 64}} {
		b.Run(fmt.Sprintf("w=%d/c=%d", sh.w, sh.chans), func(b *testing.B) {
			w, m := sh.w, sh.chans
			g, err := NewWinograd(randSlice(r, m*m*9), m, m, w, w)
			if err != nil {
				b.Fatal(err)
			}
			hw, span := w*w, (m-1)*w*w+w
			prod := randSlice(r, len(g.u)*g.outPS)
			y := make([]float32, m*hw)
			add := randSlice(r, m*hw)
			bias := randSlice(r, m)
			b.ResetTimer()
			for range b.N {
				for ty := 0; ty < g.th; ty++ {
					var ys, as [4][]float32
					for k := 0; k < 4 && 4*ty+k < w; k++ {
						base := (4*ty + k) * w
						ys[k], as[k] = y[base:base+span], add[base:base+span]
					}
					wg4OutputAsm(prod[ty%g.rows*g.tw:], g.outPS, g.tw, w, &ys, &as, bias, true, m, g.stride, hw, ty%2 == 1)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(m*hw), "ns/output")
		})
	}
}
