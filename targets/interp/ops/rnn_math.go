package ops

import "math"

// Float32 exponential, logistic and tanh for the gates of recurrent
// layers, which apply them to every gate of every step: a polynomial
// exponential (Cephes' expf, relative error about 1e-7) instead of the
// float64 math package.

// exp32 is e^x for x in [-87.3, 88.3], the range of normal float32
// results; x beyond it is clamped (the result saturates near 1e-38 and
// 2e38), and NaN stays NaN.
func exp32(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
		// round adds 1.5·2^23, which leaves round(v) in the low
		// mantissa bits of v + round.
		round = 12582912
	)
	x = min(max(x, -87.33654), 88.37626)
	// x = n·ln2 + r, |r| <= ln2/2.
	fn := x*log2e + round
	n := int32(math.Float32bits(fn)) - 0x4B400000
	nf := fn - round
	r := x - nf*ln2hi - nf*ln2lo
	z := r * r
	y := ((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+4.1665795894e-2)*r+1.6666665459e-1)*r + 5.0000001201e-1
	y = y*z + r + 1
	return y * math.Float32frombits(uint32(n+127)<<23)
}

// sigmoid32 sets dst[i] = 1/(1+e^-src[i]).
func sigmoid32(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = 1 / (1 + exp32(-x))
	}
}

// tanh32 sets dst[i] = tanh(src[i]): an odd polynomial near zero, where
// (1-e^-2x)/(1+e^-2x) would cancel, and the exponential elsewhere.
func tanh32(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		a := x
		if a < 0 {
			a = -a
		}
		var t float32
		if a < 0.0625 {
			// Taylor series to x^9: the next term is below 1e-11·a.
			z := a * a
			t = a * (1 + z*(-1.0/3+z*(2.0/15+z*(-17.0/315+z*(62.0/2835)))))
		} else {
			e := exp32(-2 * a)
			t = (1 - e) / (1 + e)
		}
		if x < 0 {
			t = -t
		}
		dst[i] = t
	}
}
