//go:build !amd64 || noasm

package kernels

// dw3Available reports false: Depthwise3x3 has no kernels without
// assembly (NewDepthwise3x3 returns nil).
func dw3Available() bool { return false }

// run is never called without assembly.
func (d *Depthwise3x3) run(w, b []float32, inStride int, c []float32, ld int, bias []float32, chans int) {
	panic("kernels: Depthwise3x3 without its kernels")
}
