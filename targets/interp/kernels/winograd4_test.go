package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestWinograd4InputMatchesGo checks the F(4×4) input kernel bit for bit
// against its Go twin, over row widths around its groups of 8 tiles
// (one group, several, a last one partly past n, groups with columns
// outside [0, w) on either side and groups without) and the short rows
// that it packs 2 or 4 channels to a vector for, rows of more tiles
// than their width needs, numbers of channels that leave 0 to 3 of them
// over from that (rows a stride apart, and a zero row shared by all),
// with random values around the rows, which the kernel reads and must
// mask, and with values and channels packed closer than the kernel
// stores (which go to the Go twin).
func TestWinograd4InputMatchesGo(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("no Winograd row kernels on this CPU or build (they need AVX2 and FMA)")
	}
	type shape struct{ w, n int }
	var shapes []shape
	for _, w := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 14, 15, 16, 17, 28, 31, 32, 33, 36, 56, 63, 64, 65, 100, 112} {
		shapes = append(shapes, shape{w, (w + 3) / 4})
	}
	shapes = append(shapes, shape{2, 2}, shape{3, 4}, shape{5, 9}, shape{20, 17})
	r := rand.New(rand.NewPCG(65, 66))
	for _, s := range shapes {
		for _, chans := range []int{1, 2, 3, 4, 7} {
			for _, tight := range []bool{false, true} {
				w, n := s.w, s.n
				ps := (n+7)/8*8 + 3
				ds := 36*ps + 5
				if tight {
					ds, ps = n, chans*n
				}
				// Rows between random values: channel i's row k at
				// around[k*chans*stride + i*stride + 1:], the last one
				// a zero row for every channel.
				stride := wg4Reach(n) + 2
				around := randSlice(r, 6*chans*stride)
				var rows [6][]float32
				cs := [6]int{stride, stride, stride, stride, stride, 0}
				for k := range rows {
					rows[k] = around[k*chans*stride+1 : (k+1)*chans*stride]
				}
				clear(rows[5][:w])
				size := (chans-1)*ds + 35*ps + (n+7)/8*8
				got := randSlice(r, size)
				want := make([]float32, size)
				wg4InputAsm(&rows, &cs, chans, w, n, got, ds, ps)
				wg4InputGo(&rows, &cs, chans, w, n, want, ds, ps)
				for i := 0; i < chans; i++ {
					for p := 0; p < 36; p++ {
						for tile := 0; tile < n; tile++ {
							at := i*ds + p*ps + tile
							if g, e := got[at], want[at]; math.Float32bits(g) != math.Float32bits(e) {
								t.Fatalf("w=%d, n=%d, %d channels (tight %v): channel %d value %d of tile %d is %v, Go twin %v", w, n, chans, tight, i, p, tile, g, e)
							}
						}
					}
				}
			}
		}
	}
}

// BenchmarkWinograd4Input times the F(4×4) input kernel on a row of
// tiles of the ResNet shapes (w columns, chans channels): ns/tile is per
// tile and channel, ns/output per output pixel and channel (a row of
// tiles makes 4 rows of w outputs; the tiles' columns past w are not
// counted). The F(2×2, 3×3) input kernel it replaced took 0.53, 0.53 and
// 1.15 ns an output at these shapes, this one 0.41, 0.52 and 0.81 (best
// of about 10 runs, AVX2 on Zen 3).
func BenchmarkWinograd4Input(b *testing.B) {
	if !hasAVX2FMA {
		b.Skip("no Winograd row kernels on this CPU or build (they need AVX2 and FMA)")
	}
	r := rand.New(rand.NewPCG(67, 68))
	for _, s := range []struct{ w, chans int }{{28, 16}, {14, 32}, {7, 64}} {
		hw := s.w * s.w
		// The channels' planes of an image, with room around them for
		// the kernel's reads.
		x := randSlice(r, s.chans*hw+64)
		n := (s.w + 3) / 4
		ps := s.chans*((n+7)/8*8) + 16
		dst := make([]float32, 36*ps)
		b.Run(fmt.Sprintf("w=%d/chans=%d", s.w, s.chans), func(b *testing.B) {
			var rows [6][]float32
			var cs [6]int
			for k := range rows {
				rows[k], cs[k] = x[1+k*s.w:], hw
			}
			for b.Loop() {
				wg4InputAsm(&rows, &cs, s.chans, s.w, n, dst, (n+7)/8*8, ps)
			}
			per := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(s.chans)
			b.ReportMetric(per/float64(n), "ns/tile")
			b.ReportMetric(per/float64(s.w*4), "ns/output")
		})
	}
}
