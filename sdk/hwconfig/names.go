package hwconfig

import (
	"maps"
	"slices"

	"github.com/potgo/pot/sdk/opset"
)

// DepthwiseConv is the virtual operation type of a depthwise
// convolution: a Conv whose group equals its input and output channels
// (POT's DepthWiseConvolution).
const DepthwiseConv = "DepthwiseConv"

// openVINO maps the operation types of POT's hardware configs
// (OpenVINO's operator names) to the ONNX types pot matches nodes by.
// One OpenVINO type may stand for several ONNX ones: an ONNX Gemm is an
// OpenVINO MatMul, a global pooling a pooling, an Upsample an
// Interpolate. Names that are the same in both (Add, Concat, Reshape,
// Sigmoid, ...) need no entry unless they stand for more.
var openVINO = map[string][]string{
	"Convolution":                  {"Conv"},
	"GroupConvolution":             {"Conv"},
	"DepthWiseConvolution":         {DepthwiseConv},
	"ConvolutionBackpropData":      {"ConvTranspose"},
	"GroupConvolutionBackpropData": {"ConvTranspose"},
	"DeformableConvolution":        {"DeformConv"},
	"MatMul":                       {"MatMul", "Gemm"},
	"Multiply":                     {"Mul"},
	"Subtract":                     {"Sub"},
	"Divide":                       {"Div"},
	"Maximum":                      {"Max"},
	"Minimum":                      {"Min"},
	"LessEqual":                    {"LessOrEqual"},
	"GreaterEqual":                 {"GreaterOrEqual"},
	"FloorMod":                     {"Mod"},
	"LogicalAnd":                   {"And"},
	"LogicalOr":                    {"Or"},
	"LogicalXor":                   {"Xor"},
	"LogicalNot":                   {"Not"},
	"Power":                        {"Pow"},
	"AvgPool":                      {"AveragePool", "GlobalAveragePool"},
	"NormalizeL2":                  {"LpNormalization"},
	"Interpolate":                  {"Resize", "Upsample"},
	"MVN":                          {"MeanVarianceNormalization"},
	"LSTMSequence":                 {"LSTM"},
	"GRUSequence":                  {"GRU"},
	"RNNSequence":                  {"RNN"},
	"ReLU":                         {"Relu"},
	"PReLU":                        {"PRelu"},
	"Clamp":                        {"Clip"},
	"StridedSlice":                 {"Slice"},
	"Crop":                         {"Slice"},
	"VariadicSplit":                {"Split"},
	"Broadcast":                    {"Expand"},
	"Convert":                      {"Cast"},
	"ConvertLike":                  {"CastLike"},
	"SoftSign":                     {"Softsign"},
	"SoftPlus":                     {"Softplus"},
	"HSwish":                       {"HardSwish"},
	"HSigmoid":                     {"HardSigmoid"},
	"Negative":                     {"Neg"},
	"Ceiling":                      {"Ceil"},
	"Select":                       {"Where"},
	"ShapeOf":                      {"Shape"},
}

// noONNX are operation types of POT's configs that have no ONNX
// operator: Parse leaves them out with a warning. Parameter, Result,
// Assign and ReadValue are a graph's inputs, outputs and state (GNA's
// configs quantize them); an ONNX NotEqual is Not(Equal), which the
// configs list; ShuffleChannels is Reshape-Transpose-Reshape in ONNX,
// all three quantization-agnostic already.
var noONNX = map[string]string{
	"Parameter":       "a model input, not an operator in ONNX",
	"Result":          "a model output, not an operator in ONNX",
	"Assign":          "model state, not an operator in ONNX",
	"ReadValue":       "model state, not an operator in ONNX",
	"NotEqual":        "ONNX writes it Not(Equal(...)); Equal and LogicalNot configure those",
	"ShuffleChannels": "ONNX writes it Reshape, Transpose, Reshape, which quantizers pass through",
}

// ONNXTypes returns the ONNX operation types a config's type stands for:
// its mapping when it is an OpenVINO name, itself when it is an ONNX
// operator or DepthwiseConv; ok is false otherwise (dropped types
// included).
func ONNXTypes(t string) (types []string, ok bool) {
	if m, ok := openVINO[t]; ok {
		return m, true
	}
	if t == DepthwiseConv || opset.IsOperator(t) {
		return []string{t}, true
	}
	return nil, false
}

// knownNames are the names a did-you-mean suggests from.
func knownNames() []string {
	names := opset.Operators()
	names = slices.AppendSeq(names, maps.Keys(openVINO))
	names = slices.AppendSeq(names, maps.Keys(noONNX))
	return append(names, DepthwiseConv)
}
