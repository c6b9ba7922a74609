// Package qdq materializes a quantization plan into a standard QDQ ONNX
// graph: QuantizeLinear/DequantizeLinear pairs on activations, weights
// stored as integers behind a DequantizeLinear (per-axis from opset 13),
// and biases of quantized Conv/Gemm stored as int32 with scale
// input_scale·weight_scale, as ONNX Runtime's quantizer writes them.
// ONNX Runtime, TensorRT and OpenVINO load the result.
//
// Storage types: activations uint8 when their range starts at zero or
// is asymmetric, int8 otherwise; weights int8 (4- and 2-bit weights are
// int8 with the reduced range, or int4 when the model's opset is 21 or
// more), rounded to their levels as the target's quantizers round them
// (WithRounding, from TargetCapabilities.rounding; half to even, as
// ONNX rounds, by default).
package qdq
