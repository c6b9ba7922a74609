package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/potgo/pot/targets/interp/tensor"
)

func TestFakeQuantizeValues(t *testing.T) {
	// levels 4, scale 0.5, zero point 1: x/s = -2, -0.5, 0.5, 1.5, 2, 10
	// rounds (half to even) to -2, 0, 0, 2, 2, 10; +1 and clamped to
	// [0, 3]: 0, 1, 1, 3, 3, 3; -1 and times out_scale 0.25.
	x := f32s([]int{6}, -1, -0.25, 0.25, 0.75, 1, 5)
	fq := opCall{domain: DomainPot, op: "FakeQuantize", opset: 1, attrs: []*potv1Attr{aInt("levels", 4)}}
	out := fq.mustRun(t, x, tensor.Scalar(float32(0.5)), tensor.Scalar(float32(1)), tensor.Scalar(float32(0.25)))
	checkTensor(t, "y", out[0], []int{6}, floats(-0.25, 0, 0, 0.5, 0.5, 0.5))
}

func TestFakeQuantizePerChannelNegativeAxis(t *testing.T) {
	// Shape (2, 3): channels on the last axis, given as -1.
	x := f32s([]int{2, 3}, 0.4, 0.4, 0.4, -3, 3, 7)
	fq := opCall{domain: DomainPot, op: "FakeQuantize", opset: 1, attrs: []*potv1Attr{aInt("levels", 256), aInt("axis", -1)}}
	scale := f32s([]int{3}, 0.1, 0.2, 1)
	zp := f32s([]int{3}, 0, 128, 2)
	out := fq.mustRun(t, x, scale, zp, scale)
	// Channel 0: 0.4/0.1=4 → 0.4; -3/0.1=-30 → clamped to 0 → 0.
	// Channel 1: 0.4/0.2=2 → 0.4; 3/0.2=15 → 0.2*15=3.
	// Channel 2: 0.4 → 0; 7 → 7.
	want := []float32{0.4, 0.4, 0, 0, 3, 7}
	got := out[0].F32()
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Fatalf("y = %v, want %v", got, want)
		}
	}
}

// TestFakeQuantizeMatchesQDQ checks, on random data with many exact
// rounding ties and out-of-range values, that FakeQuantize equals
// QuantizeLinear followed by DequantizeLinear bit for bit, for uint8 and
// int8, per tensor and per channel, with runtime and constant
// parameters, on one and two threads.
func TestFakeQuantizeMatchesQDQ(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shape := []int{2, 3, 40, 50}
	n := tensor.NumElements(shape)
	for _, signed := range []bool{false, true} {
		for _, perChannel := range []bool{false, true} {
			for _, threads := range []int{1, 2} {
				for _, constParams := range []bool{false, true} {
					c := 1
					if perChannel {
						c = shape[1]
					}
					scale := make([]float32, c)
					zpFQ := make([]float32, c)
					for j := range scale {
						scale[j] = float32(0.001 + rng.Float64()*0.1)
						zpFQ[j] = float32(rng.IntN(256))
					}
					x := make([]float32, n)
					for i := range x {
						ch := 0
						if perChannel {
							ch = (i / (shape[2] * shape[3])) % c
						}
						switch rng.IntN(3) {
						case 0: // exact ties k+0.5 times the scale
							x[i] = (float32(rng.IntN(600)-300) + 0.5) * scale[ch]
						default:
							x[i] = float32(rng.NormFloat64()*200) * scale[ch]
						}
					}
					pshape := []int{}
					if perChannel {
						pshape = []int{c}
					}
					sT := tensor.From(pshape, scale)
					zT := tensor.From(pshape, zpFQ)
					xT := tensor.From(shape, x)

					fq := opCall{domain: DomainPot, op: "FakeQuantize", opset: 1, attrs: []*potv1Attr{aInt("levels", 256)}, threads: threads}
					if constParams {
						fq.consts = []bool{false, true, true, true}
					}
					got := fq.mustRun(t, xT, sT, zT, sT)[0].F32()

					var zpQ *tensor.Tensor
					if signed {
						z := make([]int8, c)
						for j, v := range zpFQ {
							z[j] = int8(int(v) - 128)
						}
						zpQ = tensor.From(pshape, z)
					} else {
						z := make([]uint8, c)
						for j, v := range zpFQ {
							z[j] = uint8(v)
						}
						zpQ = tensor.From(pshape, z)
					}
					q := opCall{op: "QuantizeLinear", opset: 13, threads: threads}.mustRun(t, xT, sT, zpQ)[0]
					// QuantizeLinear itself against a plain reading of its
					// definition.
					qv, _ := q.Float64s()
					zq, _ := zpQ.Float64s()
					lo, hi := 0.0, 255.0
					if signed {
						lo, hi = -128, 127
					}
					for i, v := range x {
						ch := 0
						if perChannel {
							ch = (i / (shape[2] * shape[3])) % c
						}
						ref := math.RoundToEven(float64(v/scale[ch])) + zq[ch]
						if ref = min(max(ref, lo), hi); qv[i] != ref {
							t.Fatalf("QuantizeLinear(%v / %v + %v) = %v, want %v", v, scale[ch], zq[ch], qv[i], ref)
						}
					}
					want := opCall{op: "DequantizeLinear", opset: 13, threads: threads}.mustRun(t, q, sT, zpQ)[0].F32()
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("signed=%v perChannel=%v threads=%d const=%v: element %d (x=%v): FakeQuantize %v, Q+DQ %v",
								signed, perChannel, threads, constParams, i, x[i], got[i], want[i])
						}
					}
				}
			}
		}
	}
}

func TestFakeQuantizeErrors(t *testing.T) {
	x := f32s([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	one := tensor.Scalar(float32(1))
	cases := []struct {
		name  string
		call  opCall
		scale *tensor.Tensor
	}{
		{"levels below 2", opCall{domain: DomainPot, op: "FakeQuantize", opset: 1, attrs: []*potv1Attr{aInt("levels", 1)}}, one},
		{"wrong channel count", opCall{domain: DomainPot, op: "FakeQuantize", opset: 1, attrs: []*potv1Attr{aInt("levels", 256)}}, f32s([]int{2}, 1, 1)},
	}
	for _, c := range cases {
		if _, err := c.call.run(x, c.scale, one, one); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func BenchmarkFakeQuantizePerTensor(b *testing.B) {
	x := make([]float32, 1<<20)
	for i := range x {
		x[i] = float32(i%1000) * 0.01
	}
	xT := tensor.From([]int{1, 16, 256, 256}, x)
	fq := opCall{domain: DomainPot, op: "FakeQuantize", opset: 1, attrs: []*potv1Attr{aInt("levels", 256)}, consts: []bool{false, true, true, true}}
	s := tensor.Scalar(float32(0.05))
	z := tensor.Scalar(float32(3))
	b.SetBytes(int64(len(x) * 4))
	for b.Loop() {
		if _, err := fq.run(xT, s, z, s); err != nil {
			b.Fatal(err)
		}
	}
}
