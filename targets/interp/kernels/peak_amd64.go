//go:build amd64 && !noasm

package kernels

// The peak-throughput loops (peak_amd64.s), for benchmarks only: each
// iteration is 12 independent instructions, so n iterations do 12·n
// 512-bit (Z) or 256-bit (Y) FMAs, or 512-bit VPDPBUSDs; maddPeakY's
// iterations are 6 of AVX2's u8×s8 multiply-accumulate triple.

//go:noescape
func fmaPeakZ(n int)

//go:noescape
func fmaPeakY(n int)

//go:noescape
func vnniPeakZ(n int)

//go:noescape
func maddPeakY(n int)

// peakLoops lists the loops this CPU runs: a name, the loop, and the
// operations of one iteration (a multiply-add counts two).
func peakLoops() []peakLoop {
	var loops []peakLoop
	if hasAVX2FMA {
		loops = append(loops, peakLoop{"fma-avx2", fmaPeakY, 12 * 8 * 2, "GFLOP/s"})
	}
	if hasAVX2FMA {
		loops = append(loops, peakLoop{"madd-avx2", maddPeakY, 6 * 32 * 2, "GOP/s"})
	}
	if hasAVX512 {
		loops = append(loops, peakLoop{"fma-avx512", fmaPeakZ, 12 * 16 * 2, "GFLOP/s"})
	}
	if hasQVNNI {
		loops = append(loops, peakLoop{"vpdpbusd-avx512", vnniPeakZ, 12 * 64 * 2, "GOP/s"})
	}
	return loops
}
