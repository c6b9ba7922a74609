package opset

// MaxTarget is the newest default opset Upgrade converts to.
const MaxTarget = 13

// MinTarget is the oldest default opset Upgrade converts to.
const MinTarget = 7

// history lists, per operator of the default ONNX domain, the opset
// versions (up to MaxTarget) in which its definition changed — ONNX's
// operator changelog (docs/Changelog.md), as the schemas of ONNX 1.12
// record it. The version of an operator in a model of opset v is the
// greatest entry not above v.
var history = map[string][]int64{
	"Abs": {1, 6, 13}, "Acos": {7}, "Acosh": {9}, "Add": {1, 6, 7, 13}, "And": {1, 7},
	"ArgMax": {1, 11, 12, 13}, "ArgMin": {1, 11, 12, 13}, "Asin": {7}, "Asinh": {9}, "Atan": {7}, "Atanh": {9},
	"AveragePool": {1, 7, 10, 11}, "BatchNormalization": {1, 6, 7, 9}, "BitShift": {11},
	"Cast": {1, 6, 9, 13}, "Ceil": {1, 6, 13}, "Celu": {12}, "Clip": {1, 6, 11, 12, 13}, "Compress": {9, 11},
	"Concat": {1, 4, 11, 13}, "ConcatFromSequence": {11}, "Constant": {1, 9, 11, 12, 13}, "ConstantOfShape": {9},
	"Conv": {1, 11}, "ConvInteger": {10}, "ConvTranspose": {1, 11}, "Cos": {7}, "Cosh": {9}, "CumSum": {11},
	"DepthToSpace": {1, 11, 13}, "DequantizeLinear": {10, 13}, "Det": {11}, "Div": {1, 6, 7, 13},
	"Dropout": {1, 6, 7, 10, 12, 13}, "DynamicQuantizeLinear": {11}, "Einsum": {12}, "Elu": {1, 6},
	"Equal": {1, 7, 11, 13}, "Erf": {9, 13}, "Exp": {1, 6, 13}, "Expand": {8, 13}, "EyeLike": {9},
	"Flatten": {1, 9, 11, 13}, "Floor": {1, 6, 13}, "GRU": {1, 3, 7}, "Gather": {1, 11, 13},
	"GatherElements": {11, 13}, "GatherND": {11, 12, 13}, "Gemm": {1, 6, 7, 9, 11, 13},
	"GlobalAveragePool": {1}, "GlobalLpPool": {1, 2}, "GlobalMaxPool": {1}, "Greater": {1, 7, 9, 13},
	"GreaterOrEqual": {12}, "HardSigmoid": {1, 6}, "Hardmax": {1, 11, 13}, "Identity": {1, 13}, "If": {1, 11, 13},
	"InstanceNormalization": {1, 6}, "IsInf": {10}, "IsNaN": {9, 13}, "LRN": {1, 13}, "LSTM": {1, 7},
	"LeakyRelu": {1, 6}, "Less": {1, 7, 9, 13}, "LessOrEqual": {12}, "Log": {1, 6, 13},
	"LogSoftmax": {1, 11, 13}, "Loop": {1, 11, 13}, "LpNormalization": {1}, "LpPool": {1, 2, 11},
	"MatMul": {1, 9, 13}, "MatMulInteger": {10}, "Max": {1, 6, 8, 12, 13}, "MaxPool": {1, 8, 10, 11, 12},
	"MaxRoiPool": {1}, "MaxUnpool": {9, 11}, "Mean": {1, 6, 8, 13}, "MeanVarianceNormalization": {9, 13},
	"Min": {1, 6, 8, 12, 13}, "Mod": {10, 13}, "Mul": {1, 6, 7, 13}, "Multinomial": {7}, "Neg": {1, 6, 13},
	"NegativeLogLikelihoodLoss": {12, 13}, "NonMaxSuppression": {10, 11}, "NonZero": {9, 13}, "Not": {1},
	"OneHot": {9, 11}, "Or": {1, 7}, "PRelu": {1, 6, 7, 9}, "Pad": {1, 2, 11, 13}, "Pow": {1, 7, 12, 13},
	"QLinearConv": {10}, "QLinearMatMul": {10}, "QuantizeLinear": {10, 13}, "RNN": {1, 7},
	"RandomNormal": {1}, "RandomNormalLike": {1}, "RandomUniform": {1}, "RandomUniformLike": {1},
	"Range": {11}, "Reciprocal": {1, 6, 13}, "ReduceL1": {1, 11, 13}, "ReduceL2": {1, 11, 13},
	"ReduceLogSum": {1, 11, 13}, "ReduceLogSumExp": {1, 11, 13}, "ReduceMax": {1, 11, 12, 13},
	"ReduceMean": {1, 11, 13}, "ReduceMin": {1, 11, 12, 13}, "ReduceProd": {1, 11, 13},
	"ReduceSum": {1, 11, 13}, "ReduceSumSquare": {1, 11, 13}, "Relu": {1, 6, 13}, "Reshape": {1, 5, 13},
	"Resize": {10, 11, 13}, "ReverseSequence": {10}, "RoiAlign": {10}, "Round": {11}, "Scan": {8, 9, 11},
	"Scatter": {9, 11}, "ScatterElements": {11, 13}, "ScatterND": {11, 13}, "Selu": {1, 6},
	"SequenceAt": {11}, "SequenceConstruct": {11}, "SequenceEmpty": {11}, "SequenceErase": {11},
	"SequenceInsert": {11}, "SequenceLength": {11}, "Shape": {1, 13}, "Shrink": {9}, "Sigmoid": {1, 6, 13},
	"Sign": {9, 13}, "Sin": {7}, "Sinh": {9}, "Size": {1, 13}, "Slice": {1, 10, 11, 13},
	"Softmax": {1, 11, 13}, "SoftmaxCrossEntropyLoss": {12, 13}, "Softplus": {1}, "Softsign": {1},
	"SpaceToDepth": {1, 13}, "Split": {1, 2, 11, 13}, "SplitToSequence": {11}, "Sqrt": {1, 6, 13},
	"Squeeze": {1, 11, 13}, "StringNormalizer": {10}, "Sub": {1, 6, 7, 13}, "Sum": {1, 6, 8, 13}, "Tan": {7},
	"Tanh": {1, 6, 13}, "TfIdfVectorizer": {9}, "ThresholdedRelu": {10}, "Tile": {1, 6, 13}, "TopK": {1, 10, 11},
	"Transpose": {1, 13}, "Unique": {11}, "Unsqueeze": {1, 11, 13}, "Upsample": {1, 7, 9, 10}, "Where": {9},
	"Xor": {1, 7},
}

