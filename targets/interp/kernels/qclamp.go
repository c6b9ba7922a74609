package kernels

// ClampU8 writes min(max(src[i], lo), hi) to dst[i] for every i < len(src)
// (dst at least as long): a QLut whose table is a clamp of the levels,
// as Max or Min with a constant between two quantizers of one grid
// gives. 32 levels per AVX2 instruction pair where the assembly runs.
func ClampU8(dst, src []uint8, lo, hi uint8) {
	dst = dst[:len(src)]
	i := clampU8Vec(dst, src, lo, hi)
	for ; i < len(src); i++ {
		dst[i] = min(max(src[i], lo), hi)
	}
}
