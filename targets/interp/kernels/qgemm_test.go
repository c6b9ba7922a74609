package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randU8(r *rand.Rand, n int) []uint8 {
	v := make([]uint8, n)
	for i := range v {
		v[i] = uint8(r.IntN(256))
	}
	return v
}

func randI8(r *rand.Rand, n, lim int) []int8 {
	v := make([]int8, n)
	for i := range v {
		v[i] = int8(r.IntN(2*lim+1) - lim)
	}
	return v
}

// qKernelModes are the ways the integer kernels run: in Go, and in
// assembly with the exact model on the AVX2 kernels or on VPDPBUSD,
// each with weights packed for VPDPBUSD or not.
var qKernelModes = []struct {
	name      string
	asm, quad bool
	z512      bool // the 512-bit element-wise and depthwise kernels
}{{"go", false, false, false}, {"go-quad", false, true, false}, {"avx2", true, false, false},
	{"avx2-z512", true, false, true}, {"vnni", true, true, true}}

// withQAsm runs f in every kernel mode the machine has.
func withQAsm(t *testing.T, f func(t *testing.T)) {
	for _, m := range qKernelModes {
		if m.asm && !hasQAsm() || m.asm && m.quad && !hasQVNNI || m.z512 && !hasQ512 {
			continue
		}
		t.Run(m.name, func(t *testing.T) {
			was, wasQuad, wasZ := UseQAssembly(m.asm), useQuadKernel(m.quad), useQ512Kernels(m.z512)
			defer func() { UseQAssembly(was); useQuadKernel(wasQuad); useQ512Kernels(wasZ) }()
			f(t)
		})
	}
}

func hasQAsm() bool {
	was := UseQAssembly(true)
	on := QAccelerated()
	UseQAssembly(was)
	return on
}

func TestQDotSaturates(t *testing.T) {
	x := []uint8{255, 255, 255, 255}
	w := []int8{127, 127, -128, -128}
	if got := QDot(QExact, x, w); got != 255*127*2-255*128*2 {
		t.Errorf("exact: %d", got)
	}
	if got := QDot(QSaturating, x, w); got != 32767-32768 {
		t.Errorf("saturating: %d, want %d", got, 32767-32768)
	}
	// A pair that fits is exact in both.
	if a, b := QDot(QExact, []uint8{255, 1}, []int8{127, 2}), QDot(QSaturating, []uint8{255, 1}, []int8{127, 2}); a != b || a != 255*127+2 {
		t.Errorf("fits: %d %d", a, b)
	}
}

// TestQRowsMatchDot checks every row of Rows against QDot, for rows at
// arbitrary offsets, through the raw path (identity dequantization) and
// the fused requantization (against QRequant.Value).
func TestPairsFit(t *testing.T) {
	for _, tc := range []struct {
		w    []int8
		want bool
	}{
		{[]int8{64, 64}, true}, {[]int8{64, 65}, false}, {[]int8{-64, -64}, true}, {[]int8{-65, -64}, false},
		{[]int8{127, -127}, true}, {[]int8{127}, true}, {[]int8{1, 2, 100, 29}, false}, {[]int8{1, 2, 100, 28}, true},
	} {
		if got := pairsFit(tc.w, 1, len(tc.w), len(tc.w)); got != tc.want {
			t.Errorf("pairsFit(%v) = %v, want %v", tc.w, got, tc.want)
		}
		// Where pairs fit, the saturating and exact dot products agree
		// for the largest activations.
		if tc.want {
			x := make([]uint8, len(tc.w))
			for i := range x {
				x[i] = 255
			}
			if a, b := QDot(QExact, x, tc.w), QDot(QSaturating, x, tc.w); a != b {
				t.Errorf("%v: exact %d, saturating %d", tc.w, a, b)
			}
		}
	}
}

