package openvino

import (
	"fmt"

	"github.com/potgo/pot/proto/potv1"
)

// elementType is one IR element type: its name in attributes
// (element_type="f32"), its name in port precisions (precision="FP32")
// and pot's data type.
type elementType struct {
	name, precision string
	dtype           potv1.DataType
}

var elementTypes = []elementType{
	{"f32", "FP32", potv1.DataType_DATA_TYPE_FLOAT},
	{"f16", "FP16", potv1.DataType_DATA_TYPE_FLOAT16},
	{"bf16", "BF16", potv1.DataType_DATA_TYPE_BFLOAT16},
	{"f64", "FP64", potv1.DataType_DATA_TYPE_DOUBLE},
	{"i8", "I8", potv1.DataType_DATA_TYPE_INT8},
	{"u8", "U8", potv1.DataType_DATA_TYPE_UINT8},
	{"i16", "I16", potv1.DataType_DATA_TYPE_INT16},
	{"u16", "U16", potv1.DataType_DATA_TYPE_UINT16},
	{"i32", "I32", potv1.DataType_DATA_TYPE_INT32},
	{"u32", "U32", potv1.DataType_DATA_TYPE_UINT32},
	{"i64", "I64", potv1.DataType_DATA_TYPE_INT64},
	{"u64", "U64", potv1.DataType_DATA_TYPE_UINT64},
	{"i4", "I4", potv1.DataType_DATA_TYPE_INT4},
	{"u4", "U4", potv1.DataType_DATA_TYPE_UINT4},
	{"boolean", "BOOL", potv1.DataType_DATA_TYPE_BOOL},
}

// DataType returns pot's data type of an IR element type, given either
// as an attribute value ("f32") or as a port precision ("FP32").
func DataType(s string) (potv1.DataType, error) {
	for _, e := range elementTypes {
		if s == e.name || s == e.precision {
			return e.dtype, nil
		}
	}
	if why, ok := unreadTypes[s]; ok {
		return potv1.DataType_DATA_TYPE_UNDEFINED, fmt.Errorf("element type %q is not one pot reads: %s", s, why)
	}
	return potv1.DataType_DATA_TYPE_UNDEFINED, fmt.Errorf("element type %q is not one pot reads", s)
}

// unreadTypes says why the reader refuses IR element types it knows
// (by attribute and by precision spelling).
var unreadTypes = map[string]string{
	"u1":      "1-bit packed (precision BIN), which ONNX has no type for",
	"BIN":     "1-bit packed (element type u1), which ONNX has no type for",
	"string":  "strings (pot reads numeric tensors only)",
	"STRING":  "strings (pot reads numeric tensors only)",
	"u2":      "2-bit packed, which ONNX has no type for",
	"u3":      "3-bit packed, which ONNX has no type for",
	"u6":      "6-bit packed, which ONNX has no type for",
	"nf4":     "4-bit NormalFloat, which ONNX has no type for",
	"f8e4m3":  "8-bit float, not in ONNX opset 13",
	"f8e5m2":  "8-bit float, not in ONNX opset 13",
	"f4e2m1":  "4-bit float, which ONNX opset 13 has no type for",
	"f8e8m0":  "8-bit exponent-only float, which ONNX has no type for",
	"dynamic": "a dynamic element type is not read (the IR must give each tensor's type)",
}

// ElementType returns the IR attribute spelling of a data type ("f32").
func ElementType(t potv1.DataType) (string, error) {
	for _, e := range elementTypes {
		if t == e.dtype {
			return e.name, nil
		}
	}
	return "", fmt.Errorf("data type %s has no IR element type", t)
}

// Precision returns the IR port-precision spelling of a data type ("FP32").
func Precision(t potv1.DataType) (string, error) {
	for _, e := range elementTypes {
		if t == e.dtype {
			return e.precision, nil
		}
	}
	return "", fmt.Errorf("data type %s has no IR precision", t)
}
