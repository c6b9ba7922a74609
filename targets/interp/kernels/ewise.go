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

// MaxF32 sets dst[i] to the larger of a[i] and b[i], NaN when either is
// NaN (a's NaN when both are), and b[i] when they compare equal (-0 and
// +0): the scalar rule of the Max operator, max(a, b) = a if a is NaN or
// a > b, else b. a and b must be at least as long as dst.
func MaxF32(dst, a, b []float32) { minMax(dst, a, b, 0, true, false) }

// MaxF32VS is MaxF32 with every b[i] = b.
func MaxF32VS(dst, a []float32, b float32) { minMax(dst, a, nil, b, true, false) }

// MaxF32SV is MaxF32 with every a[i] = a.
func MaxF32SV(dst []float32, a float32, b []float32) { minMax(dst, b, nil, a, true, true) }

// MinF32 is MaxF32 for the smaller: min(a, b) = a if a is NaN or a < b,
// else b.
func MinF32(dst, a, b []float32) { minMax(dst, a, b, 0, false, false) }

// MinF32VS is MinF32 with every b[i] = b.
func MinF32VS(dst, a []float32, b float32) { minMax(dst, a, nil, b, false, false) }

// MinF32SV is MinF32 with every a[i] = a.
func MinF32SV(dst []float32, a float32, b []float32) { minMax(dst, b, nil, a, false, true) }

// minMax is the six functions above: x and y the operands of element i
// are a[i] and b[i], or with b nil a[i] and s (s and a[i] when
// scalarFirst); the vector part first, the tail by MaxOf or MinOf.
func minMax(dst, a, b []float32, s float32, isMax, scalarFirst bool) {
	a = a[:len(dst)]
	if b != nil {
		b = b[:len(dst)]
	}
	op := MinOf
	if isMax {
		op = MaxOf
	}
	for i := minMaxVec(dst, a, b, s, isMax, scalarFirst); i < len(dst); i++ {
		switch {
		case b != nil:
			dst[i] = op(a[i], b[i])
		case scalarFirst:
			dst[i] = op(s, a[i])
		default:
			dst[i] = op(a[i], s)
		}
	}
}

// MaxOf is the larger of a and b by the rule of MaxF32.
func MaxOf(a, b float32) float32 {
	if a != a || a > b {
		return a
	}
	return b
}

// MinOf is the smaller of a and b by the rule of MinF32.
func MinOf(a, b float32) float32 {
	if a != a || a < b {
		return a
	}
	return b
}

// LeakyReLUF32 sets dst[i] = alpha·src[i] where src[i] < 0, else src[i]
// (NaN and -0 pass unchanged); dst may be src.
func LeakyReLUF32(dst, src []float32, alpha float32) {
	src = src[:len(dst)]
	for i := leakyReLUVec(dst, src, alpha); i < len(dst); i++ {
		x := src[i]
		if x < 0 {
			x *= alpha
		}
		dst[i] = x
	}
}

// scalarOp is an arithmetic operation of a vector and a scalar; its
// values are the op argument of scalarArithAVX.
type scalarOp int

const (
	saAdd  scalarOp = iota // x + s
	saSub                  // x - s
	saRSub                 // s - x
	saMul                  // x · s
	saDiv                  // x / s
	saRDiv                 // s / x
)

// scalarArith sets dst[i] = src[i] op s for i < len(dst): the vector
// kernel, then the scalar rule for the tail.
func scalarArith(dst, src []float32, s float32, op scalarOp) {
	src = src[:len(dst)]
	i := scalarArithVec(dst, src, s, op)
	switch op {
	case saAdd:
		for ; i < len(dst); i++ {
			dst[i] = src[i] + s
		}
	case saSub:
		for ; i < len(dst); i++ {
			dst[i] = src[i] - s
		}
	case saRSub:
		for ; i < len(dst); i++ {
			dst[i] = s - src[i]
		}
	case saMul:
		for ; i < len(dst); i++ {
			dst[i] = src[i] * s
		}
	case saDiv:
		for ; i < len(dst); i++ {
			dst[i] = src[i] / s
		}
	case saRDiv:
		for ; i < len(dst); i++ {
			dst[i] = s / src[i]
		}
	}
}

// AddF32VS sets dst[i] = a[i] + b for i < len(dst); dst may be a.
func AddF32VS(dst, a []float32, b float32) { scalarArith(dst, a, b, saAdd) }

// AddF32SV sets dst[i] = a + b[i]; dst may be b.
func AddF32SV(dst []float32, a float32, b []float32) { scalarArith(dst, b, a, saAdd) }

// SubF32VS sets dst[i] = a[i] - b; dst may be a.
func SubF32VS(dst, a []float32, b float32) { scalarArith(dst, a, b, saSub) }

// SubF32SV sets dst[i] = a - b[i]; dst may be b.
func SubF32SV(dst []float32, a float32, b []float32) { scalarArith(dst, b, a, saRSub) }

// MulF32VS sets dst[i] = a[i] · b; dst may be a.
func MulF32VS(dst, a []float32, b float32) { scalarArith(dst, a, b, saMul) }

// MulF32SV sets dst[i] = a · b[i]; dst may be b.
func MulF32SV(dst []float32, a float32, b []float32) { scalarArith(dst, b, a, saMul) }

// DivF32VS sets dst[i] = a[i] / b, a true division (not a product by
// the reciprocal); dst may be a.
func DivF32VS(dst, a []float32, b float32) { scalarArith(dst, a, b, saDiv) }

// DivF32SV sets dst[i] = a / b[i]; dst may be b.
func DivF32SV(dst []float32, a float32, b []float32) { scalarArith(dst, b, a, saRDiv) }

// ClipF32 sets dst[i] to src[i] clipped by the rule of the Clip
// operator: lo where src[i] < lo, then hi where the value is above hi
// (so hi wins when lo > hi); NaN stays NaN and a value equal to a bound
// stays itself (-0 at a bound of +0). dst may be src.
func ClipF32(dst, src []float32, lo, hi float32) {
	src = src[:len(dst)]
	for i := clipVec(dst, src, lo, hi); i < len(dst); i++ {
		x := src[i]
		if x < lo {
			x = lo
		}
		if x > hi {
			x = hi
		}
		dst[i] = x
	}
}

// AffineF32 sets dst[i] = src[i]·m + a, the product rounded to float32
// before the sum (never fused, whatever GOAMD64), as batch
// normalization's folded scale and shift; dst may be src.
func AffineF32(dst, src []float32, m, a float32) {
	src = src[:len(dst)]
	for i := affineVec(dst, src, m, a); i < len(dst); i++ {
		dst[i] = float32(src[i]*m) + a
	}
}
