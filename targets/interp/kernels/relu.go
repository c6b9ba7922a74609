package kernels

// ReLU sets dst[i] = max(src[i], 0) for i < len(dst) (src may be dst; it
// must be at least as long). NaN stays NaN. It has no data-dependent
// branches, so it runs at memory speed whatever the signs.
func ReLU(dst, src []float32) {
	src = src[:len(dst)]
	for i := reluVec(dst, src); i < len(dst); i++ {
		x := src[i]
		if !(x < 0) {
			dst[i] = x
		} else {
			dst[i] = 0
		}
	}
}