func TestQRowsMatchDot(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, model := range []QModel{QExact, QSaturating} {
		for _, tc := range []struct{ M, K, rows, lim int }{{16, 4, 1, 127}, {10, 9, 5, 127}, {33, 144, 13, 127}, {64, 576, 8, 64}, {7, 3, 3, 128}, {32, 288, 70, 127}} {
			withQAsm(t, func(t *testing.T) {
				w := randI8(r, tc.M*tc.K, min(tc.lim, 127))
				if tc.lim == 128 {
					for i := range w {
						w[i] = -128
					}
				}
				b, err := PackQB(w, tc.M, tc.K, tc.K, model)
				if err != nil {
					t.Fatal(err)
				}
				a := randU8(r, 3*tc.rows*b.KP)
				var s QScratch
				offs := s.offsets(tc.rows)
				want := make([][]int32, tc.rows)
				for i := range offs {
					offs[i] = int32(r.IntN(len(a)-b.KP+1) &^ 0)
					row := append([]uint8(nil), a[offs[i]:int(offs[i])+b.KP]...)
					clear(row[tc.K:]) // padding steps meet zero weights
					want[i] = make([]int32, tc.M)
					for m := range want[i] {
						want[i][m] = QDot(model, row[:tc.K], w[m*tc.K:(m+1)*tc.K])
					}
				}
				orig := append([]int32(nil), offs...)
				// Raw accumulators through an identity dequantization.
				one := make([]float32, tc.M)
				for i := range one {
					one[i] = 1
				}
				got := make([]float32, tc.rows*tc.M)
				out := QOut{Deq: &QDequant{Bias: make([]int32, tc.M), Scale: one}, F32: got, ChannelsLast: true}
				for j := 0; j < b.Blocks(); j++ {
					copy(offs, orig)
					b.Rows(a, offs, QRows{Segs: 1, SegLen: b.KP}, j, &out, 0, tc.rows, tc.M, &s)
				}
				for i := range want {
					for m, v := range want[i] {
						if got[i*tc.M+m] != float32(v) {
							t.Fatalf("%v M=%d K=%d: row %d channel %d: %g, want %d", model, tc.M, tc.K, i, m, got[i*tc.M+m], v)
						}
					}
				}
				// Requantized: the fused assembly when 16 channels fit.
				req := randRequant(t, r, tc.M)
				levels := make([]uint8, tc.rows*tc.M)
				out = QOut{Req: req, U8: levels, ChannelsLast: true}
				for j := 0; j < b.Blocks(); j++ {
					copy(offs, orig)
					b.Rows(a, offs, QRows{Segs: 1, SegLen: b.KP}, j, &out, 0, tc.rows, tc.M, &s)
				}
				check := func(how string) {
					t.Helper()
					for i := range want {
						for m, v := range want[i] {
							if w := req.Value(m, v); levels[i*tc.M+m] != uint8(w) {
								t.Fatalf("%v M=%d K=%d, %s: row %d channel %d: level %d, want %d", model, tc.M, tc.K, how, i, m, levels[i*tc.M+m], w)
							}
						}
					}
				}
				check("block by block")
				// Every block at once: two at a time on the VPDPBUSD kernel.
				clear(levels)
				copy(offs, orig)
				b.allRows(a, offs, maxOffset(offs), QRows{Segs: 1, SegLen: b.KP}, &out, 0, tc.rows, tc.M, &s)
				check("all blocks")
			})
		}
	}
}

func TestQuantizeMultiplier(t *testing.T) {
	for _, real := range []float64{1e-9, 3.7e-5, 0.001234, 0.25, 0.5, 0.9999, 1, 1.5, 1000} {
		m, s, err := QuantizeMultiplier(real)
		if err != nil {
			t.Fatal(err)
		}
		got := float64(m) / math.Pow(2, float64(s))
		if real > 1e-9 && math.Abs(got-real) > real*1e-9 {
			t.Errorf("%g: %d·2^-%d = %g", real, m, s, got)
		}
		if m != 0 && (m < 1<<30 || s < 1 || s > 62) {
			t.Errorf("%g: mult %d shift %d out of range", real, m, s)
		}
	}
	if _, _, err := QuantizeMultiplier(0); err == nil {
		t.Error("zero multiplier accepted")
	}
	if _, _, err := QuantizeMultiplier(1 << 31); err == nil {
		t.Error("huge multiplier accepted")
	}
}

