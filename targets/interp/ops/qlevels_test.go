package ops

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/potgo/pot/targets/interp/tensor"
)

// TestLevelsMatchFakeQuantize: QDequantize(QLevels(x)) equals
// FakeQuantize(x) bit for bit, per tensor and per channel, in both
// layouts, with constant and run-time parameters, on one and two threads.
func TestLevelsMatchFakeQuantize(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	shape := []int{2, 3, 5, 7}
	n := tensor.NumElements(shape)
	for _, perChannel := range []bool{false, true} {
		for _, cl := range []int64{0, 1} {
			for _, threads := range []int{1, 2} {
				for _, constParams := range []bool{false, true} {
					c := 1
					if perChannel {
						c = shape[1]
					}
					scale, zpF, zpI := make([]float32, c), make([]float32, c), make([]int32, c)
					for j := range scale {
						scale[j] = float32(0.01 + rng.Float64()*0.1)
						zpI[j] = int32(rng.IntN(200))
						zpF[j] = float32(zpI[j])
					}
					x := make([]float32, n)
					for i := range x {
						ch := 0
						if perChannel {
							ch = (i / (shape[2] * shape[3])) % c
						}
						x[i] = (float32(rng.IntN(400)-200) + 0.5*float32(rng.IntN(2))) * scale[ch]
					}
					ps := []int{c}
					xt := tensor.From(shape, x)
					fq := opCall{domain: DomainPot, op: "FakeQuantize", opset: 1, attrs: []*potv1Attr{aInt("levels", 201)}}
					want := fq.mustRun(t, xt, tensor.From(ps, scale), tensor.From(ps, zpF), tensor.From(ps, scale))[0].F32()
					consts := []bool{false, constParams, constParams}
					lv := opCall{domain: DomainPot, op: "QLevels", opset: 1, threads: threads, consts: consts,
						attrs: []*potv1Attr{aInt("levels", 201), aInt("channels_last", cl)}}
					q := lv.mustRun(t, xt, tensor.From(ps, scale), tensor.From(ps, zpI))[0]
					if cl == 1 && (q.Shape[1] != shape[2] || q.Shape[3] != shape[1]) {
						t.Fatalf("channels-last levels of shape %v", q.Shape)
					}
					dq := opCall{domain: DomainPot, op: "QDequantize", opset: 1, threads: threads, consts: consts,
						attrs: []*potv1Attr{aInt("channels_last", cl)}}
					got := dq.mustRun(t, q, tensor.From(ps, zpI), tensor.From(ps, scale))[0]
					if !slices.Equal(got.Shape, shape) {
						t.Fatalf("dequantized shape %v, want %v", got.Shape, shape)
					}
					for i, v := range got.F32() {
						if v != want[i] {
							t.Fatalf("per-channel %v channels-last %d: element %d: %g, FakeQuantize %g", perChannel, cl, i, v, want[i])
						}
					}
				}
			}
		}
	}
}

func TestQAddOperator(t *testing.T) {
	// a = (10-8)·0.5 = 1, b = (3-5)·0.25 = -0.5; sum 0.5 / 0.25 = 2, +1 → 3.
	// a = (2-8)·0.5 = -3, b = (9-5)·0.25 = 1; sum -2, clamped by act_min
	// 0 (a fused Relu) → level 1, the zero point.
	s := func(v float32) *tensor.Tensor { return tensor.From([]int{1}, []float32{v}) }
	z := func(v int32) *tensor.Tensor { return tensor.From([]int{1}, []int32{v}) }
	a := tensor.From([]int{1, 2}, []uint8{10, 2})
	b := tensor.From([]int{1, 2}, []uint8{3, 9})
	call := opCall{domain: DomainPot, op: "QAdd", opset: 1, consts: []bool{false, true, true, false, true, true, true, true},
		attrs: []*potv1Attr{aFloat("act_min", 0)}}
	out := call.mustRun(t, a, z(8), s(0.5), b, z(5), s(0.25), s(0.25), z(1))
	checkLevels(t, out[0], []int{1, 2}, 3, 1)
	// Broadcasting in the standard layout: b = (9-5)·0.25 = 1 for both;
	// 1+1 = 2 → 8+1 = 9; -3+1 → 0 → 1.
	bb := tensor.From([]int{1, 1}, []uint8{9})
	out = call.mustRun(t, a, z(8), s(0.5), bb, z(5), s(0.25), s(0.25), z(1))
	checkLevels(t, out[0], []int{1, 2}, 9, 1)
}

