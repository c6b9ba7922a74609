package kernels

import "unsafe"

// HalfToF32 converts a prefix of src, IEEE half-precision bits, to
// float32 in dst and returns its length: a multiple of 8, len(src)
// rounded down where the CPU has F16C, else 0. The caller converts the
// rest. The values are bit for bit those of the scalar conversion of
// package tensor (Float16Bits.Float32), NaN payloads included: a
// signalling NaN stays signalling, where VCVTPH2PS alone would quiet it.
// dst holds at least len(src) values.
func HalfToF32[H ~uint16](dst []float32, src []H) int {
	if len(src) < 8 || !hasF16C {
		return 0
	}
	n := len(src) &^ 7
	_ = dst[n-1]
	halfToF32F16C(&dst[0], (*uint16)(unsafe.Pointer(&src[0])), n)
	return n
}

// F32ToHalf rounds a prefix of src to half precision (nearest, ties to
// even) in dst and returns its length, as HalfToF32. The bits are those
// of package tensor's ToFloat16, which turns every NaN into the quiet
// NaN 0x7e00 of its sign, where VCVTPS2PH alone would keep the payload.
func F32ToHalf[H ~uint16](dst []H, src []float32) int {
	if len(src) < 8 || !hasF16C {
		return 0
	}
	n := len(src) &^ 7
	_ = dst[n-1]
	f32ToHalfF16C((*uint16)(unsafe.Pointer(&dst[0])), &src[0], n)
	return n
}
