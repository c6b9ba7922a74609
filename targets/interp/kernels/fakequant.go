package kernels

// FakeQuantF32 is FakeQuantize's hot loop for one scale and zero point:
//
//	y[i] = (clamp(RoundHalfEven(clamp(x[i]/s, vlo, vhi)) + zp, lo, hi) - zp) · os
//
// with each clamp "below the low bound: the bound, above the high one:
// the bound, else the value", so NaN passes through. The rounding adds
// and subtracts 1.5·2^23, which is exact only for magnitudes below 2^22:
// the caller keeps vlo and vhi within ±2^22 (lo-zp-1 and hi-zp+1 are
// what it passes, which changes no result). Every step is one float32
// operation rounded as in the scalar loop, with no fused multiply-add,
// so the vector path gives the scalar loop's bits. y may be x.
func FakeQuantF32(y, x []float32, s, os, vlo, vhi, zp, lo, hi float32) {
	y = y[:len(x)]
	p := [8]float32{s, os, vlo, vhi, zp, lo, hi}
	for i := fakeQuantVec(&p, y, x); i < len(x); i++ {
		y[i] = fakeQuant(x[i], &p)
	}
}

// fakeQuantMagic is 1.5·2^23: adding and subtracting it rounds a float32
// of magnitude below 2^22 to an integer, ties to even.
const fakeQuantMagic = float32(1 << 23 * 1.5)

// fakeQuant is FakeQuantF32 of one value, p holding s, os, vlo, vhi, zp,
// lo, hi.
func fakeQuant(v float32, p *[8]float32) float32 {
	s, os, vlo, vhi, zp, lo, hi := p[0], p[1], p[2], p[3], p[4], p[5], p[6]
	v /= s
	if v < vlo {
		v = vlo
	} else if v > vhi {
		v = vhi
	}
	r := float32(float32(v+fakeQuantMagic)-fakeQuantMagic) + zp
	if r < lo {
		r = lo
	} else if r > hi {
		r = hi
	}
	return float32(r-zp) * os
}
