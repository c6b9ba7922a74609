package kernels

// Quantize8 quantizes x to 8-bit levels as QuantizeLinear does for one
// scale s and zero point zp: dst[i] = clamp(RoundHalfEven(x[i]/s) + zp,
// lo, hi), NaN giving zp. The quotient is first clamped to [vlo, vhi]:
// the caller passes lo-zp-1 and hi-zp+1, which changes no result, and
// must keep them within ±2^22. dst holds the bytes of uint8 levels, or
// of int8 ones when signed. It does the first len(x)&^7 elements in
// AVX2 and returns how many it did; the caller does the rest with its
// scalar definition.
func Quantize8(dst []uint8, x []float32, signed bool, s, vlo, vhi, zp, lo, hi float32) int {
	return Quantize8NaN(dst, x, signed, s, vlo, vhi, zp, lo, hi, zp)
}

// Quantize8NaN is Quantize8 with NaN giving level nan (an integer within
// the levels' type) instead of zp.
func Quantize8NaN(dst []uint8, x []float32, signed bool, s, vlo, vhi, zp, lo, hi, nan float32) int {
	p := [8]float32{s, vlo, vhi, zp, lo, hi, nan}
	return quantize8Vec(&p, dst[:len(x)], x, signed)
}

// Dequantize8 is DequantizeLinear of 8-bit levels for one zero point and
// scale: y[i] = (float32(x[i]) - zp) * s, x holding the bytes of uint8
// levels, or of int8 ones when signed. It does the first len(x)&^7
// elements in AVX2 and returns how many it did.
func Dequantize8(y []float32, x []uint8, signed bool, zp, s float32) int {
	return dequantize8Vec(y[:len(x)], x, signed, zp, s)
}

// DequantizeT8 is Dequantize8 of channels-last uint8 levels into
// channels-first values: x holds P pixels of C levels each, and
// y[c*P+p] = (float32(x[p*C+c]) - zp)·s. It reports false, having done
// nothing, when it cannot run in assembly (which needs AVX-512 and C a
// multiple of 16); otherwise it does every element, blocks of 16
// channels by 16 pixels in assembly and the last P%16 pixels in Go.
func DequantizeT8(y []float32, x []uint8, P, C int, zp, s float32) bool {
	if !CanDequantizeT8(P, C) || len(x) < P*C || len(y) < P*C {
		return false
	}
	blocks := P / 16
	for c0 := 0; c0 < C; c0 += 16 {
		dequantTVec(y[c0*P:], P, x[c0:], C, blocks, zp, s)
	}
	dequantTGo(y, x, blocks*16, P, C, zp, s)
	return true
}

// CanDequantizeT8 reports whether DequantizeT8 runs for P pixels of C
// channels.
func CanDequantizeT8(P, C int) bool { return C%16 == 0 && P >= 16 && dequantTOn() }

// dequantTGo does DequantizeT8's pixels p0..P-1 in Go: the twin of the
// assembly.
func dequantTGo(y []float32, x []uint8, p0, P, C int, zp, s float32) {
	for c := 0; c < C; c++ {
		for p := p0; p < P; p++ {
			y[c*P+p] = (float32(x[p*C+c]) - zp) * s
		}
	}
}
