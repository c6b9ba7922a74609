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
	was := wg4Asm
	wg4Asm = on && hasAVX2FMA
	t.Cleanup(func() { wg4Asm = was })
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
		asm  bool
	}{{"go", false}, {"avx2", true}}
	type shape struct{ n, c, m, h, w int }
	shapes := []shape{
		{1, 16, 16, 28, 28}, {3, 32, 32, 14, 14}, {5, 64, 64, 7, 7}, {2, 3, 5, 1, 1},
		{2, 8, 7, 2, 3}, {1, 17, 9, 9, 17}, {4, 16, 24, 5, 6}, {1, 1, 1, 33, 31},
	}
	r := rand.New(rand.NewPCG(63, 64))
	for _, k := range kernels {
		if k.asm && !hasAVX2FMA {
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
					g, err := NewWinograd(wt, s.m, s.c, s.h, s.w)
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
					// The transforms scale values by up to 5 and 8: the
					// worst error measured was 30 roundings.
					const eps = 1.0 / (1 << 23)
					for i, e := range want {
						if d := math.Abs(float64(y[i]) - e); d > 64*eps*mag[i]+1e-30 {
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
	if _, err := NewWinograd(make([]float32, 8), 1, 1, 4, 4); err == nil {
		t.Error("NewWinograd took 8 weights for a 3×3 kernel")
	}
	if _, err := NewWinograd(make([]float32, 9), 1, 1, 0, 4); err == nil {
		t.Error("NewWinograd took an empty image")
	}
	g, err := NewWinograd(make([]float32, 9*4), 2, 2, 4, 4)
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
