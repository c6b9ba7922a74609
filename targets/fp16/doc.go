// Package fp16 is the float16 numeric policy of the gpu and vpu targets.
//
// A float16 device computes every non-quantized operation in half
// precision with float32 accumulation, as tensor cores and the VPU's
// SHAVE cores do. The shared runtime computes in float32; this package
// makes its results those of such a device:
//
//   - Lower applies the quantization plan (FakeQuantize simulation,
//     plan.Apply), then rounds every float32 initializer to the nearest
//     half (round half to even) except the tensors the quantizers own —
//     the parameters of FakeQuantize nodes (and of QuantizeLinear and
//     DequantizeLinear in QDQ models) and weights read only by
//     quantizers, which a device stores as int8 — and reads each float32
//     graph input through an Identity whose output Policy rounds.
//   - Policy rounds every float32 output of every node to half, except the
//     outputs of quantizers (FakeQuantize, DequantizeLinear): those are
//     int8 values times a scale, exact on the device's integer path. Each
//     kernel accumulates in float32 and its result is rounded once, as a
//     float16 device with float32 accumulators stores it.
//
// Quantized operations (fed by FakeQuantize nodes) therefore run with
// exact int8 inputs and weights — FakeQuantize simulation equals int8
// execution with float32 accumulation — and their outputs are stored in
// half, as a device's dequantized int8 kernel outputs are. Values beyond
// the half range (±65504) become ±Inf, as on the device.
package fp16
