package opset

import (
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// value is what Upgrade knows of a tensor: its element type (UNDEFINED
// when unknown) and rank (-1 when unknown). Some adapters need them: the
// legacy broadcast axis needs the ranks of both inputs, and constants
// that become inputs (Clip's min and max, Pad's value) take the element
// type of the data.
type value struct {
	dt   potv1.DataType
	rank int
}

var unknown = value{rank: -1}

// sameAsInput lists operators whose first output has the element type and
// rank of their first input.
var sameAsInput = setOf(
	"Abs", "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "AveragePool", "BatchNormalization", "Ceil", "Celu",
	"Clip", "Concat", "Conv", "ConvTranspose", "Cos", "Cosh", "CumSum", "DepthToSpace", "Dropout", "Elu", "Erf",
	"Exp", "Floor", "GlobalAveragePool", "GlobalLpPool", "GlobalMaxPool", "HardSigmoid", "Hardmax", "Identity",
	"InstanceNormalization", "LRN", "LeakyRelu", "Log", "LogSoftmax", "LpNormalization", "LpPool", "MaxPool",
	"MeanVarianceNormalization", "Neg", "PRelu", "Pad", "Reciprocal", "Relu", "Resize", "ReverseSequence", "Round",
	"Scatter", "ScatterElements", "ScatterND", "Selu", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh", "Slice",
	"Softmax", "Softplus", "Softsign", "SpaceToDepth", "Split", "Sqrt", "Tan", "Tanh", "ThresholdedRelu", "Tile",
	"TopK", "Transpose", "Upsample", "ImageScaler",
)

// broadcasting lists the multidirectionally broadcasting operators: the
// output's rank is the greatest rank of the inputs.
var broadcasting = setOf("Add", "Sub", "Mul", "Div", "Pow", "Mod", "BitShift", "Max", "Min", "Mean", "Sum",
	"And", "Or", "Xor", "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "Where")

var logical = setOf("And", "Or", "Xor", "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "Not",
	"IsNaN", "IsInf")

var reductions = setOf("ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean",
	"ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare", "ArgMax", "ArgMin")

func setOf(s ...string) map[string]bool {
	m := make(map[string]bool, len(s))
	for _, x := range s {
		m[x] = true
	}
	return m
}

const (
	dtFloat = potv1.DataType_DATA_TYPE_FLOAT
	dtInt64 = potv1.DataType_DATA_TYPE_INT64
	dtBool  = potv1.DataType_DATA_TYPE_BOOL
	dtUint8 = potv1.DataType_DATA_TYPE_UINT8
	dtInt32 = potv1.DataType_DATA_TYPE_INT32
)

// infer returns what n's outputs are, given what its inputs are (in) and
// their constant values (konst, nil when not constant). n is a node in
// the form of opset `to`. It knows the operators pot meets in models and
// answers unknown for the others, never a guess.
func infer(n *potv1.Node, opset int64, in func(int) value, konst func(int) *potv1.Tensor) []value {
	out := make([]value, len(n.GetOutputs()))
	for i := range out {
		out[i] = unknown
	}
	if len(out) == 0 || !graph.IsONNX(n) {
		return out
	}
	x := in(0)
	op := n.GetOpType()
	switch {
	case sameAsInput[op]:
		out[0] = x
		switch op {
		case "Split":
			for i := range out {
				out[i] = x
			}
		case "TopK", "MaxPool":
			if len(out) > 1 {
				out[1] = value{dtInt64, x.rank}
			}
		case "Dropout":
			if len(out) > 1 {
				out[1] = value{x.dt, x.rank}
				if opset >= 10 {
					out[1].dt = dtBool
				}
			}
		case "Concat", "Pad", "Slice", "Tile":
			// Same rank; the type is that of the first input.
		}
	case broadcasting[op]:
		v := value{dt: x.dt, rank: 0}
		if op == "Where" {
			v.dt = in(1).dt
		}
		if logical[op] {
			v.dt = dtBool
		}
		for i := range n.GetInputs() {
			r := in(i).rank
			if r < 0 {
				v.rank = -1
				break
			}
			v.rank = max(v.rank, r)
		}
		out[0] = v
	case logical[op]: // Not, IsNaN, IsInf
		out[0] = value{dtBool, x.rank}
	case op == "Cast":
		to, err := attrInt(n, "to", 0)
		if err == nil && to > 0 {
			out[0] = value{potv1.DataType(to), x.rank}
		}
	case op == "Gemm":
		out[0] = value{x.dt, 2}
	case op == "MatMul" || op == "MatMulInteger":
		dt := x.dt
		if op == "MatMulInteger" {
			dt = dtInt32
		}
		out[0] = value{dt, matmulRank(x.rank, in(1).rank)}
	case op == "Flatten":
		out[0] = value{x.dt, 2}
	case op == "Shape":
		out[0] = value{dtInt64, 1}
	case op == "Size":
		out[0] = value{dtInt64, 0}
	case op == "NonZero":
		out[0] = value{dtInt64, 2}
	case op == "Reshape":
		out[0] = value{x.dt, -1}
		if s := konst(1); s != nil && len(s.GetDims()) == 1 {
			out[0].rank = int(s.GetDims()[0])
		}
	case op == "Expand":
		out[0] = value{x.dt, -1}
		if s := konst(1); s != nil && len(s.GetDims()) == 1 && x.rank >= 0 {
			out[0].rank = max(x.rank, int(s.GetDims()[0]))
		}
	case op == "Squeeze" || op == "Unsqueeze":
		out[0] = value{x.dt, -1}
		axes, ok := axesOf(n, opset, konst)
		if ok && x.rank >= 0 {
			if op == "Squeeze" {
				out[0].rank = x.rank - len(axes)
			} else {
				out[0].rank = x.rank + len(axes)
			}
		}
	case reductions[op]:
		dt := x.dt
		if op == "ArgMax" || op == "ArgMin" {
			dt = dtInt64
		}
		out[0] = value{dt, -1}
		keep, err := attrInt(n, "keepdims", 1)
		if err != nil || x.rank < 0 {
			break
		}
		if keep != 0 {
			out[0].rank = x.rank
			break
		}
		if op == "ArgMax" || op == "ArgMin" {
			out[0].rank = x.rank - 1
			break
		}
		axes, ok := axesOf(n, opset, konst)
		switch {
		case !ok:
		case len(axes) > 0:
			out[0].rank = x.rank - len(setOfInts(axes, x.rank))
		default:
			noop, _ := attrInt(n, "noop_with_empty_axes", 0)
			if noop != 0 && op == "ReduceSum" && opset >= 13 {
				out[0].rank = x.rank
			} else {
				out[0].rank = 0
			}
		}
	case op == "Gather":
		if r := in(1).rank; x.rank >= 0 && r >= 0 {
			out[0] = value{x.dt, x.rank - 1 + r}
		} else {
			out[0] = value{x.dt, -1}
		}
	case op == "GatherElements":
		out[0] = value{x.dt, in(1).rank}
	case op == "Range":
		out[0] = value{x.dt, 1}
	case op == "OneHot":
		r := -1
		if x.rank >= 0 {
			r = x.rank + 1
		}
		out[0] = value{in(2).dt, r}
	case op == "Constant":
		if a := graph.Attr(n, "value"); a != nil && a.GetT() != nil {
			out[0] = value{a.GetT().GetDtype(), len(a.GetT().GetDims())}
		}
	case op == "ConstantOfShape":
		dt := dtFloat
		if a := graph.Attr(n, "value"); a != nil && a.GetT() != nil {
			dt = a.GetT().GetDtype()
		}
		out[0] = value{dt, -1}
		if s := konst(0); s != nil && len(s.GetDims()) == 1 {
			out[0].rank = int(s.GetDims()[0])
		}
	case op == "QuantizeLinear":
		dt := dtUint8
		if len(n.GetInputs()) > 2 && n.GetInputs()[2] != "" {
			dt = in(2).dt
		}
		out[0] = value{dt, x.rank}
	case op == "DequantizeLinear":
		out[0] = value{dtFloat, x.rank}
	case op == "DynamicQuantizeLinear":
		out[0] = value{dtUint8, x.rank}
		if len(out) == 3 {
			out[1], out[2] = value{dtFloat, 0}, value{dtUint8, 0}
		}
	}
	return out
}

func matmulRank(a, b int) int {
	switch {
	case a < 0 || b < 0:
		return -1
	case a == 1 && b == 1:
		return 0
	case a == 1:
		return b - 1
	case b == 1:
		return a - 1
	}
	return max(a, b)
}

// axesOf reads the axes of Squeeze, Unsqueeze or a reduction: the
// attribute, or from opset 13 (ReduceSum, Squeeze, Unsqueeze) the
// constant input 1.
func axesOf(n *potv1.Node, opset int64, konst func(int) *potv1.Tensor) ([]int64, bool) {
	if a := graph.Attr(n, "axes"); a != nil {
		return a.GetInts(), true
	}
	inputAxes := opset >= 13 && (n.GetOpType() == "ReduceSum" || n.GetOpType() == "Squeeze" || n.GetOpType() == "Unsqueeze")
	if !inputAxes {
		return nil, n.GetOpType() != "Squeeze" && n.GetOpType() != "Unsqueeze"
	}
	if input(n, 1) == "" {
		return nil, n.GetOpType() == "ReduceSum"
	}
	if t := konst(1); t != nil {
		v, err := integers(t)
		return v, err == nil
	}
	return nil, false
}

// setOfInts returns the distinct axes, normalized to [0, rank).
func setOfInts(axes []int64, rank int) map[int64]bool {
	m := map[int64]bool{}
	for _, a := range axes {
		if a < 0 {
			a += int64(rank)
		}
		m[a] = true
	}
	return m
}
