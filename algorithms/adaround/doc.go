// Package adaround implements AdaRound (Nagel, Amjad, van Baalen,
// Louizos, Blankevoort: "Up or Down? Adaptive Rounding for Post-Training
// Quantization", ICML 2020, arXiv:2004.10568) as a pot algorithm plugin.
//
// For each Conv, Gemm and MatMul whose weights the plan quantizes, in
// graph order, it learns whether each weight rounds up or down on its
// quantizer's grid: W̃ = s·(clamp(⌊W/s⌋ + z + h(V), 0, levels−1) − z),
// with the rectified sigmoid h(V) = clip(σ(V)(ζ−γ)+γ, 0, 1), ζ = 1.1,
// γ = −0.1, minimising the layer's output error E‖W̃x̃ − Wx‖² (mean over
// the outputs) plus λ·Σ(1 − |2h(V)−1|^β), β annealed from 20 to 2 after a
// warm-up without the regulariser, with Adam. x is the layer's input in
// the float model; x̃ its input in the quantized model with the rounding
// learned for the layers before (or x, with "input": "float").
//
// The layer is linear in its weights, so the error is a quadratic form
// in W̃ of the inputs' second moments E[x̃x̃ᵀ], E[x̃xᵀ], E[xxᵀ] (K×K per
// group of a grouped convolution): they are computed once per layer
// (gonum's BLAS) from the layer's inputs, which the target computes
// (Host.Infer), and every step costs O·K² whatever the number of
// calibration columns.
//
// The learned weights go into the plan as tensor updates that lie on the
// quantizer's grid, w' = (q − z)·s, so that every consumer of the plan —
// a target's FakeQuantize, the QDQ export, which rounds w'/s — recovers
// the learned level q. With "bias": "layer" (the default) each refined
// layer's bias is set so that its mean output on the calibration columns
// is the float model's (the bias correction DefaultQuantization made for
// nearest rounding does not fit the learned rounding).
//
// With a plan without weight quantizers (pot quantize --algorithm
// AdaRound), it first runs DefaultQuantization through the host with
// the parameters it does not define itself.
//
// The plugin imports nothing of pot outside sdk/ and proto/potv1 (a test
// checks it).
package adaround
