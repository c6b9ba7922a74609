package kernels

// The micro-kernels in use: assembly when the CPU supports it (set by an
// init function of the assembly build), the pure-Go twins otherwise.
var (
	kernel6 microKernel = kernel6Go
	kernel4 microKernel = kernel4Go
	useAsm  bool
)

// Accelerated reports whether the assembly micro-kernels are in use.
func Accelerated() bool { return useAsm }

// UseAssembly switches the GEMM micro-kernels between assembly (when the
// CPU supports it; on 512-bit registers with AVX-512)
// and the pure-Go twins, and returns the previous setting. It exists for
// benchmarks and tests that compare the two; it must not be called while
// kernels run.
func UseAssembly(on bool) (was bool) {
	was = useAsm
	if on && hasAVX2FMA {
		kernel6, kernel4, useAsm = kernel6Asm, kernel4Asm, true
		if hasAVX512 {
			kernel6, kernel4 = kernel6AsmZ, kernel4AsmZ
		}
	} else {
		kernel6, kernel4, useAsm = kernel6Go, kernel4Go, false
	}
	return was
}
