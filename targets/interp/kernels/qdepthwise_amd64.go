//go:build amd64 && !noasm

package kernels

import "golang.org/x/sys/cpu"

// hasDW3VNNI reports whether qdw3RowVNNI can run: VPDPBUSD on 512-bit
// registers and VPERMB (AVX-512 VBMI).
var hasDW3VNNI = hasQVNNI && hasQ512 && cpu.X86.HasAVX512VBMI

// qdw3VNNIOn reports whether qdw3RowVNNIVec runs in assembly.
func qdw3VNNIOn() bool { return useQAsm && useQ512 && hasDW3VNNI }

//go:noescape
func qdw3RowVNNI(acc *int32, bs int, x *uint8, npix, rowB int, w *int8, corr *int32, n, M, xstep int, idx *uint8)

// qdw3RowVNNIVec does the first C&^15 channels of dw3RowGo for colB = M
// (w3v: see dw3Interleave) in assembly when it can and returns how many
// it did; x must hold the pixel past the last window (see qdw3RowVNNI).
func qdw3RowVNNIVec(acc []int32, bs int, x []uint8, xstep, npix, rowB int, w3v []int8, M int, corr []int32) int {
	n := M &^ (qNR - 1)
	if !qdw3VNNIOn() || n == 0 || npix <= 0 || len(w3v) < n/qNR*dw3VBlock {
		return 0
	}
	if xstep < M || 2*rowB+(npix-1)*xstep+4*M > len(x) || (n/qNR-1)*bs+npix*qNR > len(acc) || len(corr) < n {
		return 0
	}
	qdw3RowVNNI(&acc[0], bs*4, &x[0], npix, rowB, &w3v[0], &corr[0], n, M, xstep, &dw3Idx[0])
	return n
}

//go:noescape
func qdw3RowVNNIHS(dst *uint8, x *uint8, npix, rowB int, w *int8, corr *int32, n, M, xstep int, idx *uint8, p *float32, alpha, beta float32)

// qdw3RowHSVec is qdw3RowVNNIVec with hs's output stage fused: the
// levels of the first M&^15 channels of pixel p go to dst[p*M:],
// channels-last; corrB is corr plus hs's bias. x must hold dw3Over
// bytes more than qdw3RowVNNIVec's. It returns how many channels it
// did.
func qdw3RowHSVec(dst []uint8, x []uint8, xstep, npix, rowB int, w3v []int8, M int, corrB []int32, hs *QHardSwish) int {
	n := M &^ (qNR - 1)
	if !qdw3VNNIOn() || n == 0 || npix <= 0 || len(w3v) < n/qNR*dw3VBlock || len(hs.vec) < n/qNR*qHSwishBlock {
		return 0
	}
	if xstep < M || 2*rowB+(npix-1)*xstep+4*M+dw3Over > len(x) || (npix-1)*M+n > len(dst) || len(corrB) < n {
		return 0
	}
	qdw3RowVNNIHS(&dst[0], &x[0], npix, rowB, &w3v[0], &corrB[0], n, M, xstep, &dw3Idx[0], &hs.vec[0], hs.Alpha, hs.Beta)
	return n
}
