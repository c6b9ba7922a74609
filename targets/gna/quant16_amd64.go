//go:build amd64 && !noasm

package gna

import "golang.org/x/sys/cpu"

//go:noescape
func toInt16AVX2(dst *int16, src *float32, n int, scale, lo, hi float64)

// hasToInt16AVX2 reports whether toInt16s has its AVX2 kernel.
var hasToInt16AVX2 = cpu.X86.HasAVX2 && cpu.X86.HasAVX

// toInt16Vec quantizes the first len(dst)&^7 values with the AVX2
// kernel, when it runs and [lo, hi] lies in int16's range, and returns
// how many it did.
func toInt16Vec(dst []int16, src []float32, scale float64, lo, hi int64) int {
	n := len(dst) &^ 7
	if !useToInt16Asm || n == 0 || lo < -32768 || hi > 32767 || lo > hi {
		return 0
	}
	_ = src[n-1]
	toInt16AVX2(&dst[0], &src[0], n, scale, float64(lo), float64(hi))
	return n
}

//go:noescape
func accToFloatAVX2(dst *float32, acc *int64, n int, bias int64, scale float64)

// accToFloatVec converts the first len(dst)&^3 sums with the AVX2
// kernel, when it runs, and returns how many it did.
func accToFloatVec(dst []float32, acc []int64, bias int64, scale float64) int {
	n := len(dst) &^ 3
	if !useToInt16Asm || n == 0 {
		return 0
	}
	_ = acc[n-1]
	accToFloatAVX2(&dst[0], &acc[0], n, bias, scale)
	return n
}