func TestQConvRefusals(t *testing.T) {
	w := tensor.From([]int{2, 3, 1, 1}, make([]int8, 6))
	in := []*tensor.Tensor{tensor.From([]int{1, 3, 2, 2}, make([]uint8, 12)), w,
		tensor.From([]int{2}, []int32{0, 0}), tensor.From([]int{1}, []int32{0}), tensor.From([]int{2}, []float32{1, 1})}
	// Weights given at run time: not an integer kernel.
	_, err := opCall{domain: DomainPot, op: "QConv", opset: 1}.run(in...)
	if !IsUnsupported(err) {
		t.Errorf("run-time weights: %v, want unsupported", err)
	}
	// An unknown instruction set.
	_, err = opCall{domain: DomainPot, op: "QConv", opset: 1, consts: []bool{false, true, true, true, true},
		attrs: []*potv1Attr{aString("isa", "sse")}}.run(in...)
	if err == nil || !strings.Contains(err.Error(), "isa") {
		t.Errorf("isa sse: %v", err)
	}
	// Grouped (not depthwise) convolutions.
	g := tensor.From([]int{4, 2, 1, 1}, make([]int8, 8))
	in2 := []*tensor.Tensor{tensor.From([]int{1, 4, 2, 2}, make([]uint8, 16)), g,
		tensor.From([]int{4}, make([]int32, 4)), tensor.From([]int{1}, []int32{0}), tensor.From([]int{4}, []float32{1, 1, 1, 1})}
	_, err = opCall{domain: DomainPot, op: "QConv", opset: 1, consts: []bool{false, true, true, true, true},
		attrs: []*potv1Attr{aInt("group", 2)}}.run(in2...)
	if !IsUnsupported(err) {
		t.Errorf("group 2 of 4 channels: %v, want unsupported", err)
	}
}

func checkLevels(t *testing.T, got *tensor.Tensor, shape []int, want ...uint8) {
	t.Helper()
	d, ok := got.Data.([]uint8)
	if !ok || !slices.Equal(got.Shape, shape) || len(d) != len(want) {
		t.Fatalf("got %v, want uint8 %v", got, shape)
	}
	for i := range want {
		if d[i] != want[i] {
			t.Fatalf("levels %v, want %v", d, want)
		}
	}
}

// TestLevelRowAssembly compares QLevels' contiguous and strided rows in assembly
// (kernels.Quantize8NaN) with the Go definition on values that hit the
// clamps, ties, NaN and infinities.
func TestLevelRowAssembly(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := make([]float32, 1001)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 2)
	}
	for i := 0; i < 100; i++ {
		x[rng.IntN(len(x))] = float32(rng.IntN(81)-40) * 0.025 // ties at scale 0.05
	}
	x[3], x[4], x[9], x[10] = float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), -1e30
	for _, p := range []struct{ s, zp, hi float32 }{{0.05, 128, 255}, {0.01, 0, 255}, {0.05, 3, 200}} {
		b := newQuantizeBand(p.zp, 0, p.hi)
		want := make([]uint8, len(x))
		for i, v := range x {
			want[i] = uint8(b.apply(v / p.s))
		}
		got := make([]uint8, len(x))
		levelRow(got, 1, x, p.s, &b)
		if !slices.Equal(got, want) {
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%+v: x[%d] = %g: level %d, want %d", p, i, x[i], got[i], want[i])
				}
			}
		}
		// A channels-last store: every third byte, in runs of 256.
		strided := make([]uint8, 3*len(x))
		levelRow(strided, 3, x, p.s, &b)
		for i := range x {
			if strided[3*i] != want[i] || strided[3*i+1] != 0 || strided[3*i+2] != 0 {
				t.Fatalf("%+v stride 3: x[%d] = %g: level %d, want %d (bytes between written: %d %d)", p, i, x[i], strided[3*i], want[i], strided[3*i+1], strided[3*i+2])
			}
		}
	}
}

