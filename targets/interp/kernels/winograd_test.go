package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// useWinogradAsm switches the row transforms between assembly and the Go
// twins for the rest of the test. The AVX2 kernels run wherever the CPU
// has AVX2 and FMA, so they are tested on AVX-512 CPUs too, which do not
// use Winograd (WinogradAvailable).
func useWinogradAsm(t *testing.T, on bool) {
	t.Helper()
	was, was4 := wgAsm, wg4Asm
	wgAsm = on && hasAVX2FMA
	wg4Asm = on && wg4Kernels
	t.Cleanup(func() { wgAsm, wg4Asm = was, was4 })
}

// TestWinogradTransformsMatchGo checks the AVX2 row transforms bit for
// bit against their Go twins, over row widths around the kernels'
// groups of 8 tiles, several channels (rows a stride apart, and a zero
// row shared by all), values around the rows that the input kernel
// reads and must mask, and every epilogue (one or two output rows,
// bias, addend, clamp), writing nothing between the output rows, and
// with addend rows that end where their memory does.
func TestWinogradTransformsMatchGo(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("no Winograd row kernels on this CPU or build (they need AVX2 and FMA)")
	}
	r := rand.New(rand.NewPCG(61, 62))
	const chans = 3
	for _, w := range []int{1, 2, 3, 7, 8, 14, 15, 16, 17, 28, 31, 33, 56} {
		n := (w + 1) / 2
		ps := (n+7)/8*8 + 3
		ds := 16*ps + 5
		// Rows between random values: channel i's row k at
		// around[k*chans*stride + i*stride + 1:], the last one a zero
		// row for every channel.
		stride := wgReach(n) + 2
		around := randSlice(r, 4*chans*stride)
		var rows [4][]float32
		cs := [4]int{stride, stride, stride, 0}
		for k := range rows {
			rows[k] = around[k*chans*stride+1 : (k+1)*chans*stride]
		}
		clear(rows[3][:w])
		got := make([]float32, chans*ds)
		want := make([]float32, chans*ds)
		wgInputAsm(&rows, &cs, chans, w, n, got, ds, ps)
		wgInputGo(&rows, &cs, chans, w, n, want, ds, ps)
		for i := 0; i < chans; i++ {
			for p := 0; p < 16; p++ {
				for tile := 0; tile < n; tile++ {
					at := i*ds + p*ps + tile
					if g, e := got[at], want[at]; math.Float32bits(g) != math.Float32bits(e) {
						t.Fatalf("input w=%d: channel %d value %d of tile %d is %v, Go twin %v", w, i, p, tile, g, e)
					}
				}
			}
		}
		ss := chans*16*ps + 9
		src := randSlice(r, chans*ss)
		ys := w + 5
		for flags := 0; flags < 16; flags++ {
			t.Run(fmt.Sprintf("output/w=%d/flags=%d", w, flags), func(t *testing.T) {
				span := (chans-1)*ys + w
				var bias, a0, a1 []float32
				if flags&8 != 0 {
					bias = randSlice(r, chans)
				}
				if flags&2 != 0 {
					// Cut to size: reads past them would leave them.
					a0 = randSlice(r, span)
					a1 = randSlice(r, span)
				}
				var outs [2][2][]float32
				for v := range outs {
					// Guards between and past the rows must stay zero.
					outs[v][0] = make([]float32, span+16)
					if flags&1 != 0 {
						outs[v][1] = make([]float32, span+16)
					}
				}
				relu := flags&4 != 0
				wgOutputAsm(src, ps, n, w, outs[0][0][:span], rowAt(outs[0][1], 0, span), bias, a0, rowAt(a1, 0, span), relu, chans, ss, ys)
				wgOutputGo(src, ps, n, w, outs[1][0][:span], rowAt(outs[1][1], 0, span), bias, a0, rowAt(a1, 0, span), relu, chans, ss, ys)
				for row := 0; row < 2; row++ {
					for i := range outs[0][row] {
						g, e := outs[0][row][i], outs[1][row][i]
						if math.Float32bits(g) != math.Float32bits(e) {
							t.Fatalf("row %d index %d: %v, Go twin %v", row, i, g, e)
						}
						if i%ys >= w && g != 0 {
							t.Fatalf("row %d index %d, between or past the rows, was written", row, i)
						}
					}
				}
			})
		}
	}
}

// convRef computes a same 3×3 convolution in float64, and the sums of
// the magnitudes of its terms (the scale of a float32 rounding error).
func convRef(x, wt, bias, add []float32, n, c, m, h, w int, relu bool) (y, mag []float64) {
	y = make([]float64, n*m*h*w)
	mag = make([]float64, len(y))
	for im := 0; im < n; im++ {
		for o := 0; o < m; o++ {
			for yy := 0; yy < h; yy++ {
				for xx := 0; xx < w; xx++ {
					var s, a float64
					if bias != nil {
						s, a = float64(bias[o]), math.Abs(float64(bias[o]))
					}
					for i := 0; i < c; i++ {
						for ky := 0; ky < 3; ky++ {
							for kx := 0; kx < 3; kx++ {
								iy, ix := yy+ky-1, xx+kx-1
								if iy < 0 || iy >= h || ix < 0 || ix >= w {
									continue
								}
								v := float64(x[((im*c+i)*h+iy)*w+ix]) * float64(wt[((o*c+i)*3+ky)*3+kx])
								s += v
								a += math.Abs(v)
							}
						}
					}
					k := ((im*m+o)*h+yy)*w + xx
					if add != nil {
						s += float64(add[k])
						a += math.Abs(float64(add[k]))
					}
					if relu && s < 0 {
						s = 0
					}
					y[k], mag[k] = s, a
				}
			}
		}
	}
	return y, mag
}

