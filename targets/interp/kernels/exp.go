package kernels

import "math"

// ExpF64 sets dst[i] = math.Exp(src[i]) for i < len(dst), bit for bit:
// on amd64 with AVX2 and FMA, four at a time by math.Exp's own method
// (Shibata's, as Go's exp_amd64.s evaluates it with FMA), and through
// math.Exp itself for the arguments whose result is not a normal number
// (below -708 or above 709, and NaN). dst may be src.
func ExpF64(dst, src []float64) {
	src = src[:len(dst)]
	for i := 0; i < len(dst); {
		i += expVec(dst[i:], src[i:])
		// The kernel stops before a group of four it leaves to math.Exp
		// (or at the tail).
		for end := min(i+4, len(dst)); i < end; i++ {
			dst[i] = math.Exp(src[i])
		}
	}
}
