package opset

import (
	"maps"
	"slices"
)

// later lists the operators of the default ONNX domain that opsets after
// MaxTarget added (ONNX's docs/Changelog.md, opsets 14 to 23), with the
// opset that introduced each. history has the older ones.
var later = map[string]int64{
	"HardSwish": 14, "Trilu": 14,
	"Bernoulli": 15, "CastLike": 15, "Optional": 15, "OptionalGetElement": 15, "OptionalHasElement": 15,
	"GridSample":     16,
	"BlackmanWindow": 17, "DFT": 17, "HammingWindow": 17, "HannWindow": 17, "LayerNormalization": 17,
	"MelWeightMatrix": 17, "STFT": 17, "SequenceMap": 17,
	"BitwiseAnd": 18, "BitwiseNot": 18, "BitwiseOr": 18, "BitwiseXor": 18, "CenterCropPad": 18, "Col2Im": 18,
	"GroupNormalization": 18, "Mish": 18,
	"DeformConv": 19,
	"AffineGrid": 20, "Gelu": 20, "ImageDecoder": 20, "RegexFullMatch": 20, "StringConcat": 20, "StringSplit": 20,
	"Attention": 23, "RMSNormalization": 23, "RotaryEmbedding": 23,
}

// IsOperator reports whether op is an operator type of the default ONNX
// domain in some opset up to 23 (the experimental operators of opsets 1
// to 9 excluded).
func IsOperator(op string) bool {
	if _, ok := history[op]; ok {
		return true
	}
	_, ok := later[op]
	return ok
}

// Operators returns the operator types IsOperator accepts, sorted.
func Operators() []string {
	out := slices.Collect(maps.Keys(history))
	out = slices.AppendSeq(out, maps.Keys(later))
	slices.Sort(out)
	return out
}
