//go:build !amd64 || noasm

package kernels

// copyRows copies rows rows of n floats from src (rows srcStride apart)
// to dst (rows dstStride apart).
func copyRows(dst []float32, dstStride int, src []float32, srcStride int, rows, n int) {
	copyRowsGo(dst, dstStride, src, srcStride, rows, n)
}

// depthwiseVec does nothing without assembly.
func depthwiseVec(w, b []float32, offs []int, n int, c []float32, bias float32) int { return 0 }

// reluVec does nothing without assembly.
func reluVec(dst, src []float32) int { return 0 }

// deinterleave2 splits src into its even and odd elements.
func deinterleave2(even, odd, src []float32) { deinterleave2Go(even, odd, src) }

// depthwiseMasked does nothing without assembly.
func depthwiseMasked(w, b []float32, inStride, col int, offs []int, n int, c []float32, ld int, bias []float32, chans int, masks []uint32) bool {
	return false
}

// depthwiseMaskedAVX2 does nothing without assembly.
func depthwiseMaskedAVX2(w, b []float32, inStride, col int, offs []int, n int, c []float32, ld int, bias []float32, chans int, masks []int32, lo, hi int) bool {
	return false
}

// deinterleave2Rows does nothing without assembly.
func deinterleave2Rows(buf []float32, even, odd, dstStride int, src []float32, srcStride, rows, n int) bool {
	return false
}
