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
func convTileFor(asm bool) func(a, b, offs []int32, out *[convTileM * convTileN]int64) {
	switch {
	case asm && hasConvVNNI:
		return convTileAsmVNNI
	case asm && hasConvAsm:
		return convTileAsmBW
	}
	return convTileGo
}

//go:noescape
func convTile512BW(a, b, offs *int32, np int, out *[convTileM * convTileN]int64)

//go:noescape
func convTile512VNNI(a, b, offs *int32, np int, out *[convTileM * convTileN]int64)

// convTileAsmBW and convTileAsmVNNI check the slices' lengths and call the
// kernels: a holds len(offs)·convTileM·2 words, b convTileN from each
// offset, offs at least one, ascending (both paths build them so, and
// the Go twin checks it).
func convTileAsmBW(a, b, offs []int32, out *[convTileM * convTileN]int64) {
	convTileCheck(a, b, offs)
	convTile512BW(&a[0], &b[0], &offs[0], len(offs), out)
}

func convTileAsmVNNI(a, b, offs []int32, out *[convTileM * convTileN]int64) {
	convTileCheck(a, b, offs)
	convTile512VNNI(&a[0], &b[0], &offs[0], len(offs), out)
}

// convTileCheck panics unless the kernel's reads are within a and b.
func convTileCheck(a, b, offs []int32) {
	_ = a[len(offs)*convTileM*2-1]
	_ = b[uint(uint32(offs[0]))] // a negative offset is above any length
	_ = b[uint(uint32(offs[len(offs)-1]))+convTileN-1]
}
