// Package biascorr implements POT's FastBiasCorrection and
// BiasCorrection: after quantization, shift the bias of every
// Conv/Gemm/MatMul with quantized weights so that the mean of its output
// matches the float model's.
//
// FastBiasCorrection feeds each layer's sub-model (no bias) a constant
// input whose channels hold the float input's channel means, once with
// the layer's quantized weights and once in float, and shifts the bias by
// the difference of the two outputs' channel means: the mean output error
// that weight rounding causes. POT's sub-model also quantizes that
// constant input, which writes the rounding error of one value (up to
// half a step) into the bias, where the rounding errors of real inputs,
// spread over many steps, average to about zero; pot leaves the input
// quantizer out. POT also subtracts the quantized output from the float
// output mean measured on the data, which folds in the error of the
// constant-input approximation itself (zero padding at the borders,
// inputs that are not uniform over space); "fast_bias_reference":
// "statistics" selects POT's formula, input quantizer included. On
// mobilenet_fmnist (cpu, exact arithmetic, 10 000 test images) the share
// of predictions equal to the float model's is, without correction / with
// POT's formula / with pot's: 99.16 / 99.12 / 99.23% with the performance
// preset and 99.28 / 98.62 / 99.38% with mixed.
//
// With weights below 8 bits, FastBiasCorrection also corrects the mean
// after the activation (Relu or hard-swish) that alone reads a layer's
// output: a convex activation turns large rounding noise into a mean
// shift that the next layers inherit (see activationShifts). On vpu with
// 4-bit weights this turns FastBiasCorrection from a loss into a gain:
// resnet_fmnist .9077 without correction, .9069 before, .9129 after;
// mobilenet_fmnist .9148 / .9135 / .9166 on the command line's subset.
//
// BiasCorrection measures, layer after layer in topological order, the
// mean output of the whole quantized model with the corrections made so
// far, so that each correction sees the error of everything before it.
package biascorr