// TestQDequantizeChannelsLastBlocks runs the channels-last QDequantize of
// 16-channel blocks (transposed in registers where the CPU has AVX-512)
// on one and two threads and wants (q - zp)·s at the channels-first
// place of every level.
func TestQDequantizeChannelsLastBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, shape := range [][]int{{3, 7, 7, 64}, {2, 5, 7, 32}, {2, 4, 4, 16}, {1, 3, 3, 16}} {
		N, H, W, C := shape[0], shape[1], shape[2], shape[3]
		x := make([]uint8, N*H*W*C)
		for i := range x {
			x[i] = uint8(rng.IntN(256))
		}
		zp, s := int32(rng.IntN(256)), float32(0.001+rng.Float64()*0.1)
		for _, threads := range []int{1, 2} {
			dq := opCall{domain: DomainPot, op: "QDequantize", opset: 1, threads: threads, consts: []bool{false, true, true},
				attrs: []*potv1Attr{aInt("channels_last", 1)}}
			got := dq.mustRun(t, tensor.From(shape, x), tensor.From([]int{1}, []int32{zp}), tensor.From([]int{1}, []float32{s}))[0]
			if want := []int{N, C, H, W}; !slices.Equal(got.Shape, want) {
				t.Fatalf("shape %v, want %v", got.Shape, want)
			}
			y := got.F32()
			for b := 0; b < N; b++ {
				for p := 0; p < H*W; p++ {
					for c := 0; c < C; c++ {
						want := (float32(x[(b*H*W+p)*C+c]) - float32(zp)) * s
						if v := y[(b*C+c)*H*W+p]; math.Float32bits(v) != math.Float32bits(want) {
							t.Fatalf("%v: sample %d channel %d pixel %d: %g, want %g", shape, b, c, p, v, want)
						}
					}
				}
			}
		}
	}
}

// TestLevelsChannelsLastGroups: channels-last QLevels (8-channel groups
// transposed in words, then single channels) gives the channels-first
// levels moved to the last axis, for channel counts with and without a
// remainder, pixel counts across the 256-pixel runs and not a multiple of
// 8, per tensor and per channel, on one and two threads.
func TestLevelsChannelsLastGroups(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, shape := range [][]int{{2, 8, 3, 5}, {1, 16, 17, 19}, {3, 19, 7, 9}, {1, 24, 300}} {
		for _, perChannel := range []bool{false, true} {
			for _, threads := range []int{1, 2} {
				C := shape[1]
				c := 1
				if perChannel {
					c = C
				}
				scale, zp := make([]float32, c), make([]int32, c)
				for j := range scale {
					scale[j] = float32(0.01 + rng.Float64()*0.1)
					zp[j] = int32(rng.IntN(200))
				}
				x := make([]float32, tensor.NumElements(shape))
				for i := range x {
					x[i] = float32(rng.NormFloat64() * 5)
				}
				xt, ps := tensor.From(shape, x), []int{c}
				run := func(cl int64) *tensor.Tensor {
					lv := opCall{domain: DomainPot, op: "QLevels", opset: 1, threads: threads, consts: []bool{false, true, true},
						attrs: []*potv1Attr{aInt("levels", 256), aInt("channels_last", cl)}}
					return lv.mustRun(t, xt, tensor.From(ps, scale), tensor.From(ps, zp))[0]
				}
				first, last := run(0).Data.([]uint8), run(1).Data.([]uint8)
				inner := tensor.NumElements(shape[2:])
				for b := 0; b < shape[0]; b++ {
					for ch := 0; ch < C; ch++ {
						for i := 0; i < inner; i++ {
							want := first[(b*C+ch)*inner+i]
							if got := last[(b*inner+i)*C+ch]; got != want {
								t.Fatalf("%v per-channel %v threads %d: image %d channel %d pixel %d: %d, want %d", shape, perChannel, threads, b, ch, i, got, want)
							}
						}
					}
				}
			}
		}
	}
}
