// Package overflow implements POT's OverflowCorrection, which
// DefaultQuantization runs on GNA after the ranges are set.
//
// GNA accumulates a weighted layer's products in a saturating int32 on
// the grid input_step · weight_step. With 16-bit inputs and 16-bit
// weights that grid is so fine that a layer's largest output,
// max|y| / (input_step · weight_step) accumulator units, can pass
// INT32_MAX: the accumulator saturates and the layer's output is
// clipped. For every Conv, ConvTranspose, Gemm and MatMul whose weight
// quantizer has more than 255 levels (16-bit; 8-bit weights cannot
// overflow this way), Correct measures max|y| — the absolute maximum of
// the layer's float output, after its bias, over the calibration subset,
// through the host — and, when the quantity above exceeds INT32_MAX by
// a factor r, divides the weights by r (a tensor update) and multiplies
// the weight quantizer's output range by r. The quantized weights then
// use fewer levels, their grid step grows by r and the largest output
// fits the accumulator again; the dequantized weights are unchanged.
//
// The input step is the largest step of the activation quantizers the
// layer reads (found through the quantizers' consumers, or up the graph
// through operations without weights), the weight step the largest
// channel step of its weight quantizer, both from output ranges:
// (output_high - output_low) / (levels - 1).
package overflow
