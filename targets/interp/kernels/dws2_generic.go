//go:build !amd64 || noasm

package kernels

// dws2Available reports false: DepthwiseS2 has no kernel without
// assembly (NewDepthwiseS2 returns nil).
func dws2Available() bool { return false }

// run is never called without assembly.
func (d *DepthwiseS2) run(w, b []float32, inStride int, c []float32, ld int, bias []float32, chans int) {
	panic("kernels: DepthwiseS2 without its kernel")
}
