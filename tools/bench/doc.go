// Command bench prints issue 17's speed figures as one table, each next
// to its goal with met / not met, from the repository's root (`make
// bench` runs `go run ./tools/bench`):
//
//  1. float inference, pot against ONNX Runtime (pot/ORT ≤ 1.00), each
//     model on each thread count, ms per sample at batch BENCH_BATCH;
//  2. int8 inference (pot's own QDQ file), ORT int8 / pot (≥ 1.50), and
//     pot's speed-up from the first to the second thread count (≥ 1.70)
//     for float and int8, ORT's beside it;
//  3. pot's int8 / float time of mobilenet_fmnist (≤ 0.50);
//  4. `pot quantize` (cpu target, 300 calibration samples) against
//     PyTorch's FX post-training quantization (prepare + calibrate +
//     convert, 300 samples): pot's whole process (and the seconds its
//     --json reports) over torch_ptq.py's quantize_seconds (< 1.00);
//  5. the accuracy-aware search of issue 7 (mobilenet_fmnist, vpu, 4-bit
//     weights, budget 0.0018): seconds (≤ 60), layers reverted, final
//     drop;
//  6. GNA's convolution against the cpu target's float convolution on
//     resnet_fmnist's layers (targets/gna BenchmarkConvVsCPU, ≤ 3.00);
//
// and, for information, the throughput resnet_fmnist's convolutions reach
// on one thread as a fraction of the core's peak (targets/interp/kernels
// BenchmarkPeak: 512-bit FMA for float, VPDPBUSD for int8; on CPUs
// without AVX-512, 256-bit FMA and the VPMADDUBSW triple): the
// convolutions' operations per sample (2·MACs, counted on the float
// model) over pot's whole inference time per sample, so a lower bound on
// the convolution kernels' own rate. Convolutions that run as Winograd's
// F(4×4, 3×3) (with AVX2, "same" 3×3 ones of 16 channels or more) count
// the direct convolution's MACs, 4 times the multiplications they do
// (less the tiles' overhang past the image): for float the figure is a
// direct-equivalent rate, and can pass the peak.
//
// The CPU's model and its avx2, fma, avx512f, avx512_vnni and avx_vnni
// flags head the table. Every figure is the best of BENCH_REPEAT runs,
// pot and its reference alternating in the same sitting.
//
// Environment (all optional):
//
//	POT               the pot binary (bin/pot)
//	POT_BENCH_ORT     folder of ONNX Runtime's runner ort.sh; without it
//	                  the ORT columns are left out
//	POT_BENCH_TORCH   folder of torch_ptq.py; without it goal 4 has no
//	                  PyTorch figure
//	POT_BENCH_PYTHON  the Python with Debian's python3-torch
//	                  (/usr/bin/python3)
//	BENCH_MODELS      models of examples/models (resnet_fmnist
//	                  mobilenet_fmnist)
//	BENCH_THREADS     thread counts (1 2); speed-ups compare the first two
//	BENCH_BATCH       samples per inference (64)
//	BENCH_REPEAT      runs per figure (3)
//	BENCH_DIR         where int8 models and logs go (bin/bench)
//	BENCH_SEARCH      0 skips goal 5 (a minute or more)
//	BENCH_GOBENCH     0 skips the Go benchmarks (goal 6 and peak)
//	GO                the go command (go)
package main
