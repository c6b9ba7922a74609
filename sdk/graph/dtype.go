package graph

import (
	"github.com/potgo/pot/proto/potv1"
)

// IsFloatType reports whether a type holds floating-point numbers that a
// quantizer can take: float32, float16, bfloat16 or float64.
func IsFloatType(dt potv1.DataType) bool {
	switch dt {
	case potv1.DataType_DATA_TYPE_FLOAT, potv1.DataType_DATA_TYPE_FLOAT16, potv1.DataType_DATA_TYPE_BFLOAT16,
		potv1.DataType_DATA_TYPE_DOUBLE:
		return true
	}
	return false
}

// NotFloat reports whether a tensor is known to hold something other than
// floating-point numbers (integers, booleans, strings): no quantizer can
// sit on it. A tensor of unknown type is not reported.
func (x *Index) NotFloat(tensor string) bool {
	dt := x.ValueType(tensor)
	return dt != potv1.DataType_DATA_TYPE_UNDEFINED && !IsFloatType(dt)
}

const (
	tInt64 = potv1.DataType_DATA_TYPE_INT64
	tInt32 = potv1.DataType_DATA_TYPE_INT32
	tBool  = potv1.DataType_DATA_TYPE_BOOL
	tFloat = potv1.DataType_DATA_TYPE_FLOAT
	tUint8 = potv1.DataType_DATA_TYPE_UINT8
	tStr   = potv1.DataType_DATA_TYPE_STRING
	tNone  = potv1.DataType_DATA_TYPE_UNDEFINED
)

// boolOps give bool tensors.
var boolOps = map[string]bool{
	"Equal": true, "Less": true, "LessOrEqual": true, "Greater": true, "GreaterOrEqual": true,
	"Not": true, "And": true, "Or": true, "Xor": true, "IsNaN": true, "IsInf": true, "RegexFullMatch": true,
}

// int64Ops give int64 tensors (all their outputs).
var int64Ops = map[string]bool{
	"Shape": true, "Size": true, "NonZero": true, "ArgMax": true, "ArgMin": true, "NonMaxSuppression": true,
}

// outputType is the type of output i of n, given the types of tensors,
// or DATA_TYPE_UNDEFINED. Operators that change the type have their rule
// (Shape, Size, NonZero, ArgMax, ArgMin and index outputs give int64;
// Cast its "to"; comparisons and logical operators bool; ConstantOfShape
// its value's type; Where its branches'; If, Loop and Scan their
// subgraphs' outputs'; quantization operators their zero point's or
// scale's; ...); every other operator of the default domain gives the
// type of its first input whose type is known. Operators of other domains
// are not known.
func outputType(n *potv1.Node, i int, typeOf func(string) potv1.DataType) potv1.DataType {
	in := func(k int) potv1.DataType {
		if k < len(n.GetInputs()) && n.GetInputs()[k] != "" {
			return typeOf(n.GetInputs()[k])
		}
		return tNone
	}
	firstKnown := func(from int) potv1.DataType {
		for k := from; k < len(n.GetInputs()); k++ {
			if dt := in(k); dt != tNone {
				return dt
			}
		}
		return tNone
	}
	// attrType reads a type attribute (Cast's "to", RandomNormal's
	// "dtype"), def when absent.
	attrType := func(name string, def potv1.DataType) potv1.DataType {
		if a := Attr(n, name); a != nil {
			return potv1.DataType(a.GetI())
		}
		return def
	}
	if !IsONNX(n) {
		// Other domains (com.microsoft, custom operators): only the
		// declared types are known.
		return tNone
	}
	op := n.GetOpType()
	switch {
	case int64Ops[op]:
		return tInt64
	case boolOps[op]:
		return tBool
	}
	switch op {
	case "Constant":
		return constantType(n)
	case "Cast":
		return attrType("to", tNone)
	case "CastLike":
		return in(1)
	case "ConstantOfShape":
		if a := Attr(n, "value"); a != nil && a.GetT() != nil {
			return a.GetT().GetDtype()
		}
		return tFloat
	case "EyeLike", "RandomNormalLike", "RandomUniformLike", "Bernoulli":
		return attrType("dtype", in(0))
	case "RandomNormal", "RandomUniform":
		return attrType("dtype", tFloat)
	case "Multinomial":
		return attrType("dtype", tInt32)
	case "MaxPool":
		if i == 1 {
			return tInt64 // indices
		}
	case "TopK", "Unique":
		if i >= 1 {
			return tInt64 // indices, inverse indices, counts
		}
	case "Dropout":
		if i == 1 {
			return tBool // mask
		}
	case "Where":
		return firstKnown(1)
	case "OneHot":
		return in(2)
	case "MatMulInteger", "ConvInteger":
		return tInt32
	case "QuantizeLinear":
		if dt := in(2); dt != tNone {
			return dt
		}
		return attrType("output_dtype", tUint8)
	case "DequantizeLinear":
		if dt := in(1); dt != tNone {
			return dt
		}
		return tFloat
	case "DynamicQuantizeLinear":
		if i == 1 {
			return tFloat
		}
		return tUint8
	case "QLinearConv", "QLinearMatMul":
		if dt := in(7); dt != tNone {
			return dt
		}
		return tUint8
	case "If":
		return branchOutput(n, i, "then_branch", 0, typeOf)
	case "Loop":
		// Outputs: the loop-carried values, then the scan outputs; the
		// body's outputs start with the condition.
		return branchOutput(n, i, "body", 1, typeOf)
	case "Scan":
		return branchOutput(n, i, "body", 0, typeOf)
	case "TfIdfVectorizer":
		return tFloat
	case "StringNormalizer":
		return tStr
	}
	return firstKnown(0)
}

// constantType is the type of a Constant node's value.
func constantType(n *potv1.Node) potv1.DataType {
	for _, a := range n.GetAttributes() {
		switch a.GetName() {
		case "value", "sparse_value":
			if a.GetT() != nil {
				return a.GetT().GetDtype()
			}
		case "value_float", "value_floats":
			return tFloat
		case "value_int", "value_ints":
			return tInt64
		case "value_string", "value_strings":
			return tStr
		}
	}
	return tNone
}

// branchOutput is the type of output i+skip of the subgraph in
// attribute attr: declared, or inferred in the subgraph.
func branchOutput(n *potv1.Node, i int, attr string, skip int, typeOf func(string) potv1.DataType) potv1.DataType {
	a := Attr(n, attr)
	if a == nil || a.GetG() == nil {
		return tNone
	}
	outs := a.GetG().GetOutputs()
	if i+skip >= len(outs) {
		return tNone
	}
	if dt := outs[i+skip].GetDtype(); dt != tNone {
		return dt
	}
	return typeOf(outs[i+skip].GetName())
}