func TestRoundShiftHalfEven(t *testing.T) {
	// 2^30·v / 2^31 = v/2: ties go to even.
	for _, tc := range []struct{ v, want int32 }{{1, 0}, {3, 2}, {5, 2}, {-1, 0}, {-3, -2}, {-5, -2}, {4, 2}, {7, 4}, {-7, -4}} {
		if got := RoundShift(tc.v, 1<<30, 31); got != int64(tc.want) {
			t.Errorf("RoundShift(%d/2) = %d, want %d", tc.v, got, tc.want)
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 10000; i++ {
		v := int32(r.Uint32())
		m, s, _ := QuantizeMultiplier(r.Float64() * 0.01)
		want := math.RoundToEven(float64(v) * float64(m) / math.Pow(2, float64(s)))
		if got := RoundShift(v, m, s); float64(got) != want {
			t.Fatalf("RoundShift(%d, %d, %d) = %d, want %g", v, m, s, got, want)
		}
	}
}

// TestQRequantValue checks Value against float64 arithmetic.
func TestQRequantValue(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const M = 40
	bias, zp, lo, hi := make([]int32, M), make([]int32, M), make([]int32, M), make([]int32, M)
	real := make([]float64, M)
	for c := range bias {
		bias[c] = int32(r.IntN(20001) - 10000)
		real[c] = math.Pow(10, -1-4*r.Float64())
		zp[c] = int32(r.IntN(256))
		lo[c], hi[c] = int32(r.IntN(20)), int32(200+r.IntN(56))
	}
	real[3] = 1e-12 // multiplier 0
	q, err := NewQRequant(bias, real, zp, lo, hi)
	if err != nil {
		t.Fatal(err)
	}
	for it := 0; it < 20000; it++ {
		c := r.IntN(M)
		acc := int32(r.Uint32()) >> uint(r.IntN(31))
		v := float64(acc+bias[c]) * float64(q.Mult[c]) / math.Pow(2, float64(q.Shift[c]))
		want := math.Min(math.Max(math.RoundToEven(v)+float64(zp[c]), float64(lo[c])), float64(hi[c]))
		if got := q.Value(c, acc); float64(got) != want {
			t.Fatalf("channel %d acc %d: %d, want %g", c, acc, got, want)
		}
	}
}

// refConv is the layer-level oracle: every output from QDot over the
// reduction (kernel row, then column, then channel, each kernel row
// padded with zero weights to a multiple of 4 steps) with zp padding.
func refConv(model QModel, x []uint8, C, H, W int, w []int8, M, KH, KW int, g QConvGeom, zp uint8) []int32 {
	out := make([]int32, g.OH*g.OW*M)
	seg := (KW*C + 3) / 4 * 4
	vec := make([]uint8, KH*seg)
	wv := make([]int8, KH*seg)
	for oh := 0; oh < g.OH; oh++ {
		for ow := 0; ow < g.OW; ow++ {
			clear(vec)
			for kh := 0; kh < KH; kh++ {
				i := kh * seg
				for kw := 0; kw < KW; kw++ {
					ih, iw := oh*g.SH-g.PadT+kh*g.DH, ow*g.SW-g.PadL+kw*g.DW
					for c := 0; c < C; c++ {
						vec[i] = zp
						if ih >= 0 && ih < H && iw >= 0 && iw < W {
							vec[i] = x[(ih*W+iw)*C+c]
						}
						i++
					}
				}
			}
			for m := 0; m < M; m++ {
				clear(wv)
				for kh := 0; kh < KH; kh++ {
					i := kh * seg
					for kw := 0; kw < KW; kw++ {
						for c := 0; c < C; c++ {
							wv[i] = w[((m*C+c)*KH+kh)*KW+kw]
							i++
						}
					}
				}
				out[(oh*g.OW+ow)*M+m] = QDot(model, vec, wv)
			}
		}
	}
	return out
}

func TestQConvKernel(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	cases := []struct {
		C, H, W, M, KH, KW, S, D, P int
	}{
		{1, 28, 28, 16, 3, 3, 1, 1, 1},
		{16, 12, 12, 16, 3, 3, 1, 1, 1},
		{16, 14, 14, 32, 3, 3, 2, 1, 1},
		{32, 7, 7, 64, 1, 1, 2, 1, 0},
		{8, 9, 9, 20, 1, 1, 1, 1, 0},
		{4, 10, 10, 5, 5, 5, 1, 1, 2},
		{4, 10, 11, 6, 3, 3, 1, 2, 2},
		{3, 6, 6, 4, 2, 2, 1, 1, 0},
	}
	for _, tc := range cases {
		for _, model := range []QModel{QExact, QSaturating} {
			withQAsm(t, func(t *testing.T) {
				w := randI8(r, tc.M*tc.C*tc.KH*tc.KW, 127)
				k, err := NewQConvKernel(w, tc.M, tc.C, tc.KH, tc.KW, model)
				if err != nil {
					t.Fatal(err)
				}
				g := testGeom(tc.H, tc.W, tc.KH, tc.KW, tc.S, tc.D, tc.P)
				x := randU8(r, tc.H*tc.W*tc.C)
				zp := uint8(r.IntN(256))
				want := refConv(model, x, tc.C, tc.H, tc.W, w, tc.M, tc.KH, tc.KW, g, zp)
				for _, cl := range []bool{true, false} {
					var s QScratch
					out := identityOut(tc.M, len(want), cl)
					xin := x
					if !cl {
						xin = toCHW(x, tc.C, tc.H, tc.W)
					}
					k.RunImage(&g, xin, cl, zp, &s, &out)
					if msg := accMismatch(out, want, tc.M); msg != "" {
						t.Fatalf("%+v %v channels-last=%v: %s (%+v)", tc, model, cl, msg, g)
					}
				}
			})
		}
	}
}

// testGeom is the geometry of a convolution with the same stride,
// dilation and padding on both axes.
func testGeom(H, W, KH, KW, S, D, P int) QConvGeom {
	g := QConvGeom{H: H, W: W, SH: S, SW: S, DH: D, DW: D, PadT: P, PadL: P, PadB: P, PadR: P}
	g.OH = (H+2*P-D*(KH-1)-1)/S + 1
	g.OW = (W+2*P-D*(KW-1)-1)/S + 1
	return g
}

// identityOut stores n raw accumulators of M channels as float32 (zero
// bias, unit scale), channels-last or channel-major.
func identityOut(M, n int, channelsLast bool) QOut {
	scale := make([]float32, M)
	for i := range scale {
		scale[i] = 1
	}
	return QOut{Deq: &QDequant{Bias: make([]int32, M), Scale: scale}, F32: make([]float32, n), ChannelsLast: channelsLast}
}

// accMismatch compares what an identityOut holds with the channels-last
// accumulators want of M channels, and describes the first difference.
func accMismatch(out QOut, want []int32, M int) string {
	P := len(want) / M
	for p := 0; p < P; p++ {
		for m := 0; m < M; m++ {
			v := out.F32[p*M+m]
			if !out.ChannelsLast {
				v = out.F32[m*P+p]
			}
			if v != float32(want[p*M+m]) {
				return fmt.Sprintf("pixel %d channel %d: %g, want %d", p, m, v, want[p*M+m])
			}
		}
	}
	return ""
}

func toCHW(x []uint8, C, H, W int) []uint8 {
	out := make([]uint8, len(x))
	for c := 0; c < C; c++ {
		for i := 0; i < H*W; i++ {
			out[c*H*W+i] = x[i*C+c]
		}
	}
	return out
}

// TestQRequantRowsTail runs the requantization of rows of 16 channels
// and of a last block of 8 (the assembly where the machine has it: a
// layer of 24 or 40 channels, as in mobilenet_fmnist) on accumulators of
// every magnitude, and wants Value's levels.
func TestQRequantRowsTail(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const M, rows = 40, 21 // more rows than a tail tile
	bias, zp, lo, hi := make([]int32, M), make([]int32, M), make([]int32, M), make([]int32, M)
	real := make([]float64, M)
	for c := range bias {
		bias[c] = int32(r.IntN(20001) - 10000)
		real[c] = math.Pow(10, -1-4*r.Float64())
		zp[c] = int32(r.IntN(256))
		lo[c], hi[c] = int32(r.IntN(20)), int32(200+r.IntN(56))
	}
	real[35] = 1e-12
	q, err := NewQRequant(bias, real, zp, lo, hi)
	if err != nil {
		t.Fatal(err)
	}
	withQAsm(t, func(t *testing.T) {
		acc := make([]int32, rows*qNR)
		dst := make([]uint8, rows*M)
		for it := 0; it < 300; it++ {
			for i := range acc {
				acc[i] = int32(r.Uint32()) >> uint(r.IntN(32))
			}
			for c0 := 0; c0 < M; c0 += qNR {
				n := min(qNR, M-c0)
				q.storeRows(acc, rows, c0, n, dst, c0, M, 1)
				for row := 0; row < rows; row++ {
					for i := 0; i < n; i++ {
						if got, want := int32(dst[row*M+c0+i]), q.Value(c0+i, acc[row*qNR+i]); got != want {
							t.Fatalf("channel %d acc %d: %d, want %d", c0+i, acc[row*qNR+i], got, want)
						}
					}
				}
			}
		}
	})
}

// TestQConvRequantized runs requantized convolutions of several kernel
// rows (segments) through every kernel (on VPDPBUSD: one block with two
// accumulators per row when the segments hold whole pairs of groups,
// two blocks at a time otherwise) with output sizes that end in every
// partial tile, and wants the levels of the reference accumulators.
func TestQConvRequantized(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	cases := []struct {
		C, H, W, M, KH, KW, S, P int
	}{
		{16, 7, 7, 16, 3, 3, 1, 1},  // segments of 48 steps, 49 pixels
		{16, 6, 5, 48, 3, 3, 1, 1},  // blocks 0-1 paired, block 2 alone; 30 pixels
		{32, 5, 5, 32, 3, 3, 2, 1},  // 9 pixels
		{8, 4, 3, 16, 3, 3, 1, 1},   // segments of 24 steps, 12 pixels
		{4, 6, 6, 16, 3, 3, 1, 1},   // segments of 12 steps (odd groups)
		{32, 4, 4, 64, 1, 1, 1, 0},  // one segment, 16 pixels
		{16, 3, 4, 16, 2, 2, 1, 0},  // 6 pixels
		{1, 28, 28, 16, 3, 3, 1, 1}, // segments of 4 steps
		{64, 5, 5, 24, 1, 1, 1, 0},  // a last block of 8 channels
		{8, 4, 4, 40, 3, 3, 1, 1},   // 40 channels, 16 pixels
		{24, 3, 5, 10, 1, 1, 1, 0},  // one partial block
	}
	for _, tc := range cases {
		withQAsm(t, func(t *testing.T) {
			w := randI8(r, tc.M*tc.C*tc.KH*tc.KW, 127)
			k, err := NewQConvKernel(w, tc.M, tc.C, tc.KH, tc.KW, QExact)
			if err != nil {
				t.Fatal(err)
			}
			g := testGeom(tc.H, tc.W, tc.KH, tc.KW, tc.S, 1, tc.P)
			x := randU8(r, tc.H*tc.W*tc.C)
			zp := uint8(r.IntN(256))
			want := refConv(QExact, x, tc.C, tc.H, tc.W, w, tc.M, tc.KH, tc.KW, g, zp)
			req := randRequant(t, r, tc.M)
			var s QScratch
			out := QOut{Req: req, U8: make([]uint8, len(want)), ChannelsLast: true}
			k.RunImage(&g, x, true, zp, &s, &out)
			for i, v := range want {
				if lv := req.Value(i%tc.M, v); out.U8[i] != uint8(lv) {
					t.Fatalf("%+v: pixel %d channel %d: level %d, want %d", tc, i/tc.M, i%tc.M, out.U8[i], lv)
				}
			}
		})
	}
}

// TestQRequant512Extremes runs the VPDPBUSD kernels' 512-bit output
// stage (two blocks at a time, then one, with segments of one and two
// groups) on sums over the whole int32
// range (biases anywhere in it, so that acc + bias wraps too) and on
// sums whose products land near the levels, with multipliers from 2^-40
// to just below 1/2, powers of two whose products end in exact ties,
// and zero points in and far outside the levels, and wants
// QRequant.Value's levels.
func TestQRequant512Extremes(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	const M, H, W = 48, 5, 7
	withQAsm(t, func(t *testing.T) {
		for it := 0; it < 80; it++ {
			C := 8 // segments of whole pairs of groups (one block: two accumulators per row)
			if it%4 >= 2 {
				C = 4 // one group (one block: one accumulator per row)
			}
			wlim := 127
			if it%2 == 1 {
				wlim = 1
			}
			w := randI8(r, M*C, wlim)
			k, err := NewQConvKernel(w, M, C, 1, 1, QExact)
			if err != nil {
				t.Fatal(err)
			}
			bias, zp, lo, hi := make([]int32, M), make([]int32, M), make([]int32, M), make([]int32, M)
			real := make([]float64, M)
			for m := range real {
				switch m % 4 {
				case 0:
					real[m] = math.Pow(2, -40*r.Float64()) * 0.49999
				case 1:
					real[m] = math.Ldexp(1, -2-r.IntN(6)) // ties
				case 2:
					real[m] = 0.4999999
				default:
					real[m] = math.Pow(10, -1-5*r.Float64())
				}
				// Sums near the levels, or anywhere.
				bias[m] = int32(max(min(float64(r.IntN(800)-400)/real[m], math.MaxInt32), math.MinInt32))
				zp[m] = int32(r.IntN(350) - 50)
				if it%5 == 4 {
					bias[m] = int32(r.Uint32())
					zp[m] = int32(r.IntN(1<<21) - 1<<20)
				}
				lo[m] = int32(r.IntN(100))
				hi[m] = lo[m] + int32(r.IntN(256-int(lo[m])))
			}
			req, err := NewQRequant(bias, real, zp, lo, hi)
			if err != nil {
				t.Fatal(err)
			}
			x := randU8(r, H*W*C)
			g := testGeom(H, W, 1, 1, 1, 1, 0)
			want := refConv(QExact, x, C, H, W, w, M, 1, 1, g, 0)
			var s QScratch
			out := QOut{Req: req, U8: make([]uint8, len(want)), ChannelsLast: true}
			k.RunImage(&g, x, true, 0, &s, &out)
			for i, v := range want {
				if lv := req.Value(i%M, v); out.U8[i] != uint8(lv) {
					c := i % M
					t.Fatalf("pixel %d channel %d (acc %d, bias %d, real %g, zp %d, [%d, %d]): level %d, want %d",
						i/M, c, v, bias[c], real[c], zp[c], lo[c], hi[c], out.U8[i], lv)
				}
			}
		}
	})
}

// TestQConvScratchReuse runs images through one scratch, as a layer's
// images of a batch do, changing the image, the zero point, the padding
// and the size between calls, in both layouts: the padding the direct
// path keeps from the image before must be that of the new call.
func TestQConvScratchReuse(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	const C, M = 16, 16
	w := randI8(r, M*C*9, 127)
	withQAsm(t, func(t *testing.T) {
		k, err := NewQConvKernel(w, M, C, 3, 3, QExact)
		if err != nil {
			t.Fatal(err)
		}
		var s QScratch
		steps := []struct{ H, P int }{{6, 1}, {6, 1}, {6, 2}, {6, 1}, {9, 1}, {6, 1}, {6, 0}, {6, 1}}
		for i, st := range steps {
			for _, zp := range []uint8{0, 0, 7, 7, 0} {
				g := testGeom(st.H, st.H, 3, 3, 1, 1, st.P)
				x := randU8(r, st.H*st.H*C)
				want := refConv(QExact, x, C, st.H, st.H, w, M, 3, 3, g, zp)
				cl := i%2 == 0
				out := identityOut(M, len(want), cl)
				xin := x
				if !cl {
					xin = toCHW(x, C, st.H, st.H)
				}
				k.RunImage(&g, xin, cl, zp, &s, &out)
				if msg := accMismatch(out, want, M); msg != "" {
					t.Fatalf("step %d %+v zp %d: %s", i, st, zp, msg)
				}
			}
		}
	})
}

// TestQConvHardSwishFused runs convolutions with the hard-swish output
// stage, which the AVX2 kernels apply to the sums in registers, in both
// models (the saturating kernel, and the exact model on its pair and
// int16-weight kernels), with channel counts that end in a partial
// block (stored through the raw accumulators), output sizes that end in
// every partial tile and sums that reach both clamps, and wants
// QHardSwish.Level of the reference sums.
func TestQConvHardSwishFused(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	cases := []struct {
		C, H, W, M, KH, KW, S, P int
		wlim                     int
	}{
		{16, 7, 7, 16, 1, 1, 1, 0, 127},  // 49 pixels
		{16, 6, 5, 48, 3, 3, 1, 1, 127},  // 30 pixels
		{24, 5, 5, 96, 1, 1, 1, 0, 127},  // 25 pixels
		{40, 3, 3, 40, 1, 1, 1, 0, 127},  // a partial block
		{64, 4, 4, 32, 1, 1, 2, 0, 127},  // 4 pixels
		{16, 7, 6, 16, 1, 1, 1, 0, 1},    // pairs fit: the exact model on VPMADDUBSW
		{1, 28, 28, 16, 3, 3, 1, 1, 127}, // segments of 4 steps
	}
	for _, model := range []QModel{QExact, QSaturating} {
		for _, tc := range cases {
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
				p := QHardSwish{Alpha: 1.0 / 6, Beta: 0.5}
				for c := 0; c < tc.M; c++ {
					p.Bias = append(p.Bias, int32(r.IntN(40000)-20000))
					p.Scale = append(p.Scale, float32(0.00002+0.0001*r.Float64()))
					p.YScale = append(p.YScale, float32(0.01+0.03*r.Float64()))
					z := int32(r.IntN(60))
					p.ZP, p.Lo, p.Hi = append(p.ZP, z), append(p.Lo, int32(r.IntN(int(z)+1))), append(p.Hi, 255-int32(r.IntN(30)))
				}
				hs, err := NewQHardSwish(p, tc.M)
				if err != nil {
					t.Fatal(err)
				}
				var s QScratch
				out := QOut{HSwish: hs, U8: make([]uint8, len(want)), ChannelsLast: true}
				k.RunImage(&g, x, true, zp, &s, &out)
				for i, v := range want {
					if lv := hs.Level(i%tc.M, v); out.U8[i] != lv {
						t.Fatalf("%v %+v: pixel %d channel %d (sum %d): level %d, want %d", model, tc, i/tc.M, i%tc.M, v, out.U8[i], lv)
					}
				}
			})
		}
	}
}

