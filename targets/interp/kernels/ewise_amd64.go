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
