// Package fp16 is the float16 numeric policy of the gpu and vpu targets.
//
// A float16 device computes every non-quantized operation in half
// precision with float32 accumulation, as tensor cores and the VPU's
// SHAVE cores do. The shared runtime computes in float32; this package
// makes its results those of such a device:
//
//   - Lower applies the quantization plan (FakeQuantize simulation,
//     plan.Apply), marks the precision-sensitive subgraphs the device
//     keeps in float32 (below), then rounds every float32 initializer to
//     the nearest half (round half to even) except the tensors the
//     quantizers own — the parameters of FakeQuantize nodes (and of
//     QuantizeLinear and DequantizeLinear in QDQ models) and weights read
//     only by quantizers, which a device stores as int8 — and those the
//     kept nodes read, and reads each float32 graph input through an
//     Identity whose output Policy rounds.
//   - Policy rounds every float32 output of every node to half, except the
//     outputs of quantizers (FakeQuantize, DequantizeLinear): those are
//     int8 values times a scale, exact on the device's integer path; and
//     the outputs of the nodes kept in float32 (KeepAttr). Each kernel
//     accumulates in float32 and its result is rounded once, as a float16
//     device with float32 accumulators stores it.
//
// Quantized operations (fed by FakeQuantize nodes) therefore run with
// exact int8 inputs and weights — FakeQuantize simulation equals int8
// execution with float32 accumulation — and their outputs are stored in
// half, as a device's dequantized int8 kernel outputs are. Values beyond
// the half range (±65504) become ±Inf, as on the device: a model whose
// values exceed it outside the subgraphs below (openWakeWord's
// melspectrogram squares int16-scale audio) overflows.
//
// # Mixed precision
//
// OpenVINO compresses a model to float16 for GPU and VPU but keeps in
// float32 the subgraphs half cannot compute: its pass
// MarkSugraphsToKeepInMixedPrecision (openvinotoolkit/openvino,
// src/common/transformations/src/transformations/fp16_compression/
// mark_subgraphs_to_keep_in_mixed_precision.cpp, with
// common_optimizations/mark_precision_sensitive_shapeof_subgraphs.cpp and
// mark_floatpoint_range.cpp) sets the disable_fp16_compression runtime
// attribute, and ConvertPrecision (keep_precision_sensitive_in_fp32)
// with AlignMixedFP32FP16Types (align_mixed_fp32_fp16_types.cpp) runs
// those nodes in float32 and converts their outputs to f16 for the nodes
// that are not kept. Without it, LayerNorm written out (as PyTorch
// exports it: the openWakeWord heads, transformers) squares deviations
// past 65504 and divides by an infinite variance.
//
// Lower applies the same rules, in OpenVINO's order, to the ONNX
// operators OpenVINO's ONNX frontend turns into the operators the rules
// name, graph by graph (each body of an If, Loop or Scan on its own, as
// OpenVINO marks bodies):
//
//  1. Floating-point Range (MarkFloatingPointRange): a Range with a float
//     output is kept, and so are the Cast, Greater, GreaterOrEqual, Less,
//     LessOrEqual, Reshape, Squeeze and Unsqueeze nodes below it.
//  2. Division by a small eps (MarkDivWithEps): the root of a / (b + eps),
//     a / Max(b, eps), a / Sqrt(b + eps), a / Sqrt(Max(b, eps)),
//     a * Pow(b + eps, z) and a * Pow(Max(b, eps), z), z < 0, where eps is
//     a constant (an initializer or a Constant node, possibly through a
//     Cast) all values of which are at most 2^-14, the smallest normal
//     half; eps 1e-3 is not protected. Reciprocal(x) is Divide(1, x), and
//     LpNormalization (p 1 or 2) is x / (‖x‖ + 0) in the frontend: both
//     match. (OpenVINO checks the signs of z and eps only for f16 and f32
//     constants; Lower checks every numeric type.)
//  3. Exp on a reduction path (MarkExpInReduceOpPath): an Exp from which a
//     path of propagating nodes (below) leads over float edges into a
//     ReduceSum or ReduceMean — softmax written out. ReduceSumSquare,
//     ReduceLogSum and ReduceLogSumExp end such paths too (the frontend
//     builds them on ReduceSum), and ReduceLogSumExp, log(sum(exp(x))),
//     is kept itself.
//  4. Quantized paths (PropagateDownDisableSensitivityForQuantized): a
//     FakeQuantize (pot's simulation node; in a QDQ model a
//     DequantizeLinear, as OpenVINO fuses the pair into one) and the nodes
//     below it through Squeeze, Unsqueeze, Reshape, Flatten, Expand,
//     DepthToSpace, Resize, Upsample, MaxPool, Pad, ReduceMax, ReduceMin,
//     Relu, Transpose, Slice, Split, Concat and Tile are quantized paths,
//     left in half for the int8 kernels.
//  5. Propagation down (PropagateDownMarkToKeepInMixedPrecision), in
//     topological order: a propagating node (Cast excepted) is kept when
//     its first float input that is kept or quantized is kept, and is not
//     kept — even a root of rule 2 — when that input is quantized.
//  6. Propagation up (PropagateUpMarkToKeepInMixedPrecision), in reverse
//     topological order: a propagating node a kept node reads over a
//     float edge is kept (a Cast only when it casts a constant), and so
//     are the float initializers kept nodes read.
//  7. Shape subgraphs (MarkPrecisionSensitiveShapeOfSubgraphs): everything
//     computing a precision-sensitive input — Reshape's shape, Expand's
//     and ConstantOfShape's shape, Tile's repeats, Resize's roi, scales
//     and sizes, Upsample's scales, TopK's k, OneHot's depth, Slice's
//     bounds — up to, not including, the Shape (or Size) nodes.
//
// The propagating nodes (OpenVINO's propagate_through_ops: data movement,
// every BinaryElementwiseArithmetic and UnaryElementwiseArithmetic
// operator, ReduceSum, ReduceMean, MVN, NormalizeL2, Sqrt, Convert,
// constants) are, in ONNX: Squeeze, Unsqueeze, Reshape, Flatten, Expand,
// Slice, Split, Concat, Tile; Add, Sub, Mul, Div, Pow, Max, Min, Mod, Sum,
// Mean; Abs, Acos, Acosh, Asin, Asinh, Atan, Atanh, Ceil, Clip, Cos, Cosh,
// Elu, Erf, Exp, Floor, Gelu, HardSwish, Log, Mish, Neg, Relu, Round,
// Sigmoid, Sign, Sin, Sinh, Softplus, Softsign, Sqrt, Tan, Tanh,
// Reciprocal; ReduceSum, ReduceMean, ReduceSumSquare, ReduceLogSum,
// ReduceLogSumExp; MeanVarianceNormalization, LayerNormalization (MVN,
// Mul, Add in the frontend), LpNormalization; Cast, Constant; Identity
// and Dropout, which the frontend removes. Propagation stops at every
// other operator: Conv, Gemm, MatMul, Softmax, Transpose, Gather,
// ReduceMax, pooling, FakeQuantize. Fused operators (Softmax,
// LayerNormalization, MeanVarianceNormalization) compute in float32
// inside their kernel anyway: the rules only decide how their output is
// stored.
//
// On the openWakeWord heads, each LayerNorm from the first ReduceMean to
// the Relu after it is kept, with its eps, exponent, scale and shift;
// the Gemms run in half and read the Relu's output rounded. In a
// quantized model whose plan quantizes the tensors inside a LayerNorm
// (pot's gpu and vpu hardware configs quantize Sub, Pow, ReduceMean and
// Add inputs), rules 4 and 5 leave those nodes in half, as OpenVINO does.
package fp16
