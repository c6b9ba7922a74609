// Package hwconfig parses hardware quantization configs in the layout of
// POT's configs/hardware/*.json into the protocol's HardwareConfig, which
// a target publishes and algorithms place quantizers by.
//
// A config names quantizer options by alias ("q8_a", "q8_w_sym") and
// lists, per operator type, the allowed activation, weight and output
// options. Lists inside an alias (mode: [symmetric, asymmetric]) expand
// as a cartesian product in key order; the resulting option order is the
// priority order: first = fastest, last = most accurate. An operator
// without a quantization entry is quantization-agnostic: quantizers move
// through it.
//
// Operation types may be ONNX operator names (pot's built-in configs),
// DepthwiseConv (a Conv with group = input channels = output channels),
// or the OpenVINO names of POT's own configs, which map to ONNX as:
//
//	Convolution, GroupConvolution        → Conv
//	DepthWiseConvolution                 → DepthwiseConv
//	ConvolutionBackpropData,
//	GroupConvolutionBackpropData         → ConvTranspose
//	DeformableConvolution                → DeformConv
//	MatMul                               → MatMul and Gemm
//	Multiply, Subtract, Divide           → Mul, Sub, Div
//	Maximum, Minimum                     → Max, Min
//	LessEqual, GreaterEqual              → LessOrEqual, GreaterOrEqual
//	FloorMod                             → Mod
//	LogicalAnd/Or/Xor/Not                → And/Or/Xor/Not
//	Power                                → Pow
//	AvgPool                              → AveragePool and GlobalAveragePool
//	NormalizeL2                          → LpNormalization
//	Interpolate                          → Resize and Upsample
//	MVN                                  → MeanVarianceNormalization
//	LSTMSequence, GRUSequence,
//	RNNSequence                          → LSTM, GRU, RNN
//	ReLU, PReLU, Clamp                   → Relu, PRelu, Clip
//	StridedSlice, Crop                   → Slice
//	VariadicSplit                        → Split
//	Broadcast                            → Expand
//	Convert, ConvertLike                 → Cast, CastLike
//	SoftSign, SoftPlus                   → Softsign, Softplus
//	HSwish, HSigmoid                     → HardSwish, HardSigmoid
//	Negative, Ceiling, Select, ShapeOf   → Neg, Ceil, Where, Shape
//
// Names both use (Add, Concat, MaxPool, Reshape, Sigmoid, ...) stay.
// Parameter, Result, Assign, ReadValue (a model's inputs, outputs and
// state), NotEqual (Not(Equal) in ONNX, configured by Equal and
// LogicalNot) and ShuffleChannels (Reshape-Transpose-Reshape in ONNX,
// agnostic already) have no ONNX operator: they are left out with a
// warning. Any other name is refused with the nearest known one. When two
// entries configure one ONNX type, the entry naming the type itself wins,
// else the first (with a warning when they differ).
//
// Bits must be ones pot represents (AllowedBits): 2 to 8 (stored in
// (u)int8, 4 bits in (u)int4 from opset 21), 16 ((u)int16) and 32 (GNA's
// accumulators, left in float by QDQ export); 9 to 15 are refused. Level
// bounds, when given, need level_low < level_high within the signed or
// unsigned range of the bits.
package hwconfig
