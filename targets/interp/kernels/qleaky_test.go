package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// leakyUnfused is the level of acc as the unfused operators compute it:
// QDequant's float32, LeakyRelu (its float32 kernel: the product where
// the value is negative), QLevels' float32 division, rounding half to
// even and clamp.
func leakyUnfused(acc, bias int32, scale, alpha, yscale float32, zp, lo, hi int32) uint8 {
	y := make([]float32, 1)
	y[0] = float32(acc+bias) * scale
	LeakyReLUF32(y, y, alpha)
	v := float64(y[0] / yscale)
	l := math.RoundToEven(v) + float64(zp)
	return uint8(math.Min(math.Max(l, float64(lo)), float64(hi)))
}

// TestQLeakyReLULevel checks Level against the unfused computation on
// negative, zero and positive values, exact ties between two levels
// (half to even), both clamps and slopes below, at and above 1 and
// negative.
func TestQLeakyReLULevel(t *testing.T) {
	for _, alpha := range []float32{0.2, 0.01, 0.5, 0.25, 1, 1.5, -0.3, 0} {
		// Scale 0.5 and YScale 1: every odd sum is a tie; with slopes
		// of powers of two, negative ties too.
		q, err := NewQLeakyReLU(QLeakyReLU{Bias: []int32{0, 7, -300}, Scale: []float32{0.5, 0.01, 0.02}, Alpha: alpha,
			YScale: []float32{1, 0.05, 0.1}, ZP: []int32{128, 10, 200}, Lo: []int32{0, 3, 0}, Hi: []int32{255, 250, 255}}, 3)
		if err != nil {
			t.Fatal(err)
		}
		sat := 0
		for c := 0; c < 3; c++ {
			for acc := int32(-40000); acc <= 40000; acc++ {
				want := leakyUnfused(acc, q.Bias[c], q.Scale[c], alpha, q.YScale[c], q.ZP[c], q.Lo[c], q.Hi[c])
				if got := q.Level(c, acc); got != want {
					t.Fatalf("alpha %g channel %d acc %d: level %d, unfused %d", alpha, c, acc, got, want)
				}
				if want == uint8(q.Lo[c]) || want == uint8(q.Hi[c]) {
					sat++
				}
			}
		}
		if sat == 0 {
			t.Fatalf("alpha %g: no value saturated", alpha)
		}
	}
	// Ties by hand: -3 (acc -6 at scale 0.5) with slope 0.5 is -1.5,
	// level 128 - 2; 2.5 rounds to 2; 0 stays at the zero point.
	q, _ := NewQLeakyReLU(QLeakyReLU{Bias: []int32{0}, Scale: []float32{0.5}, Alpha: 0.5, YScale: []float32{1},
		ZP: []int32{128}, Lo: []int32{0}, Hi: []int32{255}}, 1)
	for _, tc := range []struct {
		acc  int32
		want uint8
	}{{-6, 126}, {-2, 128}, {5, 130}, {3, 130}, {0, 128}, {-1, 128}, {1000, 255}, {-2000, 0}} {
		if got := q.Level(0, tc.acc); got != tc.want {
			t.Errorf("acc %d: level %d, want %d", tc.acc, got, tc.want)
		}
	}
}

func randLeaky(r *rand.Rand, M int, alpha float32) QLeakyReLU {
	p := QLeakyReLU{Alpha: alpha}
	for c := 0; c < M; c++ {
		p.Bias = append(p.Bias, int32(r.IntN(40000)-20000))
		p.Scale = append(p.Scale, float32(0.00002+0.0001*r.Float64()))
		p.YScale = append(p.YScale, float32(0.005+0.03*r.Float64()))
		z := int32(r.IntN(256))
		p.ZP = append(p.ZP, z)
		lo := int32(r.IntN(int(z) + 1))
		p.Lo, p.Hi = append(p.Lo, lo), append(p.Hi, lo+int32(r.IntN(int(256-lo))))
	}
	return p
}

// TestQLeakyReLUStore checks the output stage, with and without the
// assembly, against Level on both layouts and on blocks of 16 and fewer
// channels.
func TestQLeakyReLUStore(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const M, rows = 37, 23
	q, err := NewQLeakyReLU(randLeaky(r, M, 0.2), M)
	if err != nil {
		t.Fatal(err)
	}
	acc := make([]int32, rows*qNR)
	for i := range acc {
		acc[i] = int32(r.IntN(400000) - 200000)
	}
	withQAsm(t, func(t *testing.T) {
		for _, cl := range []bool{true, false} {
			dst := make([]uint8, rows*M)
			out := QOut{Leaky: q, U8: dst, ChannelsLast: cl}
			for c0 := 0; c0 < M; c0 += qNR {
				out.store(acc, rows, c0, min(qNR, M-c0), 0, rows, M)
			}
			for row := 0; row < rows; row++ {
				for c := 0; c < M; c++ {
					got := dst[row*M+c]
					if !cl {
						got = dst[c*rows+row]
					}
					if want := q.Level(c, acc[row*qNR+c%qNR]); got != want {
						t.Fatalf("channels-last %v: row %d channel %d: level %d, want %d", cl, row, c, got, want)
					}
				}
			}
		}
	})
}

