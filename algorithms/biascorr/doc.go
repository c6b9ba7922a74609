// Package biascorr implements POT's FastBiasCorrection and
// BiasCorrection: after quantization, shift the bias of every
// Conv/Gemm/MatMul with quantized weights so that the mean of its output
// matches the float model's.
//
// FastBiasCorrection feeds each layer's quantized sub-model (input
// quantizer, quantized weights, no bias) a constant input whose channels
// hold the float input's channel means, and sets the bias to the float
// output mean minus what comes out. BiasCorrection measures, layer after
// layer in topological order, the mean output of the whole quantized
// model with the corrections made so far, so that each correction sees
// the error of everything before it.
package biascorr
