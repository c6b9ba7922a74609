package opset

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// takeAttr removes n's attribute name and returns it (nil when absent).
func takeAttr(n *potv1.Node, name string) *potv1.Attribute {
	for i, a := range n.GetAttributes() {
		if a.GetName() == name {
			n.Attributes = append(n.Attributes[:i:i], n.Attributes[i+1:]...)
			return a
		}
	}
	return nil
}

func setAttr(n *potv1.Node, a *potv1.Attribute) {
	for i, b := range n.GetAttributes() {
		if b.GetName() == a.GetName() {
			n.Attributes[i] = a
			return
		}
	}
	n.Attributes = append(n.Attributes, a)
}

func setInt(n *potv1.Node, name string, v int64)        { setAttr(n, graph.IntAttr(name, v)) }
func setInts(n *potv1.Node, name string, v []int64)     { setAttr(n, graph.IntsAttr(name, v)) }
func setFloats(n *potv1.Node, name string, v []float32) { setAttr(n, graph.FloatsAttr(name, v)) }
func setString(n *potv1.Node, name, v string)           { setAttr(n, graph.StringAttr(name, v)) }

// typedAttr reads n's attribute name with get: def, false when absent,
// an error when present with a type other than want (what names it).
func typedAttr[T any](n *potv1.Node, name string, want potv1.Attribute_Type, what string, get func(*potv1.Attribute) T, def T) (T, bool, error) {
	a := graph.Attr(n, name)
	if a == nil {
		return def, false, nil
	}
	if a.GetType() != want {
		var zero T
		return zero, false, fmt.Errorf("attribute %s is %v, not %s", name, a.GetType(), what)
	}
	return get(a), true, nil
}

// attrInt reads an INT attribute; a present attribute of another type is
// an error.
func attrInt(n *potv1.Node, name string, def int64) (int64, error) {
	v, _, err := typedAttr(n, name, potv1.Attribute_TYPE_INT, "an integer", (*potv1.Attribute).GetI, def)
	return v, err
}

func attrFloat(n *potv1.Node, name string, def float32) (float32, error) {
	v, _, err := typedAttr(n, name, potv1.Attribute_TYPE_FLOAT, "a float", (*potv1.Attribute).GetF, def)
	return v, err
}

func attrString(n *potv1.Node, name, def string) (string, error) {
	v, _, err := typedAttr(n, name, potv1.Attribute_TYPE_STRING, "a string", func(a *potv1.Attribute) string { return string(a.GetS()) }, def)
	return v, err
}

// attrInts reads an INTS attribute (nil, false when absent).
func attrInts(n *potv1.Node, name string) ([]int64, bool, error) {
	return typedAttr(n, name, potv1.Attribute_TYPE_INTS, "a list of integers", (*potv1.Attribute).GetInts, nil)
}

func attrFloats(n *potv1.Node, name string) ([]float32, bool, error) {
	return typedAttr(n, name, potv1.Attribute_TYPE_FLOATS, "a list of floats", (*potv1.Attribute).GetFloats, nil)
}

// input returns n's input i, or "" when absent.
func input(n *potv1.Node, i int) string {
	if i < len(n.GetInputs()) {
		return n.GetInputs()[i]
	}
	return ""
}

// setInput sets n's input i, padding omitted inputs with "".
func setInput(n *potv1.Node, i int, name string) {
	for len(n.Inputs) <= i {
		n.Inputs = append(n.Inputs, "")
	}
	n.Inputs[i] = name
}

// floatTensor is a tensor of one of the floating types holding v.
func floatTensor(dt potv1.DataType, dims []int64, v []float64) (*potv1.Tensor, error) {
	var b []byte
	switch dt {
	case potv1.DataType_DATA_TYPE_FLOAT:
		b = make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(x)))
		}
	case potv1.DataType_DATA_TYPE_DOUBLE:
		b = make([]byte, 8*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
		}
	case potv1.DataType_DATA_TYPE_FLOAT16:
		b = make([]byte, 2*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint16(b[2*i:], float16Bits(float32(x)))
		}
	case potv1.DataType_DATA_TYPE_BFLOAT16:
		b = make([]byte, 2*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint16(b[2*i:], bfloat16Bits(float32(x)))
		}
	default:
		return nil, fmt.Errorf("element type %s is not a floating type", dtName(dt))
	}
	return &potv1.Tensor{Dtype: dt, Dims: append([]int64{}, dims...), Data: b}, nil
}

