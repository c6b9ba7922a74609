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
