package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refDepthwise is the definition: y[p][m] = Σ over taps inside the image
// of (x[c] - zp[c])·w[m][tap], c = m / mult, x channels-last.
func refDepthwise(x []uint8, C, mult int, w []int8, KH, KW int, g QConvGeom, zp []int32) []int32 {
	M := C * mult
	y := make([]int32, g.OH*g.OW*M)
	for oh := 0; oh < g.OH; oh++ {
		for ow := 0; ow < g.OW; ow++ {
			for m := 0; m < M; m++ {
				c := m / mult
				z := zp[0]
				if len(zp) > 1 {
					z = zp[c]
				}
				var s int32
				for kh := 0; kh < KH; kh++ {
					for kw := 0; kw < KW; kw++ {
						ih, iw := oh*g.SH-g.PadT+kh*g.DH, ow*g.SW-g.PadL+kw*g.DW
						if ih < 0 || ih >= g.H || iw < 0 || iw >= g.W {
							continue
						}
						s += (int32(x[(ih*g.W+iw)*C+c]) - z) * int32(w[(m*KH+kh)*KW+kw])
					}
				}
				y[(oh*g.OW+ow)*M+m] = s
			}
		}
	}
	return y
}

// dwCase is the shape of one depthwise convolution test.
type dwCase struct{ C, mult, H, W, KH, KW, S, D, P int }

// TestQDepthwise checks the depthwise kernel, with and without its
// assembly, against its definition on both input layouts and both output
// layouts, with one and with per-channel zero points, channel
// multipliers 1 to 3, strides, dilations and channel counts that are not
// multiples of 8 or 16.
func TestQDepthwise(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	cases := []dwCase{
		{16, 1, 14, 14, 3, 3, 1, 1, 1},
		{40, 1, 7, 7, 5, 5, 2, 1, 2},
		{8, 2, 9, 9, 3, 3, 2, 1, 1},
		{3, 1, 6, 5, 3, 3, 1, 2, 2},
		{17, 1, 4, 4, 1, 1, 1, 1, 0},
		{24, 3, 5, 6, 3, 2, 1, 1, 0},
		{96, 1, 7, 7, 3, 3, 1, 1, 1},
		{23, 1, 5, 5, 3, 3, 1, 1, 1},
		// 3×3 runs of the row kernel: strides, dilations, no padding,
		// channel tails.
		{64, 1, 14, 14, 3, 3, 2, 1, 1},
		{32, 1, 9, 9, 3, 3, 1, 2, 2},
		{48, 1, 8, 7, 3, 3, 2, 1, 0},
		{40, 1, 6, 9, 3, 3, 1, 1, 1},
		{16, 1, 3, 3, 3, 3, 1, 1, 0},
		// Padded 3×3 of stride 1 (qdw3RowVNNI on a padded copy): odd
		// and even rows, padding 2, a channel tail, a dilated column.
		{32, 1, 5, 6, 3, 3, 1, 1, 2},
		{48, 1, 1, 1, 3, 3, 1, 1, 1},
		{160, 1, 7, 7, 3, 3, 1, 1, 1},
		{33, 1, 8, 5, 3, 3, 1, 1, 1},
		{64, 1, 28, 28, 3, 3, 2, 1, 1},
		{48, 1, 7, 8, 3, 3, 3, 1, 1},
	}
	withQAsm(t, func(t *testing.T) {
		for _, tc := range cases {
			testQDepthwiseCase(t, r, tc)
		}
	})
}

