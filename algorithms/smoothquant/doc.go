// Package smoothquant implements SmoothQuant (Xiao et al., "SmoothQuant:
// Accurate and Efficient Post-Training Quantization for Large Language
// Models", ICML 2023, arXiv:2211.10438): activations with outlier
// channels are hard to quantize per tensor, weights are easy, so the
// difficulty is migrated from the activations to the weights by a
// per-channel factor
//
//	s_j = max|X_j|^α / max|W_j|^(1−α)
//
// dividing channel j of the activation X that a MatMul, Gemm or 1×1 Conv
// reads and multiplying row j of its weights, which leaves the float
// model's output unchanged.
//
// A plan cannot edit the graph, so the division is folded into constants
// (tensor updates): X must come from an operation with per-channel
// constants — LayerNorm's final Mul(gamma) and Add(beta) when decomposed,
// a LayerNormalization's scale and bias, a MatMul, Gemm or Conv's output
// channels and bias, through a Relu, or a Mul or Add by a per-channel
// constant — and every reader of X (through Transposes that keep the
// channel axis last; Shape and Size read no values) must be such a layer
// with constant weights, which all get the same s, from the largest of
// their weights. Anything else is skipped, and the report says why.
//
// Run smooths, then runs the base algorithm (DefaultQuantization) through
// the host with the other parameters and the smoothed constants, unless
// smooth_only is set; the host sets it when other algorithms follow
// SmoothQuant in a chain (AlgorithmCapabilities.followed_param), so that
// a configuration listing SmoothQuant then DefaultQuantization quantizes
// once. With alpha_search, each layer's α is the one of alpha_grid whose
// simulated int8 output error (per-tensor activations, per-channel
// weights) on a few calibration samples is least.
//
// DefaultQuantization's smooth_quant_alpha (NNCF's; what pot quantize
// --smooth-quant-alpha sets) runs SmoothQuant, smooth_only, before its
// chain for transformers; given to SmoothQuant among the parameters it
// passes on, it is SmoothQuant's α and is not passed on.
//
// The package imports nothing of pot outside sdk/ and proto/potv1, as a
// third-party plugin would (a test checks it).
package smoothquant
