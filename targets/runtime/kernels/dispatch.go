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
