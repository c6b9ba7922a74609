package kernels

import "testing"

// BenchmarkPeak measures the CPU's peak throughput of 512-bit (and
// 256-bit) FMA and of VPDPBUSD (AVX2: of the VPMADDUBSW, VPMADDWD,
// VPADDD triple), at the clock it runs now: compare a
// kernel's GFLOP/s (GOP/s) of the same sitting with it. A core of the
// Zen 5 machine of issue 17 issues two 512-bit FMAs per cycle (64 flop
// per cycle).
func BenchmarkPeak(b *testing.B) {
	loops := peakLoops()
	if len(loops) == 0 {
		b.Skip("no assembly peak loops for this CPU")
	}
	const n = 1 << 16
	for _, l := range loops {
		b.Run(l.name, func(b *testing.B) {
			for b.Loop() {
				l.run(n)
			}
			b.ReportMetric(l.ops*n*float64(b.N)/b.Elapsed().Seconds()/1e9, l.unit)
		})
	}
}
