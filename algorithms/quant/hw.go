package quant

import (
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// HWType is the hardware-config operation type of a node: its op type,
// except that a Conv whose group equals its input and output channel
// count (and is above 1) is a "DepthwiseConv".
//
// A layer normalization, as ONNX's LayerNormalization or decomposed into
// ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div (its first ReduceMean
// stands for it), is a "MeanVarianceNormalization", as OpenVINO's MVN
// that POT saw in their place.
func HWType(x *graph.Index, n *potv1.Node) string {
	if n.GetDomain() == "" && (n.GetOpType() == "LayerNormalization" ||
		n.GetOpType() == "ReduceMean" && decomposedLayerNorm(x, n) != nil) {
		return MVNType
	}
	if n.GetOpType() != "Conv" || n.GetDomain() != "" {
		return n.GetOpType()
	}
	group := graph.AttrInt(n, "group", 1)
	if group <= 1 || len(n.GetInputs()) < 2 {
		return "Conv"
	}
	w := x.Constant(n.GetInputs()[1])
	if w == nil || len(w.GetDims()) < 2 {
		return "Conv"
	}
	out, inPerGroup := w.GetDims()[0], w.GetDims()[1]
	if inPerGroup == 1 && out == group {
		return "DepthwiseConv"
	}
	return "Conv"
}

// Config is a hardware config indexed by op type.
type Config struct {
	HW  *potv1.HardwareConfig
	ops map[string]*potv1.OperationConfig
}

// NewConfig indexes a hardware config.
func NewConfig(hw *potv1.HardwareConfig) *Config {
	c := &Config{HW: hw, ops: map[string]*potv1.OperationConfig{}}
	for _, o := range hw.GetOperations() {
		c.ops[o.GetType()] = o
	}
	return c
}

// Op returns the config of an op type, or nil when the hardware config
// does not list it (never quantized).
func (c *Config) Op(t string) *potv1.OperationConfig { return c.ops[t] }

// Quantizable reports whether an op type has quantizer options.
func (c *Config) Quantizable(t string) bool {
	o := c.ops[t]
	return o != nil && !o.GetAgnostic()
}

// agnostic lists POT's QUANTIZE_AGNOSTIC_OPERATIONS in ONNX names: ops
// quantizers move through whether or not the hardware config lists them.
var agnostic = map[string]bool{
	"MaxPool": true, "GlobalMaxPool": true, "ReduceMax": true, "Reshape": true, "Concat": true, "Flatten": true,
	"Squeeze": true, "Unsqueeze": true, "Split": true, "Transpose": true, "Tile": true, "Slice": true,
	"Expand": true, "Pad": true, "Min": true, "Max": true, "CastLike": true, "Gather": true,
	"DepthToSpace": true, "SpaceToDepth": true, "Identity": true, "Dropout": true,
}

// Agnostic reports whether quantizers pass through an op type.
func (c *Config) Agnostic(t string) bool {
	if o := c.ops[t]; o != nil && o.GetAgnostic() {
		return true
	}
	return agnostic[t]
}

// weighted ops take an activation on input 0 and weights on input 1.
var weighted = map[string]bool{"Conv": true, "DepthwiseConv": true, "ConvTranspose": true, "MatMul": true, "Gemm": true}

// recurrent layers are quantized as POT quantizes OpenVINO's
// sequences: the input X (0) and the initial hidden state (5) as
// activations, the weights W (1) and R (2); the bias, sequence lengths,
// initial cell and peepholes stay float.
var recurrent = map[string]map[int]bool{
	"LSTM": {0: true, 1: true, 2: true, 5: true},
	"GRU":  {0: true, 1: true, 2: true, 5: true},
	"RNN":  {0: true, 1: true, 2: true, 5: true},
}

// firstInputOnly ops are quantized on input 0 only (POT's "quantize
// only input 0" list).
var firstInputOnly = map[string]bool{
	"Pow": true, "AveragePool": true, "GlobalAveragePool": true, "ReduceMean": true, "LpNormalization": true,
	"Resize": true, "Upsample": true, "MeanVarianceNormalization": true, "PRelu": true, "Relu": true,
	"Sigmoid": true, "Tanh": true, "Clip": true, "Log": true, "Abs": true, "Exp": true, "Sign": true,
}

// singleBranch ops pass a quantizer from their output to their input 0
// (POT's FakeQuantizePropagation).
var singleBranch = map[string]bool{
	"MaxPool": true, "GlobalMaxPool": true, "ReduceMax": true, "Reshape": true, "Flatten": true, "Squeeze": true,
	"Unsqueeze": true, "Transpose": true, "Tile": true, "Slice": true, "Expand": true, "DepthToSpace": true,
	"SpaceToDepth": true, "Identity": true, "Dropout": true, "Max": false, "Min": false,
}

// WeightAxis is the output-channel axis of a weighted node's weights, for
// per-channel quantization; -1 when per-channel is not possible.
func WeightAxis(n *potv1.Node, hwType string, rank int) int {
	switch hwType {
	case "Conv", "DepthwiseConv":
		return 0
	case "ConvTranspose":
		if graph.AttrInt(n, "group", 1) == 1 {
			return 1
		}
		return -1
	case "Gemm":
		if graph.AttrInt(n, "transB", 0) == 1 {
			return 0
		}
		return 1
	case "MatMul":
		if rank >= 2 {
			return rank - 1
		}
		return -1
	}
	return -1
}
