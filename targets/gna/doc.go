// Package gna is the integer emulation behind pot's gna target: Intel's
// Gaussian & Neural Accelerator (GNA 2.0) as POT's GNA hardware config
// describes it, on the shared runtime.
//
// # Execution
//
// Lowering.Lower turns a graph and a quantization plan into the graph GNA
// executes. Without quantizers it is the float model, run in float32, so
// that float and quantized accuracy are measured on the same target. With
// a plan, values keep their float meaning between operations (statistics
// and outputs read as usual) but every quantized operation computes in
// GNA's integers, recovering them exactly from its inputs' grids:
//
//   - activations are int16, weights int16 (int8 where the config allows
//     it: MatMul/Gemm and Mul, the performance preset), biases int32 on
//     the accumulator grid input_step * weight_step;
//   - GnaAffine (Gemm, MatMul) and GnaConv (Conv) accumulate in int32 with
//     saturation (after every AccumulatorBlock products and at the end,
//     as GNA's library kernels saturate per input-buffer chunk);
//     GnaConv's fast path (im2col, or the direct path, and an int16
//     GEMM on VPMADDWD/VPDPWSSD: AVX-512 BW/VNNI, else AVX2) equals its
//     scalar loop bit for bit and runs wherever that is provable
//     (convfast.go);
//   - GnaEltwise computes Add/Sub through int16 multipliers onto one
//     accumulator grid (GNA's diagonal scaling layer) and Mul as the
//     int32 product;
//   - GnaActivation computes Sigmoid, Tanh, Relu, PRelu, Clip, Log, Abs,
//     Exp, Sign and Pow as a piecewise-linear function of the int32 input
//     (the 32-bit quantizer the config puts between an affine layer and
//     its activation) to an int16 output, in GNA's segment format: at
//     most 128 segments, x bases multiple of 4, int16 y bases and slopes,
//     slope shifts of 8, 16, 24 or 32 bits, flooring;
//   - average pooling and ReduceMean round back onto their input's int16
//     grid (GnaRound);
//   - quantizers are fitted to their container: a plan's 16-bit grid of
//     65536 unsigned levels (a sigmoid's [0, 1] output) does not fit
//     int16 and loses its lowest bit; 32-bit quantizers (2^32 levels, more
//     than the runtime's FakeQuantize takes) run as GnaQuantize in
//     float64.
//
// Nodes the plan leaves unquantized run in float32 and are reported
// through Lowering.Warn. Float32 carries the values between operations:
// int16 grid values are exact in it, int32 accumulator values keep 24
// significant bits, far below the int16 resolution that follows.
//
// # Supported operations
//
// Checker refuses, before any work, every node whose operation the GNA
// hardware config does not list (quantizable or quantization-agnostic);
// the engine reports them all with their operation types.
//
// # PWL accuracy
//
// Design chooses the segments: greedy longest segments (each the minimax
// line of its grid points, in integers) under a tolerance, the smallest
// tolerance down to MinTolerance (one output step) that fits in 128
// segments found by bisection; kinks (0 for Relu, Abs, PRelu; Clip's
// bounds) and the points where the function leaves the output range
// start segments. Measured on 2^20 evenly spread int32 inputs plus the
// neighbourhood of every segment start (go test ./targets/gna -run
// TestPWLErrorBounds -v), with an int32 input grid covering ±input and an int16
// output grid covering ±output (one step = output/32767):
//
//	function     input  output   segments  max steps    max abs
//	Sigmoid      ±8     ±1            128       2.06   6.27e-05
//	Sigmoid      ±16    ±1            128       1.87    5.7e-05
//	Tanh         ±4     ±1            128       2.74   8.37e-05
//	Tanh         ±8     ±1            127       2.60   7.94e-05
//	Exp          ±4     ±54.6         126       1.74    0.00289
//	Log          ±16    ±8            128       2.94   0.000719
//	Pow(2)       ±4     ±16           128       2.50    0.00122
//	Pow(0.5)     ±4     ±2            127       1.83   0.000111
//	Relu         ±8     ±8              2       1.00   0.000244
//	PRelu(0.25)  ±8     ±8              2       1.00   0.000244
//	Clip(-1,6)   ±8     ±8              3       1.69   0.000412
//	Abs          ±8     ±8              3       1.94   0.000473
//
// Sign takes three flat segments and is exact except for inputs of 1 to
// 3 grid steps, where GNA's multiple-of-4 segment starts place the jump
// (it gives 0 there, not 1). Errors are against the function clamped to
// the output range; out of domain (Log of x <= 0) the output saturates
// to its lowest value.
package gna
