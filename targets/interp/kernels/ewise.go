package kernels

// AddF32 sets dst[i] = a[i] + b[i] for i < len(dst). a and b must be at
// least as long as dst; any of them may alias.
func AddF32(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := addVec(dst, a, b); i < len(dst); i++ {
		dst[i] = a[i] + b[i]
	}
}

// MulF32 sets dst[i] = a[i] · b[i] for i < len(dst).
func MulF32(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := mulVec(dst, a, b); i < len(dst); i++ {
		dst[i] = a[i] * b[i]
	}
}

// HardSigmoidF32 sets dst[i] = min(1, max(0, alpha·src[i] + beta)); NaN
// stays NaN. The vector path rounds alpha·x + beta once (fused
// multiply-add), the scalar tail twice; both are within one float32 ulp
// of the exact value.
func HardSigmoidF32(dst, src []float32, alpha, beta float32) {
	src = src[:len(dst)]
	for i := hardSigmoidVec(dst, src, alpha, beta); i < len(dst); i++ {
		dst[i] = hardSigmoid(src[i], alpha, beta)
	}
}

// hardSigmoid is the scalar HardSigmoid of the tails: alpha·x + beta
// rounded twice, clamped to [0, 1]; NaN stays NaN.
func hardSigmoid(x, alpha, beta float32) float32 {
	v := alpha*x + beta
	if v < 0 {
		return 0
	} else if v > 1 {
		return 1
	}
	return v
}

// HardSwishF32 sets dst[i] = src[i]·HardSigmoid(src[i]), each element as
// HardSigmoidF32 followed by MulF32 computes it at the same position of
// a vector; dst may be src.
func HardSwishF32(dst, src []float32, alpha, beta float32) {
	src = src[:len(dst)]
	for i := hardSwishVec(dst, src, alpha, beta); i < len(dst); i++ {
		dst[i] = src[i] * hardSigmoid(src[i], alpha, beta)
	}
}
