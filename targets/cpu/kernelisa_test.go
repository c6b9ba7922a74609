package cpu

import (
	"runtime"
	"testing"

	xcpu "golang.org/x/sys/cpu"

	"github.com/potgo/pot/targets/interp/kernels"
)

// The cpu target reports the integer kernels it really runs: VPDPBUSD
// for the vnni model where the CPU has AVX-512 VNNI (not "avx2"), the
// AVX2 kernels for the avx2 model, the Go twins when assembly is off.
func TestKernelISAFollowsTheCPU(t *testing.T) {
	if runtime.GOARCH != "amd64" || !kernels.QAccelerated() {
		if got := KernelISA(ISAVNNI); got != "go" {
			t.Errorf("without assembly: %q, want go", got)
		}
		t.Skip("no AVX2 integer kernels on this machine")
	}
	vnni := "avx2"
	if xcpu.X86.HasAVX512F && xcpu.X86.HasAVX512VNNI {
		vnni = "avx512-vnni"
	}
	if got := KernelISA(ISAVNNI); got != vnni {
		t.Errorf("vnni model: %q, want %q", got, vnni)
	}
	if got := KernelISA(ISAAVX2); got != "avx2" {
		t.Errorf("avx2 model: %q, want avx2", got)
	}
	was := kernels.UseQAssembly(false)
	defer kernels.UseQAssembly(was)
	if got := KernelISA(ISAVNNI); got != "go" {
		t.Errorf("assembly off: %q, want go", got)
	}
}
