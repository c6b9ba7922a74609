package biascorr

import (
	"github.com/potgo/pot/algorithms/quant"
	"github.com/potgo/pot/sdk"
)

// FastAlgorithm is the FastBiasCorrection plugin.
var FastAlgorithm sdk.Algorithm = quant.Plugin[*Report]{
	Name:    "FastBiasCorrection",
	Text:    "Shifts biases so that quantized layers keep the float output means, from one constant-input pass per layer.",
	Compute: Fast,
}

// FullAlgorithm is the BiasCorrection plugin.
var FullAlgorithm sdk.Algorithm = quant.Plugin[*Report]{
	Name:    "BiasCorrection",
	Text:    "Shifts biases layer by layer so that the quantized model's output means match the float model's.",
	Compute: Full,
}