func testQDepthwiseCase(t *testing.T, r *rand.Rand, tc dwCase) {
	M := tc.C * tc.mult
	w := randI8(r, M*tc.KH*tc.KW, 127)
	d, err := NewQDepthwise(w, tc.C, tc.mult, tc.KH, tc.KW)
	if err != nil {
		t.Fatal(err)
	}
	g := testGeom(tc.H, tc.W, tc.KH, tc.KW, tc.S, tc.D, tc.P)
	x := randU8(r, tc.H*tc.W*tc.C)
	perChannel := make([]int32, tc.C)
	for i := range perChannel {
		perChannel[i] = int32(r.IntN(256))
	}
	for _, zp := range [][]int32{{int32(r.IntN(256))}, perChannel} {
		want := refDepthwise(x, tc.C, tc.mult, w, tc.KH, tc.KW, g, zp)
		var scratch []int32
		for _, xcl := range []bool{true, false} {
			for _, ycl := range []bool{true, false} {
				xin := x
				if !xcl {
					xin = toCHW(x, tc.C, tc.H, tc.W)
				}
				// Identity dequantization exposes the raw accumulators.
				out := identityOut(M, len(want), ycl)
				d.RunImage(&g, xin, xcl, zp, &scratch, &out)
				if msg := accMismatch(out, want, M); msg != "" {
					t.Fatalf("%+v zero points %d, x channels-last %v, y channels-last %v: %s", tc, len(zp), xcl, ycl, msg)
				}
				// Requantized levels, against QRequant.Value.
				req := randRequant(t, r, M)
				levels := QOut{Req: req, U8: make([]uint8, len(want)), ChannelsLast: ycl}
				d.RunImage(&g, xin, xcl, zp, &scratch, &levels)
				P := len(want) / M
				for i, a := range want {
					p, m := i/M, i%M
					got := levels.U8[i]
					if !ycl {
						got = levels.U8[m*P+p]
					}
					if v := req.Value(m, a); int32(got) != v {
						t.Fatalf("%+v requantized, y channels-last %v: pixel %d channel %d: %d, want %d", tc, ycl, p, m, got, v)
					}
				}
			}
		}
	}
}

// randRequant is a requantization of M channels with random biases,
// multipliers below 1/2 (the assembly's range), zero points and bounds.
func randRequant(t *testing.T, r *rand.Rand, M int) *QRequant {
	t.Helper()
	bias, zp, lo, hi := make([]int32, M), make([]int32, M), make([]int32, M), make([]int32, M)
	real := make([]float64, M)
	for m := range real {
		bias[m] = int32(r.IntN(2001) - 1000)
		real[m] = math.Pow(10, -2-3*r.Float64())
		zp[m], lo[m], hi[m] = int32(r.IntN(200)), int32(r.IntN(10)), int32(240+r.IntN(16))
	}
	req, err := NewQRequant(bias, real, zp, lo, hi)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// BenchmarkQDepthwise measures a 3×3 depthwise convolution of 96
// channels on a 14×14 image (stride 1, padding 1, as in
// mobilenet_fmnist) through the fused hard-swish, channels-last.
func BenchmarkQDepthwise(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const C, H, W = 96, 14, 14
	d, err := NewQDepthwise(randI8(r, C*9, 127), C, 1, 3, 3)
	if err != nil {
		b.Fatal(err)
	}
	g := testGeom(H, W, 3, 3, 1, 1, 1)
	x := randU8(r, H*W*C)
	zp := []int32{7}
	var scratch []int32
	p := QHardSwish{Alpha: 1.0 / 6, Beta: 0.5}
	for c := 0; c < C; c++ {
		p.Bias, p.Scale, p.YScale = append(p.Bias, 0), append(p.Scale, 0.001), append(p.YScale, 0.05)
		p.ZP, p.Lo, p.Hi = append(p.ZP, 20), append(p.Lo, 0), append(p.Hi, 255)
	}
	hs, err := NewQHardSwish(p, C)
	if err != nil {
		b.Fatal(err)
	}
	out := QOut{HSwish: hs, U8: make([]uint8, g.OH*g.OW*C), ChannelsLast: true}
	benchQModes(b, func(b *testing.B) {
		for b.Loop() {
			d.RunImage(&g, x, true, zp, &scratch, &out)
		}
	})
}

// TestQDepthwiseRow3 compares the 3×3 row kernel (AVX-512 or AVX2) with its Go twin bit for
// bit on random levels and weights, over strides, dilations and channel
// counts with and without a tail of fewer than 16.
func TestQDepthwiseRow3(t *testing.T) {
	if !qdw3RowOn() {
		t.Skip("no row kernel in assembly on this CPU")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct{ C, npix, SW, DW, W int }{{16, 12, 1, 1, 14}, {96, 5, 1, 1, 7}, {160, 3, 2, 1, 7}, {40, 7, 1, 2, 11}, {64, 1, 2, 1, 3}} {
		rowB, colB := tc.W*tc.C*tc.DW, tc.DW*tc.C
		xstep := tc.SW * tc.C
		x := randU8(r, (tc.npix-1)*xstep+2*rowB+2*colB+tc.C)
		w := make([]int32, 9*tc.C)
		corr := make([]int32, tc.C)
		for i := range w {
			w[i] = int32(r.IntN(255) - 127)
		}
		for c := range corr {
			corr[c] = int32(r.IntN(1<<20) - 1<<19)
		}
		bs := tc.npix * qNR
		blocks := (tc.C + qNR - 1) / qNR
		got, want := make([]int32, blocks*bs), make([]int32, blocks*bs)
		n := qdw3RowVec(got, bs, x, xstep, tc.npix, rowB, colB, w, tc.C, corr, tc.C)
		if n != tc.C&^(qNR-1) {
			t.Fatalf("%+v: assembly did %d channels", tc, n)
		}
		dw3RowGo(got, bs, x, xstep, tc.npix, rowB, colB, w, tc.C, corr, n, tc.C)
		dw3RowGo(want, bs, x, xstep, tc.npix, rowB, colB, w, tc.C, corr, 0, tc.C)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%+v: accumulator %d: %d, want %d", tc, i, got[i], want[i])
			}
		}
	}
}