// float16Bits rounds f to the nearest IEEE half (ties to even).
func float16Bits(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case b&0x7fffffff > 0x7f800000: // NaN
		return sign | 0x7e00
	case exp >= 31: // overflow or infinity
		return sign | 0x7c00
	case exp <= 0: // subnormal or zero
		if exp < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint32(14 - exp)
		h := mant >> shift
		rem := mant & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && h&1 == 1) {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(exp)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // may carry into the exponent, up to infinity: still correct
	}
	return sign | uint16(h)
}

// bfloat16Bits rounds f to the nearest bfloat16 (ties to even).
func bfloat16Bits(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}

// numbers reads the values of a numeric tensor.
func numbers(t *potv1.Tensor) ([]float64, error) {
	n := int64(1)
	for _, d := range t.GetDims() {
		if d < 0 {
			return nil, fmt.Errorf("tensor %q has a negative dimension", t.GetName())
		}
		n *= d
	}
	size := map[potv1.DataType]int64{
		potv1.DataType_DATA_TYPE_FLOAT: 4, potv1.DataType_DATA_TYPE_DOUBLE: 8, potv1.DataType_DATA_TYPE_INT64: 8,
		potv1.DataType_DATA_TYPE_INT32: 4, potv1.DataType_DATA_TYPE_INT16: 2, potv1.DataType_DATA_TYPE_INT8: 1,
		potv1.DataType_DATA_TYPE_UINT8: 1, potv1.DataType_DATA_TYPE_UINT16: 2, potv1.DataType_DATA_TYPE_UINT32: 4,
		potv1.DataType_DATA_TYPE_UINT64: 8,
	}[t.GetDtype()]
	if size == 0 {
		return nil, fmt.Errorf("tensor %q has element type %s, not a number pot reads here", t.GetName(), dtName(t.GetDtype()))
	}
	d := t.GetData()
	if int64(len(d)) != n*size {
		return nil, fmt.Errorf("tensor %q has %d bytes for %d %s values", t.GetName(), len(d), n, dtName(t.GetDtype()))
	}
	out := make([]float64, n)
	for i := range out {
		p := d[int64(i)*size:]
		switch t.GetDtype() {
		case potv1.DataType_DATA_TYPE_FLOAT:
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(p)))
		case potv1.DataType_DATA_TYPE_DOUBLE:
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(p))
		case potv1.DataType_DATA_TYPE_INT64:
			out[i] = float64(int64(binary.LittleEndian.Uint64(p)))
		case potv1.DataType_DATA_TYPE_INT32:
			out[i] = float64(int32(binary.LittleEndian.Uint32(p)))
		case potv1.DataType_DATA_TYPE_INT16:
			out[i] = float64(int16(binary.LittleEndian.Uint16(p)))
		case potv1.DataType_DATA_TYPE_INT8:
			out[i] = float64(int8(p[0]))
		case potv1.DataType_DATA_TYPE_UINT8:
			out[i] = float64(p[0])
		case potv1.DataType_DATA_TYPE_UINT16:
			out[i] = float64(binary.LittleEndian.Uint16(p))
		case potv1.DataType_DATA_TYPE_UINT32:
			out[i] = float64(binary.LittleEndian.Uint32(p))
		case potv1.DataType_DATA_TYPE_UINT64:
			out[i] = float64(binary.LittleEndian.Uint64(p))
		}
	}
	return out, nil
}

// integers reads a numeric tensor whose values are integers.
func integers(t *potv1.Tensor) ([]int64, error) {
	v, err := numbers(t)
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(v))
	for i, x := range v {
		if x != math.Trunc(x) || math.Abs(x) > 1<<62 {
			return nil, fmt.Errorf("tensor %q holds %v, not an integer", t.GetName(), x)
		}
		out[i] = int64(x)
	}
	return out, nil
}

// dtName is the ONNX name of an element type (FLOAT, INT64, ...).
func dtName(dt potv1.DataType) string {
	s := dt.String()
	const p = "DATA_TYPE_"
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// dtByName is the element type of an ONNX type name (Cast-1's "to").
func dtByName(s string) (potv1.DataType, bool) {
	up := make([]byte, len(s))
	for i := range len(s) {
		c := s[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		up[i] = c
	}
	v, ok := potv1.DataType_value["DATA_TYPE_"+string(up)]
	if !ok || v == 0 {
		return 0, false
	}
	return potv1.DataType(v), true
}

func isFloat(dt potv1.DataType) bool {
	switch dt {
	case potv1.DataType_DATA_TYPE_FLOAT, potv1.DataType_DATA_TYPE_DOUBLE, potv1.DataType_DATA_TYPE_FLOAT16,
		potv1.DataType_DATA_TYPE_BFLOAT16:
		return true
	}
	return false
}
