//go:build amd64 && !noasm

package kernels

//go:noescape
func addAVX(dst, a, b *float32, n int)

//go:noescape
func mulAVX(dst, a, b *float32, n int)

//go:noescape
func hardSigmoidAVX(dst, src *float32, n int, alpha, beta float32)

//go:noescape
func hardSwishAVX(dst, src *float32, n int, alpha, beta float32)

func addVec(dst, a, b []float32) int {
	n := len(dst)
	if !hasAVX2FMA || n < 16 {
		return 0
	}
	addAVX(&dst[0], &a[0], &b[0], n)
	return n &^ 15
}

func mulVec(dst, a, b []float32) int {
	n := len(dst)
	if !hasAVX2FMA || n < 16 {
		return 0
	}
	mulAVX(&dst[0], &a[0], &b[0], n)
	return n &^ 15
}

func hardSigmoidVec(dst, src []float32, alpha, beta float32) int {
	n := len(dst)
	if !hasAVX2FMA || n < 16 {
		return 0
	}
	hardSigmoidAVX(&dst[0], &src[0], n, alpha, beta)
	return n &^ 15
}

func hardSwishVec(dst, src []float32, alpha, beta float32) int {
	n := len(dst)
	if !hasAVX2FMA || n < 16 {
		return 0
	}
	hardSwishAVX(&dst[0], &src[0], n, alpha, beta)
	return n &^ 15
}

//go:noescape
func minMaxAVX(dst, a, b *float32, n int, s float32, mode int)

//go:noescape
func leakyReLUAVX(dst, src *float32, n int, alpha float32)

// minMaxAVX modes: bit 0 max (else min); bit 1 b is the scalar s; bit 2
// the scalar is the first operand (a holds the vector operand).
const (
	mmMax         = 1
	mmScalar      = 2
	mmScalarFirst = 4
)

// minMaxVec runs the vector part of MaxF32 and MinF32 and their scalar
// forms: b nil means the scalar s, the first operand when scalarFirst
// (then a holds the second).
func minMaxVec(dst, a, b []float32, s float32, isMax, scalarFirst bool) int {
	n := len(dst)
	if !hasAVX2FMA || n < 8 {
		return 0
	}
	mode := 0
	if isMax {
		mode |= mmMax
	}
	pb := &s
	if b == nil {
		mode |= mmScalar
		if scalarFirst {
			mode |= mmScalarFirst
		}
	} else {
		pb = &b[0]
	}
	minMaxAVX(&dst[0], &a[0], pb, n, s, mode)
	return n &^ 7
}

func leakyReLUVec(dst, src []float32, alpha float32) int {
	n := len(dst)
	if !hasAVX2FMA || n < 8 {
		return 0
	}
	leakyReLUAVX(&dst[0], &src[0], n, alpha)
	return n &^ 7
}

//go:noescape
func scalarArithAVX(dst, src *float32, n int, s float32, op int)

//go:noescape
func clipAVX(dst, src *float32, n int, lo, hi float32)

func scalarArithVec(dst, src []float32, s float32, op scalarOp) int {
	n := len(dst)
	if !hasAVX2FMA || n < 32 {
		return 0
	}
	scalarArithAVX(&dst[0], &src[0], n, s, int(op))
	return n &^ 31
}

func clipVec(dst, src []float32, lo, hi float32) int {
	n := len(dst)
	if !hasAVX2FMA || n < 16 {
		return 0
	}
	clipAVX(&dst[0], &src[0], n, lo, hi)
	return n &^ 15
}

//go:noescape
func affineAVX(dst, src *float32, n int, m, a float32)

func affineVec(dst, src []float32, m, a float32) int {
	n := len(dst)
	if !hasAVX2FMA || n < 32 {
		return 0
	}
	affineAVX(&dst[0], &src[0], n, m, a)
	return n &^ 31
}
