//go:build amd64 && !noasm

package gna

import "golang.org/x/sys/cpu"

// hasConvAsm reports whether the GEMM kernel of the fast GnaConv can run
// in assembly: VPMADDWD on 512-bit registers (AVX-512 F and BW, with the
// OS saving their state).
var hasConvAsm = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW

// hasConvVNNI reports whether it can fuse VPMADDWD and VPADDD into
// VPDPWSSD (AVX-512 VNNI).
var hasConvVNNI = hasConvAsm && cpu.X86.HasAVX512VNNI

// convTile is the GEMM kernel in use, chosen from the CPU's features.
var convTile = convTileFor(true)

// convTileFor returns the assembly kernel when on and the CPU has it,
// the Go twin otherwise.
func convTileFor(asm bool) func(a, b []int32, np int, out *[convTileOut]int32) {
	switch {
	case asm && hasConvVNNI:
		return convTileAsmVNNI
	case asm && hasConvAsm:
		return convTileAsmBW
	}
	return convTileGo
}

//go:noescape
func convTile512BW(a, b *int32, np int, out *[convTileOut]int32)

//go:noescape
func convTile512VNNI(a, b *int32, np int, out *[convTileOut]int32)

// convTileAsmBW and convTileAsmVNNI check the slices' lengths and call the
// kernels: a holds np·convTileM·2 words, b np·convTileN, np ≥ 1.
func convTileAsmBW(a, b []int32, np int, out *[convTileOut]int32) {
	_, _ = a[np*convTileM*2-1], b[np*convTileN-1]
	convTile512BW(&a[0], &b[0], np, out)
}

func convTileAsmVNNI(a, b []int32, np int, out *[convTileOut]int32) {
	_, _ = a[np*convTileM*2-1], b[np*convTileN-1]
	convTile512VNNI(&a[0], &b[0], np, out)
}
