package kernels

// peakLoop is a loop that runs one instruction at the CPU's full
// throughput, for benchmarks that state a kernel's fraction of the peak.
type peakLoop struct {
	name string
	run  func(n int)
	ops  float64 // per iteration; a multiply-add counts two
	unit string
}