// TestWinogradMatchesReference checks whole convolutions against a
// float64 reference within a few float32 roundings of the magnitude of
// their terms: odd and even images (the last row or column of tiles
// half outside), one image or several split into chunks that straddle
// images, chunks run in several calls, with and without bias, addend
// and clamp, with the AVX2 transforms and with the Go twins.
func TestWinogradMatchesReference(t *testing.T) {
	kernels := []struct {
		name string
		tile int
		asm  bool
	}{{"f2/go", 2, false}, {"f2/avx2", 2, true}, {"f4/go", 4, false}, {"f4/avx2", 4, true}}
	type shape struct{ n, c, m, h, w int }
	shapes := []shape{
		{1, 16, 16, 28, 28}, {3, 32, 32, 14, 14}, {5, 64, 64, 7, 7}, {2, 3, 5, 1, 1},
		{2, 8, 7, 2, 3}, {1, 17, 9, 9, 17}, {4, 16, 24, 5, 6}, {1, 1, 1, 33, 31},
	}
	r := rand.New(rand.NewPCG(63, 64))
	for _, k := range kernels {
		if k.asm && (!hasAVX2FMA || k.tile == 4 && !wg4Kernels) {
			continue
		}
		useWinogradAsm(t, k.asm)
		for _, s := range shapes {
			for variant := 0; variant < 4; variant++ {
				name := fmt.Sprintf("%s/%dx%dx%dx%d-%d/%d", k.name, s.n, s.c, s.h, s.w, s.m, variant)
				t.Run(name, func(t *testing.T) {
					x := randSlice(r, s.n*s.c*s.h*s.w)
					wt := randSlice(r, s.m*s.c*9)
					var bias, add []float32
					relu := variant&1 != 0
					if variant >= 2 {
						bias = randSlice(r, s.m)
						add = randSlice(r, s.n*s.m*s.h*s.w)
					}
					g, err := NewWinograd(wt, s.m, s.c, s.h, s.w, k.tile)
					if err != nil {
						t.Fatal(err)
					}
					y := make([]float32, s.n*s.m*s.h*s.w+3)
					buf := make([]float32, g.ScratchSize())
					ep := Epilogue{Bias: bias, Add: add, ReLU: relu}
					// Chunks one at a time, then the rest in one call.
					chunks := g.Chunks(s.n)
					for k0 := 0; k0 < chunks; k0++ {
						k1 := k0 + 1
						if k0 >= 1 {
							k1 = chunks
						}
						if err := g.Run(x, s.n, k0, k1, y, ep, buf); err != nil {
							t.Fatal(err)
						}
						k0 = k1 - 1
					}
					want, mag := convRef(x, wt, bias, add, s.n, s.c, s.m, s.h, s.w, relu)
					// F(4×4)'s transforms scale values by up to 5 and 8
					// (F(2×2)'s by 1): its rounding errors are larger.
					const eps = 1.0 / (1 << 23)
					tol := 8 * eps
					if k.tile == 4 {
						tol = 64 * eps
					}
					worst := 0.0
					defer func() { t.Logf("worst error %.1f roundings", worst/eps) }()
					for i, e := range want {
						d := math.Abs(float64(y[i]) - e)
						worst = max(worst, d/mag[i])
						if d > tol*mag[i]+1e-30 {
							t.Fatalf("output %d is %v, want %v (off by %.3g of the terms' magnitude %.3g)", i, y[i], e, d/mag[i], mag[i])
						}
					}
					for _, v := range y[len(want):] {
						if v != 0 {
							t.Fatalf("Run wrote past the output")
						}
					}
				})
			}
		}
	}
}

// TestWinogradErrors checks Run's argument checks.
func TestWinogradErrors(t *testing.T) {
	if _, err := NewWinograd(make([]float32, 8), 1, 1, 4, 4, 2); err == nil {
		t.Error("NewWinograd took 8 weights for a 3×3 kernel")
	}
	if _, err := NewWinograd(make([]float32, 9), 1, 1, 0, 4, 2); err == nil {
		t.Error("NewWinograd took an empty image")
	}
	if _, err := NewWinograd(make([]float32, 9), 1, 1, 4, 4, 3); err == nil {
		t.Error("NewWinograd took tiles of 3")
	}
	g, err := NewWinograd(make([]float32, 9*4), 2, 2, 4, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	x, y, buf := make([]float32, 2*16), make([]float32, 2*16), make([]float32, g.ScratchSize())
	for _, tc := range []struct {
		name string
		run  func() error
	}{
		{"short input", func() error { return g.Run(x[:31], 1, 0, 1, y, Epilogue{}, buf) }},
		{"short scratch", func() error { return g.Run(x, 1, 0, 1, y, Epilogue{}, buf[:len(buf)-1]) }},
		{"chunk out of range", func() error { return g.Run(x, 1, 0, g.Chunks(1)+1, y, Epilogue{}, buf) }},
		{"short bias", func() error { return g.Run(x, 1, 0, 1, y, Epilogue{Bias: []float32{1}}, buf) }},
		{"accumulate", func() error { return g.Run(x, 1, 0, 1, y, Epilogue{Accumulate: true}, buf) }},
	} {
		if tc.run() == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
