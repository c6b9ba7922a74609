//go:build !amd64 || noasm

package kernels

// hasAVX2FMA is false: this build has no assembly.
const hasAVX2FMA = false

// The pure-Go build has no assembly kernels: UseAssembly never selects
// these.
var kernel6Asm, kernel4Asm microKernel = kernel6Go, kernel4Go
