package cpu

import (
	"fmt"
	"strings"

	"golang.org/x/sys/cpu"

	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/ops"
)

// ISA names, the values of the target option "isa".
const (
	ISAVNNI = ops.ISAVNNI
	ISAAVX2 = ops.ISAAVX2
)

// OptionISA is the target option that selects the instruction model.
const OptionISA = "isa"

// DefaultISA is the model of the host CPU: vnni when it has AVX-512 VNNI
// or AVX-VNNI, avx2 otherwise.
func DefaultISA() string {
	if cpu.X86.HasAVX512VNNI || cpu.X86.HasAVXVNNI {
		return ISAVNNI
	}
	return ISAAVX2
}

// ParseISA checks an isa option value; empty means DefaultISA.
func ParseISA(s string) (string, error) {
	switch v := strings.ToLower(strings.TrimSpace(s)); v {
	case "":
		return DefaultISA(), nil
	case ISAVNNI, ISAAVX2:
		return v, nil
	default:
		return "", fmt.Errorf("isa %q: want %s or %s", s, ISAVNNI, ISAAVX2)
	}
}

// KernelISA names the instructions the integer kernels of this process
// run on for an instruction model: "avx512-vnni" (the vnni model on a
// CPU with AVX-512 VNNI), "avx2", or "go" (the pure-Go fallback).
func KernelISA(isa string) string { return kernels.QKernels(isa == ISAVNNI) }
