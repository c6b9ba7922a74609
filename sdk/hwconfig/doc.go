// Package hwconfig parses hardware quantization configs in the layout of
// POT's configs/hardware/*.json (with ONNX operator names) into the
// protocol's HardwareConfig, which a target publishes and algorithms
// place quantizers by.
//
// A config names quantizer options by alias ("q8_a", "q8_w_sym") and
// lists, per operator type, the allowed activation, weight and output
// options. Lists inside an alias (mode: [symmetric, asymmetric]) expand
// as a cartesian product in key order; the resulting option order is the
// priority order: first = fastest, last = most accurate. An operator
// without a quantization entry is quantization-agnostic: quantizers move
// through it.
//
// POT's operator names map to ONNX as: Convolution → Conv,
// DepthWiseConvolution → DepthwiseConv (a Conv with group = input
// channels = output channels), ConvolutionBackpropData → ConvTranspose,
// MatMul → MatMul and Gemm, Multiply → Mul, Subtract → Sub, Divide → Div,
// Maximum → Max, Minimum → Min, Power → Pow, AvgPool → AveragePool and
// GlobalAveragePool, NormalizeL2 → LpNormalization, Interpolate → Resize
// and Upsample, MVN → MeanVarianceNormalization, FloorMod → Mod,
// Logical* → And/Or/Xor/Not, StridedSlice → Slice, Broadcast → Expand,
// VariadicSplit → Split, Clamp → Clip, ReLU → Relu.
package hwconfig
