//go:build amd64 && !noasm

package kernels

import "golang.org/x/sys/cpu"

// hasF16C reports whether the half-precision conversions run in
// assembly (VCVTPH2PS and VCVTPS2PH on YMM registers, AVX2 for the NaN
// fix-ups).
var hasF16C = cpu.X86.HasAVX2 && cpu.X86.HasF16C

// halfToF32F16C converts n halves (a multiple of 8) to float32.
//
//go:noescape
func halfToF32F16C(dst *float32, src *uint16, n int)

// f32ToHalfF16C rounds n float32 (a multiple of 8) to halves.
//
//go:noescape
func f32ToHalfF16C(dst *uint16, src *float32, n int)
