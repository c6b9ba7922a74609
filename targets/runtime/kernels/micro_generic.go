//go:build !amd64 || noasm

package kernels

// hasAVX2FMA is false: this build has no assembly.
const hasAVX2FMA = false
