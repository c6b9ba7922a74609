//go:build amd64 && !noasm

package gna

import "golang.org/x/sys/cpu"

// hasConvBW reports whether the GEMM kernel of the fast GnaConv can run
// VPMADDWD on 512-bit registers (AVX-512 F and BW, with the OS saving
// their state).
var hasConvBW = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW

// hasConvVNNI reports whether it can fuse VPMADDWD and VPADDD into
// VPDPWSSD (AVX-512 VNNI).
var hasConvVNNI = hasConvBW && cpu.X86.HasAVX512VNNI

// hasConvAVX2 reports whether it can run VPMADDWD on 256-bit registers.
var hasConvAVX2 = cpu.X86.HasAVX2

// hasConvAsm reports whether any assembly kernel runs on this CPU.
var hasConvAsm = hasConvBW || hasConvAVX2

// convTile is the GEMM kernel in use, chosen from the CPU's features.
var convTile = convTileFor(true)

// convTileFor returns the assembly kernel when on and the CPU has it,
// the Go twin otherwise.
func convTileFor(asm bool) func(a, b, offs []int32, out *[convTileM * convTileN]int64) {
	switch {
	case asm && hasConvVNNI:
		return convTileAsmVNNI
	case asm && hasConvBW:
		return convTileAsmBW
	case asm && hasConvAVX2:
		return convTileAsmAVX2
	}
	return convTileGo
}

//go:noescape
func convTile512BW(a, b, offs *int32, np int, out *[convTileM * convTileN]int64)

//go:noescape
func convTile512VNNI(a, b, offs *int32, np int, out *[convTileM * convTileN]int64)

//go:noescape
func convTile256(a, b, offs *int32, np int, out *int64)

// convTileAsmBW, convTileAsmVNNI and convTileAsmAVX2 check the slices' lengths and call the
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

// convTileAsmAVX2 runs the tile in four passes of two channels by 16
// pixels, each holding its 8 accumulators in YMM registers: channels
// 2cp and 2cp+1 are at words 4cp.. of each pair's 8 in a, pixels 16v..
// at word 16v from each offset in b, and their sums at out[64cp+16v]
// (channel 2cp) and 32 words on (channel 2cp+1).
func convTileAsmAVX2(a, b, offs []int32, out *[convTileM * convTileN]int64) {
	convTileCheck(a, b, offs)
	for cp := range 2 {
		for v := range 2 {
			convTile256(&a[4*cp], &b[16*v], &offs[0], len(offs), &out[64*cp+16*v])
		}
	}
}

// convTileCheck panics unless the kernel's reads are within a and b.
func convTileCheck(a, b, offs []int32) {
	_ = a[len(offs)*convTileM*2-1]
	_ = b[uint(uint32(offs[0]))] // a negative offset is above any length
	_ = b[uint(uint32(offs[len(offs)-1]))+convTileN-1]
}