// TestQDepthwiseVNNIExtremes runs the VNNI row kernel on the extreme
// levels and weights (255 against -128 and 127), strides 1 and 2, and
// wants dw3RowGo's sums.
func TestQDepthwiseVNNIExtremes(t *testing.T) {
	const C, H, W = 32, 4, 5
	for _, tc := range []struct {
		wv     int8
		stride int
	}{{-128, 1}, {127, 1}, {-128, 2}, {127, 2}} {
		wv, xstep := tc.wv, tc.stride*C
		w := make([]int8, C*9)
		for i := range w {
			w[i] = wv
			if i%7 == 3 {
				w[i] = -wv - 1
			}
		}
		d, err := NewQDepthwise(w, C, 1, 3, 3)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]uint8, H*W*C+4*C)
		for i := range x {
			x[i] = 255
			if i%5 == 1 {
				x[i] = uint8(i)
			}
		}
		corr := make([]int32, C)
		for c := range corr {
			corr[c] = int32(c*1000 - 7)
		}
		npix, rowB := (W-3)/tc.stride+1, W*C
		bs := npix * qNR
		want, got := make([]int32, 2*bs), make([]int32, 2*bs)
		dw3RowGo(want, bs, x, xstep, npix, rowB, C, d.w, C, corr, 0, C)
		withQAsm(t, func(t *testing.T) {
			clear(got)
			n := qdw3RowVNNIVec(got, bs, x, xstep, npix, rowB, d.w3v, C, corr)
			if qdw3VNNIOn() && n != C {
				t.Fatalf("the VNNI kernel did %d channels of %d", n, C)
			}
			dw3RowGo(got, bs, x, xstep, npix, rowB, C, d.w, C, corr, n, C)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("weight %d stride %d: acc %d: %d, want %d", wv, tc.stride, i, got[i], want[i])
				}
			}
		})
	}
}

