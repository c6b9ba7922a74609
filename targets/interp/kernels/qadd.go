package kernels

import "math"

// QAdd adds two tensors of uint8 levels and quantizes the sum to the
// levels of a third quantizer, in float32 exactly as the FakeQuantize
// simulation computes it (dequantize, add, fused Relu/Clip, divide by the
// scale, round half to even, clamp), so that the result matches the
// simulation bit for bit while reading and writing bytes.
type QAdd struct {
	// p holds the parameters as float32 (the integers are exact):
	// za, sa, zb, sb, actLo, actHi, sy, vlo, vhi, zy, lo, hi.
	p [12]float32
	// z holds the 512-bit kernel's: za, sa, zb, sb, sy, L, H, zy, with
	// the clamps folded into one of the quotient v = sum/sy, to [L, H]:
	// L = max(actLo/sy, lo-zy), H = min(actHi/sy, hi-zy). Division by sy
	// > 0 is monotonic, so clamping the sum to [actLo, actHi] before it
	// is clamping v to [actLo/sy, actHi/sy] after it (each bound rounded
	// as the quotient is); and the levels saturate at lo below lo-zy and
	// at hi above hi-zy (integers, which RoundHalfEven keeps), so
	// clamping v there leaves no level to clamp. When the two ranges do
	// not meet, every sum gives the level at the end of the levels it is
	// beyond, and L = H is that bound.
	z [8]float32
}

// NewQAdd prepares a sum: inputs with zero points za, zb and scales sa,
// sb; the sum is clamped to [actLo, actHi] (±Inf when there is no fused
// activation) and quantized with scale sy and zero point zy onto levels
// [lo, hi].
func NewQAdd(za, zb int32, sa, sb float32, actLo, actHi float32, sy float32, zy, lo, hi int32) *QAdd {
	q := &QAdd{}
	q.p = [12]float32{float32(za), sa, float32(zb), sb, actLo, actHi, sy,
		float32(lo - zy - 1), float32(hi - zy + 1), float32(zy), float32(lo), float32(hi)}
	vlo, vhi := float32(lo-zy), float32(hi-zy)
	L, H := max(actLo/sy, vlo), min(actHi/sy, vhi)
	switch {
	case H < vlo: // every sum below the levels
		L, H = vlo, vlo
	case L > vhi: // every sum above
		L, H = vhi, vhi
	}
	q.z = [8]float32{float32(za), sa, float32(zb), sb, sy, L, H, float32(zy)}
	return q
}

// Value is the level of the sum of levels a and b.
func (q *QAdd) Value(a, b uint8) uint8 {
	p := &q.p
	s := (float32(a)-p[0])*p[1] + (float32(b)-p[2])*p[3]
	if s < p[4] {
		s = p[4]
	}
	if s > p[5] {
		s = p[5]
	}
	v := s / p[6]
	if v < p[7] {
		v = p[7]
	} else if v > p[8] {
		v = p[8]
	}
	r := float32(math.RoundToEven(float64(v))) + p[9]
	return uint8(min(max(r, p[10]), p[11]))
}

// Row writes the levels of a[i] + b[i] to dst[i] for i < len(dst).
func (q *QAdd) Row(dst, a, b []uint8) {
	n := len(dst)
	a, b = a[:n], b[:n]
	done := qAddVec(q, dst, a, b)
	for i := done; i < n; i++ {
		dst[i] = q.Value(a[i], b[i])
	}
}
