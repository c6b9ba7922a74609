//go:build amd64 && !noasm

package kernels

//go:noescape
func maxPairsU8AVX2(dst, src *uint8, n int)

//go:noescape
func maxPairsI8AVX2(dst, src *uint8, n int)

//go:noescape
func maxRowsU8AVX2(dst, a, b *uint8, l, n, lda, ldd int)

//go:noescape
func maxRowsI8AVX2(dst, a, b *uint8, l, n, lda, ldd int)

// maxPairsVec does MaxPairs8's first len(dst)&^15 levels in assembly and
// returns how many it did.
func maxPairsVec(dst, src []uint8, signed bool) int {
	n := len(dst) &^ 15
	if !useQAsm || n == 0 {
		return 0
	}
	_ = src[2*n-1]
	if signed {
		maxPairsI8AVX2(&dst[0], &src[0], n)
	} else {
		maxPairsU8AVX2(&dst[0], &src[0], n)
	}
	return n
}

// maxRowsVec writes max(a[q*lda+j], b[q*lda+j]) to dst[q*ldd+j] for
// q < n, j < l in assembly and returns l·n, or 0 when the assembly does
// not run (or there is nothing to do).
func maxRowsVec(dst, a, b []uint8, l, n, lda, ldd int, signed bool) int {
	if !useQAsm || l <= 0 || n <= 0 {
		return 0
	}
	_, _, _ = dst[(n-1)*ldd+l-1], a[(n-1)*lda+l-1], b[(n-1)*lda+l-1]
	if signed {
		maxRowsI8AVX2(&dst[0], &a[0], &b[0], l, n, lda, ldd)
	} else {
		maxRowsU8AVX2(&dst[0], &a[0], &b[0], l, n, lda, ldd)
	}
	return l * n
}
