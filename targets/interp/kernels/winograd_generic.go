//go:build !amd64 || noasm

package kernels

// Without assembly Winograd runs its Go twins (winogradAsm reports
// false: hasAVX2FMA is false); these are never called.

func wg4InputAsm(rows *[6][]float32, cs *[6]int, chans, w, n int, dst []float32, ds, ps int) {
	panic("kernels: Winograd row transforms without assembly")
}

func wg4OutputAsm(src []float32, ps, n, w int, y, add *[4][]float32, bias []float32, relu bool, chans, ss, ys int, back bool) {
	panic("kernels: Winograd row transforms without assembly")
}