// TestQConvLeakyReLUFused runs convolutions with the LeakyRelu output
// stage in both models, with channel counts that end in a partial block
// and output sizes that end in every partial tile, and wants
// QLeakyReLU.Level of the reference sums.
func TestQConvLeakyReLUFused(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	cases := []struct {
		C, H, W, M, KH, KW, S, P int
		wlim                     int
	}{
		{16, 7, 7, 16, 1, 1, 1, 0, 127},
		{16, 6, 5, 48, 3, 3, 1, 1, 127},
		{24, 5, 5, 96, 1, 1, 1, 0, 127},
		{40, 3, 3, 40, 1, 1, 1, 0, 127}, // a partial block
		{64, 4, 4, 32, 1, 1, 2, 0, 127},
		{16, 7, 6, 16, 1, 1, 1, 0, 1},
		{1, 28, 28, 16, 3, 3, 1, 1, 127},
		{8, 6, 5, 20, 3, 3, 1, 1, 127}, // a block of 4 channels
	}
	for _, model := range []QModel{QExact, QSaturating} {
		for i, tc := range cases {
			for _, cl := range []bool{true, false} {
				withQAsm(t, func(t *testing.T) {
					w := randI8(r, tc.M*tc.C*tc.KH*tc.KW, tc.wlim)
					k, err := NewQConvKernel(w, tc.M, tc.C, tc.KH, tc.KW, model)
					if err != nil {
						t.Fatal(err)
					}
					g := testGeom(tc.H, tc.W, tc.KH, tc.KW, tc.S, 1, tc.P)
					x := randU8(r, tc.H*tc.W*tc.C)
					zp := uint8(r.IntN(256))
					want := refConv(model, x, tc.C, tc.H, tc.W, w, tc.M, tc.KH, tc.KW, g, zp)
					alpha := []float32{0.2, 0.01, 1.5, -0.3}[i%4]
					lr, err := NewQLeakyReLU(randLeaky(r, tc.M, alpha), tc.M)
					if err != nil {
						t.Fatal(err)
					}
					var s QScratch
					out := QOut{Leaky: lr, U8: make([]uint8, len(want)), ChannelsLast: cl}
					k.RunImage(&g, x, true, zp, &s, &out)
					P := len(want) / tc.M
					for i, v := range want {
						p, c := i/tc.M, i%tc.M
						got := out.U8[i]
						if !cl {
							got = out.U8[c*P+p]
						}
						if lv := lr.Level(c, v); got != lv {
							t.Fatalf("%v %+v cl %v: pixel %d channel %d (sum %d): level %d, want %d", model, tc, cl, p, c, v, got, lv)
						}
					}
				})
			}
		}
	}
}

// TestTileToChannelMajor checks the transposition of a tile of levels
// to channel-major rows, with and without the assembly, for 16 and
// fewer channels and row counts around the blocks of 8.
func TestTileToChannelMajor(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	withQAsm(t, func(t *testing.T) {
		for _, npix := range []int{1, 7, 8, 9, 16, 23, 64, 77} {
			for _, n := range []int{16, 9, 8, 3} {
				tile := randU8(r, npix*qNR)
				pixels := npix + 5
				dst := make([]uint8, qNR*pixels)
				tileToChannelMajor(dst[2:], pixels, tile, npix, n)
				for i := 0; i < qNR; i++ {
					for p := 0; p < pixels && 2+i*pixels+p < len(dst); p++ {
						got, want := dst[2+i*pixels+p], uint8(0)
						if i < n && p < npix {
							want = tile[p*qNR+i]
						}
						if got != want {
							t.Fatalf("npix %d n %d: channel %d pixel %d: %d, want %d", npix, n, i, p, got, want)
						}
					}
				}
			}
		}
	})
}

// TestClampU8 compares ClampU8, with and without the assembly, with the
// scalar clamp on lengths around the 32-level blocks.
func TestClampU8(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	withQAsm(t, func(t *testing.T) {
		for _, n := range []int{0, 1, 31, 32, 33, 64, 100, 1000} {
			for _, b := range [][2]uint8{{0, 255}, {118, 255}, {0, 3}, {7, 7}, {100, 200}} {
				src := randU8(r, n)
				dst := make([]uint8, n)
				ClampU8(dst, src, b[0], b[1])
				for i, v := range src {
					if want := min(max(v, b[0]), b[1]); dst[i] != want {
						t.Fatalf("n %d bounds %v: level %d: %d, want %d", n, b, i, dst[i], want)
					}
				}
			}
		}
	})
}
