package kernels

import "unsafe"

// Max pooling of 8-bit levels: the horizontal maximum of column pairs
// (a window of width 2 and stride 2) and the element-wise maximum of two
// rows (the rows of a vertical window, or the shifted copies of a row
// that a stride-1 window takes). Integers have no NaN, so the maxima do
// not depend on the order in which they are taken: the assembly and the
// Go twins give the same levels.

// Max8 writes max(a[i], b[i]) to dst[i] for every i < len(dst) (a and b
// at least as long); dst may be a or b.
func Max8[T int8 | uint8](dst, a, b []T) {
	a, b = a[:len(dst)], b[:len(dst)]
	i := maxRowsVec(bytesOf(dst), bytesOf(a), bytesOf(b), len(dst), 1, 0, 0, isSigned[T]())
	for ; i < len(dst); i++ {
		dst[i] = max(a[i], b[i])
	}
}

// MaxPairs8 writes max(src[2i], src[2i+1]) to dst[i] for every
// i < len(dst) (src at least twice as long): a max pool of width 2 and
// stride 2 over rows of even width laid end to end.
func MaxPairs8[T int8 | uint8](dst, src []T) {
	src = src[:2*len(dst)]
	i := maxPairsVec(bytesOf(dst), bytesOf(src), isSigned[T]())
	maxPairsGo(dst[i:], src[2*i:])
}

// MaxRowPairs8 writes the element-wise maximum of rows 2q and 2q+1 of
// src (rows of l levels laid end to end) to row q of dst, for every
// whole row of dst: a max pool of height 2 and stride 2 over planes of
// even height laid end to end. dst and src must not overlap.
func MaxRowPairs8[T int8 | uint8](dst, src []T, l int) {
	if l <= 0 {
		return
	}
	n := len(dst) / l
	if n == 0 {
		return
	}
	src = src[:2*n*l]
	if maxRowsVec(bytesOf(dst), bytesOf(src), bytesOf(src[l:]), l, n, 2*l, l, isSigned[T]()) > 0 {
		return
	}
	maxRowPairsGo(dst[:n*l], src, l)
}

// maxPairsGo is MaxPairs8's Go twin.
func maxPairsGo[T int8 | uint8](dst, src []T) {
	src = src[:2*len(dst)]
	for i := range dst {
		dst[i] = max(src[2*i], src[2*i+1])
	}
}

// maxRowPairsGo is MaxRowPairs8's Go twin (len(dst) a multiple of l).
func maxRowPairsGo[T int8 | uint8](dst, src []T, l int) {
	for q := 0; q < len(dst)/l; q++ {
		d, a, b := dst[q*l:(q+1)*l], src[2*q*l:(2*q+1)*l], src[(2*q+1)*l:(2*q+2)*l]
		for j := range d {
			d[j] = max(a[j], b[j])
		}
	}
}

// isSigned reports whether T is int8.
func isSigned[T int8 | uint8]() bool { return ^T(0) < 0 }

// bytesOf is s's memory as bytes.
func bytesOf[T int8 | uint8](s []T) []uint8 {
	return unsafe.Slice((*uint8)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}
