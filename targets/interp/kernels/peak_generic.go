//go:build !amd64 || noasm

package kernels

// peakLoops is empty without the assembly kernels.
func peakLoops() []peakLoop { return nil }
