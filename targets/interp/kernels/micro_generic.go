//go:build !amd64 || noasm

package kernels

// hasAVX2FMA and hasAVX512 are false: this build has no assembly.
const hasAVX2FMA, hasAVX512 = false, false

// The pure-Go build has no assembly kernels: UseAssembly never selects
// these.
var kernel6Asm, kernel6AsmZ, kernel4Asm, kernel4AsmZ microKernel = kernel6Go, kernel6Go, kernel4Go, kernel4Go

// Nor the 32-column ones.
var kernel6AsmW, kernel4AsmW microKernel = kernel6WGo, kernel4WGo

// Nor the masked ones.
var kernel6AsmM, kernel4AsmM maskedKernel = kernel6MGo, kernel4MGo

// Nor the 16-column masked ones.
var kernel6AsmV, kernel4AsmV maskedKernelV = kernel6VGo, kernel4VGo

// Nor the 8-column ones.
var kernel6AsmH, kernel4AsmH microKernel = kernel6HGo, kernel4HGo

// Nor the blocks ones.
var kernel6AsmN, kernel4AsmN blocksKernel = kernel6NGo, kernel4NGo

// Nor the column ones.
var kernel6AsmC, kernel4AsmC colsKernel = kernel6CGo, kernel4CGo

// Nor the four-panel one.
var kernel6AsmP4 = kernel6P4Go
