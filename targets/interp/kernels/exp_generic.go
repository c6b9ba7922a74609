//go:build !amd64 || noasm

package kernels

func expVec(dst, src []float64) int { return 0 }