// TestQRequantFusedSaturating is TestQConvRequantized for the saturating
// model, whose AVX2 kernel requantizes in registers too (with the
// float64 rounding where the parameters allow, REQ8 otherwise), on
// extreme multipliers, biases and zero points.
func TestQRequantFusedSaturating(t *testing.T) {
	r := rand.New(rand.NewPCG(63, 64))
	const M, C = 48, 8
	withQAsm(t, func(t *testing.T) {
		for it := 0; it < 40; it++ {
			w := randI8(r, M*C*9, 127)
			k, err := NewQConvKernel(w, M, C, 3, 3, QSaturating)
			if err != nil {
				t.Fatal(err)
			}
			bias, zp, lo, hi := make([]int32, M), make([]int32, M), make([]int32, M), make([]int32, M)
			real := make([]float64, M)
			for m := range real {
				switch m % 4 {
				case 0:
					real[m] = math.Pow(2, -40*r.Float64()) * 0.49999
				case 1:
					real[m] = math.Ldexp(1, -2-r.IntN(6)) // ties
				case 2:
					real[m] = 0.4999999
				default:
					real[m] = math.Pow(10, -1-5*r.Float64())
				}
				bias[m] = int32(max(min(float64(r.IntN(800)-400)/real[m], math.MaxInt32), math.MinInt32))
				zp[m] = int32(r.IntN(350) - 50)
				if it%5 == 4 {
					bias[m] = int32(r.Uint32())
					zp[m] = int32(r.IntN(1<<21) - 1<<20)
				}
				lo[m] = int32(r.IntN(100))
				hi[m] = lo[m] + int32(r.IntN(256-int(lo[m])))
				if it%3 == 2 {
					real[m] = 0.5 + r.Float64() // not fast: REQ8 and the Go stage
				}
			}
			req, err := NewQRequant(bias, real, zp, lo, hi)
			if err != nil {
				t.Fatal(err)
			}
			const H, W = 5, 6
			x := randU8(r, H*W*C)
			for i := range x {
				if i%3 == 0 {
					x[i] = 255 // saturating pairs
				}
			}
			g := testGeom(H, W, 3, 3, 1, 1, 1)
			zpx := uint8(r.IntN(256))
			want := refConv(QSaturating, x, C, H, W, w, M, 3, 3, g, zpx)
			var s QScratch
			out := QOut{Req: req, U8: make([]uint8, len(want)), ChannelsLast: true}
			k.RunImage(&g, x, true, zpx, &s, &out)
			for i, v := range want {
				if lv := req.Value(i%M, v); out.U8[i] != uint8(lv) {
					t.Fatalf("it %d pixel %d channel %d (acc %d): level %d, want %d", it, i/M, i%M, v, out.U8[i], lv)
				}
			}
		}
	})
}

// TestTranspose8x8 checks the word transpose against byte indexing.
func TestTranspose8x8(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var w, orig [8]uint64
	for k := range w {
		w[k] = rng.Uint64()
	}
	orig = w
	Transpose8x8(&w)
	byteOf := func(v uint64, i int) uint8 { return uint8(v >> (8 * i)) }
	for k := range 8 {
		for p := range 8 {
			if got, want := byteOf(w[p], k), byteOf(orig[k], p); got != want {
				t.Fatalf("byte %d of word %d: %#x, want %#x", k, p, got, want)
			}
		}
	}
}