// TestQDepthwiseHardSwish checks depthwise convolutions with the
// hard-swish output stage (fused into the VNNI row kernel on padded 3×3
// channels-last convolutions) against QHardSwish.Level of the defining
// sums, on both output layouts.
func TestQDepthwiseHardSwish(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	cases := []dwCase{
		{16, 1, 14, 14, 3, 3, 1, 1, 1},
		{96, 1, 7, 7, 3, 3, 1, 1, 1},
		{64, 1, 28, 28, 3, 3, 2, 1, 1},
		{40, 1, 6, 9, 3, 3, 1, 1, 1},
		{33, 1, 5, 4, 3, 3, 2, 1, 1},
		{32, 1, 9, 9, 3, 3, 1, 2, 2},
		{48, 1, 8, 7, 3, 3, 2, 1, 0},
	}
	withQAsm(t, func(t *testing.T) {
		for _, tc := range cases {
			C := tc.C
			w := randI8(r, C*9, 127)
			d, err := NewQDepthwise(w, C, 1, 3, 3)
			if err != nil {
				t.Fatal(err)
			}
			g := testGeom(tc.H, tc.W, 3, 3, tc.S, tc.D, tc.P)
			x := randU8(r, tc.H*tc.W*C)
			zp := []int32{int32(r.IntN(256))}
			p := QHardSwish{Alpha: 1.0 / 6, Beta: 0.5}
			for c := 0; c < C; c++ {
				p.Bias = append(p.Bias, int32(r.IntN(4000)-2000))
				p.Scale = append(p.Scale, float32(0.0002+0.0004*r.Float64()))
				p.YScale = append(p.YScale, float32(0.02+0.03*r.Float64()))
				z := int32(r.IntN(60))
				p.ZP, p.Lo, p.Hi = append(p.ZP, z), append(p.Lo, int32(r.IntN(int(z)+1))), append(p.Hi, 255-int32(r.IntN(30)))
			}
			hs, err := NewQHardSwish(p, C)
			if err != nil {
				t.Fatal(err)
			}
			want := refDepthwise(x, C, 1, w, 3, 3, g, zp)
			var scratch []int32
			for _, ycl := range []bool{true, false} {
				out := QOut{HSwish: hs, U8: make([]uint8, len(want)), ChannelsLast: ycl}
				d.RunImage(&g, x, true, zp, &scratch, &out)
				P := len(want) / C
				for i, a := range want {
					px, m := i/C, i%C
					got := out.U8[i]
					if !ycl {
						got = out.U8[m*P+px]
					}
					if v := hs.Level(m, a); got != v {
						t.Fatalf("%+v y channels-last %v: pixel %d channel %d (sum %d): level %d, want %d", tc, ycl, px, m, a, got, v)
					}
				}
			}
		}
	})
}

