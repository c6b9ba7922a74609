// Package cpu is the integer execution of pot's cpu target: it lowers a
// graph with a quantization plan (FakeQuantize nodes) or a QDQ graph
// (QuantizeLinear/DequantizeLinear pairs) to the runtime's integer
// operators, as a deployed int8 CPU kernel library would run it.
//
// A Conv (group 1 or depthwise), Gemm or MatMul whose weights are a
// quantized constant and whose input is a quantized activation — possibly
// through shape-only operators (MaxPool, Flatten, Reshape, Squeeze,
// Unsqueeze, Identity) — becomes QConv or QMatMul: uint8 levels × int8
// weights → int32, int32 bias round(b/(s_x·s_w)), then requantization
// with a fixed-point multiplier straight to the levels of the next
// activation quantizer when the output goes (directly or through Relu or
// Clip) into one, or dequantization to float32 otherwise. A hard-swish
// between the output and the next quantizer (HardSigmoid and Mul, as
// PyTorch exports it) is computed in float32 inside that output stage,
// per element, as a post-op of the requantization; so is a LeakyRelu
// there (as TensorFlow exports have it after a convolution): the levels
// are those the unfused graph (float output, LeakyRelu, QLevels) gives,
// bit for bit, without its float tensors. An element-wise operator with
// constant scalar operands (Max with a constant, as TensorFlow exports
// clamp, Min, Relu, LeakyRelu, Clip, Add, Sub, Mul, Div) from a
// per-tensor quantizer whose levels an integer operator writes into
// another per-tensor quantizer becomes QLut, a 256-entry table from
// input to output levels: the interpreter computes the table once with
// the QDequantize, operator and QLevels kernels the graph would run, so
// it is exact whatever the function (monotone or not, the same grid or
// not). Quantized
// activations that only integer operators read never exist in float;
// the others are dequantized (QDequantize) exactly as the simulation
// computes them.
//
// The ISA option chooses the accumulation: "vnni" is exact int32 (as
// VPDPBUSD), "avx2" sums adjacent products into int16 with saturation
// (VPMADDUBSW), which is what makes POT's saturation_fix necessary, for
// layers whose activations are not centred: with a zero point near 128
// (symmetric signed activations) the pair sums of centred levels fit in
// int16 and avx2 sums exactly too (see ops.QConv). DefaultISA reads the
// host CPU.
package cpu
