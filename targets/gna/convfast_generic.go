//go:build !amd64 || noasm

package gna

// hasConvAsm is false: this build has no assembly, and GnaConv runs the
// twin (the fast path on convTileGo is for tests).
const hasConvAsm = false

// convTile is the GEMM kernel: its Go twin.
var convTile = convTileGo

// No assembly kernels: the tests skip them.
var convTileAsmBW, convTileAsmVNNI, convTileAsmAVX2 func(a, b, offs []int32, out *[convTileM * convTileN]int64)

const (
	hasConvVNNI = false
	hasConvBW   = false
	hasConvAVX2 = false
)
