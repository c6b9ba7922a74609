//go:build !amd64 || noasm

package kernels

const hasF16C = false

func halfToF32F16C(dst *float32, src *uint16, n int) { panic("kernels: no F16C") }

func f32ToHalfF16C(dst *uint16, src *float32, n int) { panic("kernels: no F16C") }
