package kernels

// Dispatch. Which kernels run is decided once, from the CPU's features
// (read-only facts: hasAVX2FMA, hasAVX512, hasQAVX2, hasQVNNI): the
// assembly kernels when the CPU supports them, the pure-Go twins
// otherwise. Nothing in production changes that choice. UseAssembly and
// UseQAssembly switch it for the tests and benchmarks that run every
// kernel path against its Go twin; TestDispatchSwitchesAreTestOnly
// checks that only _test.go files call them.

// The micro-kernels in use, chosen from the CPU's features when the
// package is initialized.
var (
	kernel6, kernel4   = microKernels(true)
	kernel6w, kernel4w = wideKernels(true)
	kernel6m, kernel4m = maskedKernels(true)
	kernel6v, kernel4v = maskedKernelsV(true)
	kernel6h, kernel4h = halfKernels(true)
	kernel6n, kernel4n = blocksKernels(true)
	kernel6c, kernel4c = colsKernels(true)
	kernel6p           = panelsKernels(true)
	wg4Asm             = winogradAsm(true)
	useAsm             = hasAVX2FMA
)

// wideKernels returns the 32-column micro-kernels (AVX-512 only), or nil
// when the 16-column ones are to be used throughout.
func wideKernels(on bool) (k6, k4 microKernel) {
	if on && hasAVX512 {
		return kernel6AsmW, kernel4AsmW
	}
	return nil, nil
}

// maskedKernels returns the masked 32-column micro-kernels of
// DirectConv (AVX-512 only), or nil when convolutions are to go through
// ConvLayout.Fill instead.
func maskedKernels(on bool) (k6, k4 maskedKernel) {
	if on && hasAVX512 {
		return kernel6AsmM, kernel4AsmM
	}
	return nil, nil
}

// maskedKernelsV returns the masked 16-column micro-kernels of
// DirectConv on CPUs with AVX2 and FMA but not AVX-512, or nil when
// convolutions are to go through ConvLayout.Fill (or the 32-column
// kernels) instead.
func maskedKernelsV(on bool) (k6, k4 maskedKernelV) {
	if on && hasAVX2FMA && !hasAVX512 {
		return kernel6AsmV, kernel4AsmV
	}
	return nil, nil
}

// halfKernels returns the 8-column micro-kernels that compute the last
// 8 or fewer columns of a MulOffsets product on CPUs with AVX2 and FMA
// but not AVX-512 (the same sums as kernel6x16's), or nil when 16-column
// tiles are to compute them.
func halfKernels(on bool) (k6, k4 microKernel) {
	if on && hasAVX2FMA && !hasAVX512 {
		return kernel6AsmH, kernel4AsmH
	}
	return nil, nil
}

// colsKernels returns the AVX2 column kernels that compute the last 4 or
// fewer columns of a MulOffsets product (kernel6x16's sums, transposed),
// on CPUs with AVX2 and FMA but not AVX-512, or nil.
func colsKernels(on bool) (k6, k4 colsKernel) {
	if on && hasAVX2FMA && !hasAVX512 {
		return kernel6AsmC, kernel4AsmC
	}
	return nil, nil
}

// panelsKernels returns the AVX2 kernel computing one column of four
// 6-row panels (with the column kernels), or nil.
func panelsKernels(on bool) panelsKernel {
	if on && hasAVX2FMA && !hasAVX512 {
		return kernel6AsmP4
	}
	return nil
}

// blocksKernels returns the AVX2 micro-kernels that run a panel over
// several 16-column blocks in one call (kernel6x16's sums), on CPUs
// with AVX2 and FMA but not AVX-512, or nil.
func blocksKernels(on bool) (k6, k4 blocksKernel) {
	if on && hasAVX2FMA && !hasAVX512 {
		return kernel6AsmN, kernel4AsmN
	}
	return nil, nil
}

// microKernels returns the GEMM micro-kernels: the assembly ones when on
// and the CPU supports them (512-bit ones with AVX-512), the pure-Go
// twins otherwise.
func microKernels(on bool) (k6, k4 microKernel) {
	switch {
	case on && hasAVX512:
		return kernel6AsmZ, kernel4AsmZ
	case on && hasAVX2FMA:
		return kernel6Asm, kernel4Asm
	}
	return kernel6Go, kernel4Go
}

// Accelerated reports whether the assembly micro-kernels are in use.
func Accelerated() bool { return useAsm }

// UseAssembly switches the GEMM micro-kernels between assembly (when the
// CPU supports it; on 512-bit registers with AVX-512) and the pure-Go
// twins, and returns the previous setting. It is for tests and
// benchmarks that compare the two (only _test.go files call it); it must
// not be called while kernels run.
func UseAssembly(on bool) (was bool) {
	was = useAsm
	kernel6, kernel4 = microKernels(on)
	kernel6w, kernel4w = wideKernels(on)
	kernel6m, kernel4m = maskedKernels(on)
	kernel6v, kernel4v = maskedKernelsV(on)
	kernel6h, kernel4h = halfKernels(on)
	kernel6n, kernel4n = blocksKernels(on)
	kernel6c, kernel4c = colsKernels(on)
	kernel6p = panelsKernels(on)
	wg4Asm = winogradAsm(on)
	useAsm = on && hasAVX2FMA
	return was
}
