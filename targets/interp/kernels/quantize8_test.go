package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// quantize8Ref is Quantize8's definition, one element.
func quantize8Ref(x, s, vlo, vhi, zp, lo, hi float32) int32 {
	v := x / s
	if v != v {
		return int32(zp)
	}
	v = min(max(v, vlo), vhi)
	return int32(min(max(float32(math.RoundToEven(float64(v)))+zp, lo), hi))
}

// TestQuantize8 checks the assembly against the definition for uint8
// and int8 levels on values that hit every clamp, exact ties, NaN and
// infinities.
func TestQuantize8(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	x := make([]float32, 1003)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 3)
	}
	for i := 0; i < 100; i++ {
		x[r.IntN(len(x))] = float32(r.IntN(41)-20) * 0.05 // ties at scale 0.1
	}
	x[5], x[6], x[7], x[8] = float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e30
	for _, tc := range []struct {
		signed        bool
		s, zp, lo, hi float32
	}{
		{false, 0.1, 128, 0, 255},
		{false, 0.02, 0, 0, 255},
		{false, 0.1, 30, 10, 200},
		{true, 0.1, 0, -128, 127},
		{true, 0.05, -5, -127, 127},
	} {
		dst := make([]uint8, len(x))
		vlo, vhi := tc.lo-tc.zp-1, tc.hi-tc.zp+1
		n := Quantize8(dst, x, tc.signed, tc.s, vlo, vhi, tc.zp, tc.lo, tc.hi)
		if QAccelerated() && n != len(x)&^7 {
			t.Fatalf("%+v: %d elements done in assembly, want %d", tc, n, len(x)&^7)
		}
		for i := 0; i < n; i++ {
			got := int32(dst[i])
			if tc.signed {
				got = int32(int8(dst[i]))
			}
			if want := quantize8Ref(x[i], tc.s, vlo, vhi, tc.zp, tc.lo, tc.hi); got != want {
				t.Fatalf("%+v: x[%d] = %g: level %d, want %d", tc, i, x[i], got, want)
			}
		}
		// NaN giving another level.
		nan := tc.lo + 1
		n = Quantize8NaN(dst, x, tc.signed, tc.s, vlo, vhi, tc.zp, tc.lo, tc.hi, nan)
		for i := 0; i < n; i++ {
			got := int32(dst[i])
			if tc.signed {
				got = int32(int8(dst[i]))
			}
			want := quantize8Ref(x[i], tc.s, vlo, vhi, tc.zp, tc.lo, tc.hi)
			if x[i] != x[i] {
				want = int32(nan)
			}
			if got != want {
				t.Fatalf("%+v NaN level %g: x[%d] = %g: level %d, want %d", tc, nan, i, x[i], got, want)
			}
		}
	}
}

// TestDequantize8 checks the assembly against the definition for every
// uint8 and int8 level.
func TestDequantize8(t *testing.T) {
	x := make([]uint8, 259)
	for i := range x {
		x[i] = uint8(i * 7)
	}
	for _, signed := range []bool{false, true} {
		for _, p := range [][2]float32{{128, 0.0137}, {0, 0.5}, {-3, 1e-3}} {
			y := make([]float32, len(x))
			n := Dequantize8(y, x, signed, p[0], p[1])
			if QAccelerated() && n != len(x)&^7 {
				t.Fatalf("%d elements done in assembly, want %d", n, len(x)&^7)
			}
			for i := 0; i < n; i++ {
				v := float32(x[i])
				if signed {
					v = float32(int8(x[i]))
				}
				if want := (v - p[0]) * p[1]; y[i] != want {
					t.Fatalf("signed %v, zp %g, scale %g: level %g: %g, want %g", signed, p[0], p[1], v, y[i], want)
				}
			}
		}
	}
}

// TestDequantizeT8 compares the transposing assembly with its Go twin
// for pixel counts around whole blocks and several channel counts.
func TestDequantizeT8(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 11))
	for _, C := range []int{16, 32, 64} {
		for _, P := range []int{16, 17, 31, 49, 64, 196} {
			x := randU8(r, P*C)
			zp, s := float32(r.IntN(256)), float32(r.Float64()*0.1)
			want := make([]float32, P*C)
			dequantTGo(want, x, 0, P, C, zp, s)
			got := make([]float32, P*C)
			if !DequantizeT8(got, x, P, C, zp, s) {
				t.Skip("no assembly")
			}
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("C %d P %d: channel %d pixel %d: %g, want %g", C, P, i/P, i%P, got[i], want[i])
				}
			}
		}
	}
	if DequantizeT8(make([]float32, 48*8), make([]uint8, 48*8), 48, 8, 0, 1) {
		t.Error("8 channels done")
	}
}

// TestQDequantChannelMajor compares QDequant's channel-major store (whole
// blocks of 16 rows transposed in registers where the CPU has AVX-512,
// of 8 with AVX2)
// with float32(acc + bias)·scale, bit for bit, on accumulators of every
// magnitude (conversions that round) and random biases and scales.
func TestQDequantChannelMajor(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 13))
	const M = 48
	bias, scale := make([]int32, M), make([]float32, M)
	for c := range bias {
		bias[c] = int32(r.Uint32()) >> uint(r.IntN(32))
		scale[c] = float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(8)-6)))
	}
	q := &QDequant{Bias: bias, Scale: scale}
	for _, rows := range []int{7, 8, 9, 15, 16, 37, 64} {
		const pixels = 100
		acc := make([]int32, rows*qNR)
		for i := range acc {
			acc[i] = int32(r.Uint32()) >> uint(r.IntN(32))
		}
		for c0 := 0; c0 < M; c0 += qNR {
			dst := make([]float32, M*pixels)
			const pixel = 3
			q.storeRows(acc, rows, c0, qNR, dst, c0*pixels+pixel, 1, pixels)
			for row := 0; row < rows; row++ {
				for i := 0; i < qNR; i++ {
					want := float32(acc[row*qNR+i]+bias[c0+i]) * scale[c0+i]
					if got := dst[(c0+i)*pixels+pixel+row]; math.Float32bits(got) != math.Float32bits(want) {
						t.Fatalf("rows %d channel %d row %d: %g, want %g", rows, c0+i, row, got, want)
					}
				}
			}
		}
	}
}