// experimental lists the experimental operators of opsets 1 to 9, which
// opset 10 removed, with what Upgrade does with them from opset 10 on
// ("" when it has no rewrite).
var experimental = map[string]string{
	"ATen": "", "Affine": "", "ConstantFill": "", "Crop": "", "DynamicSlice": "", "GRUUnit": "",
	"GivenTensorFill": "", "ImageScaler": "Mul and Add", "MeanVarianceNormalization": "",
	"ParametricSoftplus": "", "Scale": "", "ScaledTanh": "", "ThresholdedRelu": "ThresholdedRelu-10",
}

// experimentalUntil is the opset that removed the experimental operators.
const experimentalUntil = 10

// versionAt returns the version of op's definition in opset v, or 0 when
// op is not an operator of opset v.
func versionAt(op string, v int64) int64 {
	var since int64
	for _, s := range history[op] {
		if s <= v {
			since = s
		}
	}
	return since
}

// firstVersion returns the opset that introduced op (0 when unknown).
func firstVersion(op string) int64 {
	if h := history[op]; len(h) > 0 {
		return h[0]
	}
	return 0
}

// steps returns the versions of op's definition after cur, up to to.
func steps(op string, cur, to int64) []int64 {
	var out []int64
	for _, s := range history[op] {
		if s > cur && s <= to {
			out = append(out, s)
		}
	}
	return out
}