// TestQDepthwiseSharedScratch runs convolutions of several geometries and
// input layouts, in turn and again, on one scratch: the padding padded3
// keeps for the next image must never outlive its geometry.
func TestQDepthwiseSharedScratch(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	const C = 32
	w := randI8(r, C*9, 127)
	d, err := NewQDepthwise(w, C, 1, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	type run struct {
		g   QConvGeom
		xcl bool
	}
	var runs []run
	for _, sh := range [][4]int{{7, 7, 1, 1}, {9, 6, 1, 2}, {7, 7, 2, 1}, {4, 24, 1, 0}, {12, 4, 1, 1}} {
		for _, xcl := range []bool{true, false} {
			runs = append(runs, run{testGeom(sh[0], sh[1], 3, 3, sh[2], 1, sh[3]), xcl})
		}
	}
	// A padded one, a wide one on the other paths whose buffers cover
	// its padding, the padded one again; then at random.
	order := []int{0, 7, 0, 6, 0, 1, 2, 1}
	for i := 0; i < 4*len(runs); i++ {
		order = append(order, r.IntN(len(runs)))
	}
	withQAsm(t, func(t *testing.T) {
		var scratch []int32
		for i, k := range order {
			rn := runs[k]
			g := rn.g
			x := randU8(r, g.H*g.W*C)
			zp := []int32{int32(1 + i/len(runs)%2)}
			want := refDepthwise(x, C, 1, w, 3, 3, g, zp)
			xin := x
			if !rn.xcl {
				xin = toCHW(x, C, g.H, g.W)
			}
			out := identityOut(C, len(want), true)
			d.RunImage(&g, xin, rn.xcl, zp, &scratch, &out)
			if msg := accMismatch(out, want, C); msg != "" {
				t.Fatalf("run %d %+v x channels-last %v: %s", i, g, rn.xcl, msg)
			}
		}
	})
}

// TestQDepthwiseRow3HS compares the AVX2 row kernel with the hard-swish
// stage fused (qdw3RowHSAVX2) with QHardSwish.Level of dw3RowGo's sums,
// bit for bit: random and extreme levels and weights (255 against -128
// and 127, which also drive the levels to both clamps), strides 1 and 2,
// dilations, odd runs and channel counts with a tail (left to the
// caller).
func TestQDepthwiseRow3HS(t *testing.T) {
	if !qdw3RowHS2On() {
		t.Skip("no AVX2 row kernel with hard-swish on this CPU (or AVX-512 runs instead)")
	}
	r := rand.New(rand.NewPCG(51, 52))
	for _, tc := range []struct {
		C, npix, SW, DW, W int
		extreme            int8
	}{{16, 12, 1, 1, 14, 0}, {96, 5, 1, 1, 7, 0}, {160, 3, 2, 1, 7, 0}, {40, 7, 1, 2, 11, 0}, {64, 1, 2, 1, 3, 0},
		{33, 9, 2, 1, 19, 0}, {32, 6, 1, 1, 8, -128}, {32, 3, 2, 1, 8, 127}, {48, 13, 1, 1, 15, -128}} {
		rowB, colB := tc.W*tc.C*tc.DW, tc.DW*tc.C
		xstep := tc.SW * tc.C
		x := randU8(r, (tc.npix-1)*xstep+2*rowB+2*colB+tc.C)
		w := make([]int32, 9*tc.C)
		corrB := make([]int32, tc.C)
		for i := range w {
			w[i] = int32(r.IntN(255) - 127)
			if tc.extreme != 0 {
				w[i] = int32(tc.extreme)
				if i%7 == 3 {
					w[i] = -int32(tc.extreme) - 1
				}
			}
		}
		if tc.extreme != 0 {
			for i := range x {
				x[i] = 255
				if i%5 == 1 {
					x[i] = uint8(i)
				}
			}
		}
		p := QHardSwish{Alpha: 1.0 / 6, Beta: 0.5}
		for c := 0; c < tc.C; c++ {
			corrB[c] = int32(r.IntN(1<<16) - 1<<15)
			p.Bias = append(p.Bias, 0)
			p.Scale = append(p.Scale, float32(0.0001+0.0004*r.Float64()))
			p.YScale = append(p.YScale, float32(0.02+0.03*r.Float64()))
			z := int32(r.IntN(60))
			p.ZP, p.Lo, p.Hi = append(p.ZP, z), append(p.Lo, int32(r.IntN(int(z)+1))), append(p.Hi, 255-int32(r.IntN(30)))
		}
		hs, err := NewQHardSwish(p, tc.C)
		if err != nil {
			t.Fatal(err)
		}
		bs := tc.npix * qNR
		blocks := (tc.C + qNR - 1) / qNR
		sums := make([]int32, blocks*bs)
		dw3RowGo(sums, bs, x, xstep, tc.npix, rowB, colB, w, tc.C, corrB, 0, tc.C)
		ldd := tc.C + 3 // not the channel count: the stride is the caller's
		dst := make([]uint8, tc.npix*ldd)
		for i := range dst {
			dst[i] = 0xa5
		}
		n := qdw3RowHS2Vec(dst, ldd, x, xstep, tc.npix, rowB, colB, w, tc.C, corrB, hs, tc.C)
		if n != tc.C&^(qNR-1) {
			t.Fatalf("%+v: assembly did %d channels", tc, n)
		}
		for p := 0; p < tc.npix; p++ {
			for c := 0; c < ldd; c++ {
				got := dst[p*ldd+c]
				if c >= n {
					if got != 0xa5 {
						t.Fatalf("%+v: pixel %d byte %d past the channels written: %#x", tc, p, c, got)
					}
					continue
				}
				a := sums[c/qNR*bs+p*qNR+c%qNR]
				if want := hs.Level(c, a); got != want {
					t.Fatalf("%+v: pixel %d channel %d (sum %d): level %d, want %d", tc, p, c, a, got, want)
				}
			}
		}
	}
}
