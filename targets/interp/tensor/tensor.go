package tensor

import (
	"fmt"
	"math"
)

// DType is an element type, numbered as ONNX's TensorProto.DataType.
type DType int32

// Element types.
const (
	Undefined DType = 0
	Float     DType = 1
	Uint8     DType = 2
	Int8      DType = 3
	Uint16    DType = 4
	Int16     DType = 5
	Int32     DType = 6
	Int64     DType = 7
	String    DType = 8
	Bool      DType = 9
	Float16   DType = 10
	Double    DType = 11
	Uint32    DType = 12
	Uint64    DType = 13
	BFloat16  DType = 16
	Uint4     DType = 21
	Int4      DType = 22
)

var dtypeNames = map[DType]string{
	Undefined: "undefined", Float: "float32", Uint8: "uint8", Int8: "int8",
	Uint16: "uint16", Int16: "int16", Int32: "int32", Int64: "int64",
	String: "string", Bool: "bool", Float16: "float16", Double: "float64",
	Uint32: "uint32", Uint64: "uint64", BFloat16: "bfloat16",
	Uint4: "uint4", Int4: "int4",
}

func (d DType) String() string {
	if s, ok := dtypeNames[d]; ok {
		return s
	}
	return fmt.Sprintf("dtype(%d)", int32(d))
}

// Supported reports whether the runtime has a Go representation for d.
func (d DType) Supported() bool {
	_, ok := dtypeNames[d]
	return ok && d != Undefined
}

// IsFloat reports whether d is a floating-point type.
func (d DType) IsFloat() bool {
	return d == Float || d == Double || d == Float16 || d == BFloat16
}

// Size is the size of one element in bytes in memory (0 for strings).
// 4-bit types take one byte each in memory and half a byte on the wire.
func (d DType) Size() int {
	switch d {
	case Uint8, Int8, Bool, Uint4, Int4:
		return 1
	case Uint16, Int16, Float16, BFloat16:
		return 2
	case Float, Int32, Uint32:
		return 4
	case Double, Int64, Uint64:
		return 8
	}
	return 0
}

// Float16Bits is an IEEE 754 half-precision number, by its bits.
type Float16Bits uint16

// BFloat16Bits is a bfloat16 number, by its bits.
type BFloat16Bits uint16

// Int4Value is a signed 4-bit integer (-8..7), one per byte in memory.
type Int4Value int8

// Uint4Value is an unsigned 4-bit integer (0..15), one per byte in memory.
type Uint4Value uint8

// Tensor is a dense row-major tensor. Data is a slice of the Go type of
// DType ([]float32 for Float, []Float16Bits for Float16, []bool for Bool,
// []string for String, ...) with exactly Len() elements.
type Tensor struct {
	DType DType
	Shape []int
	Data  any

	// spare keeps buffers of other element types this tensor held, so that
	// a tensor reused for values of changing types stops allocating.
	spare map[DType]any
}

// New allocates a zero tensor.
func New(dtype DType, shape ...int) *Tensor {
	t := &Tensor{}
	t.Reset(dtype, shape)
	return t
}

// From wraps data (not copied) in a tensor of the given shape. The element
// type comes from data's Go type.
func From[T Elem](shape []int, data []T) *Tensor {
	dt := DTypeOf[T]()
	if n := NumElements(shape); n != len(data) {
		panic(fmt.Sprintf("tensor.From: shape %v needs %d elements, have %d", shape, n, len(data)))
	}
	return &Tensor{DType: dt, Shape: append([]int(nil), shape...), Data: data}
}

// Scalar returns a 0-d tensor holding v.
func Scalar[T Elem](v T) *Tensor { return From([]int{}, []T{v}) }

// NumElements is the product of shape.
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Len is the number of elements.
func (t *Tensor) Len() int { return NumElements(t.Shape) }

// Rank is the number of dimensions.
func (t *Tensor) Rank() int { return len(t.Shape) }

// Reset gives t a new type and shape, reusing its storage when it is large
// enough. Element values are unspecified afterwards (not zeroed): kernels
// write every element. A shape with a negative dimension, too many
// elements or needing more than MaxBytes makes it panic with a
// *SizeError, before anything is allocated.
func (t *Tensor) Reset(dtype DType, shape []int) {
	n, err := CheckSize(dtype, shape)
	if err != nil {
		panic(err)
	}
	t.reset(dtype, shape, n)
}

// reset is Reset for n elements, checked by the caller.
func (t *Tensor) reset(dtype DType, shape []int, n int) {
	if cap(t.Shape) >= len(shape) {
		t.Shape = t.Shape[:len(shape)]
	} else {
		t.Shape = make([]int, len(shape))
	}
	copy(t.Shape, shape)
	if t.DType != dtype && t.Data != nil {
		if t.spare == nil {
			t.spare = map[DType]any{}
		}
		t.spare[t.DType] = t.Data
		t.Data = t.spare[dtype]
		delete(t.spare, dtype)
	}
	t.DType = dtype
	t.Data = resize(dtype, t.Data, n)
}

// ResetZero is Reset followed by zeroing every element.
func (t *Tensor) ResetZero(dtype DType, shape []int) {
	t.Reset(dtype, shape)
	t.Zero()
}

// Zero sets every element to its zero value.
func (t *Tensor) Zero() {
	switch d := t.Data.(type) {
	case []float32:
		clear(d)
	case []float64:
		clear(d)
	case []int8:
		clear(d)
	case []int16:
		clear(d)
	case []int32:
		clear(d)
	case []int64:
		clear(d)
	case []uint8:
		clear(d)
	case []uint16:
		clear(d)
	case []uint32:
		clear(d)
	case []uint64:
		clear(d)
	case []bool:
		clear(d)
	case []string:
		clear(d)
	case []Float16Bits:
		clear(d)
	case []BFloat16Bits:
		clear(d)
	case []Int4Value:
		clear(d)
	case []Uint4Value:
		clear(d)
	}
}

func resize(dtype DType, data any, n int) any {
	switch dtype {
	case Float:
		return grow[float32](data, n)
	case Double:
		return grow[float64](data, n)
	case Int8:
		return grow[int8](data, n)
	case Int16:
		return grow[int16](data, n)
	case Int32:
		return grow[int32](data, n)
	case Int64:
		return grow[int64](data, n)
	case Uint8:
		return grow[uint8](data, n)
	case Uint16:
		return grow[uint16](data, n)
	case Uint32:
		return grow[uint32](data, n)
	case Uint64:
		return grow[uint64](data, n)
	case Bool:
		return grow[bool](data, n)
	case String:
		return grow[string](data, n)
	case Float16:
		return grow[Float16Bits](data, n)
	case BFloat16:
		return grow[BFloat16Bits](data, n)
	case Int4:
		return grow[Int4Value](data, n)
	case Uint4:
		return grow[Uint4Value](data, n)
	}
	panic(fmt.Sprintf("tensor: unsupported element type %v", dtype))
}

// grow returns data resized to n elements, reusing its storage when large
// enough; data of the right length is returned as is, so that a Reset at
// an unchanged shape does not allocate a new interface value.
func grow[T any](data any, n int) any {
	if s, ok := data.([]T); ok && cap(s) >= n {
		if len(s) == n {
			return data
		}
		return s[:n]
	}
	return make([]T, n)
}

// NewHeld is New without the MaxBytes check, for a tensor whose data
// the caller already holds in another form (a decoded initializer), so
// that it costs no more memory than the caller already spent; the shape
// must be valid.
func NewHeld(dtype DType, shape ...int) *Tensor {
	t := &Tensor{}
	t.reset(dtype, shape, NumElements(shape))
	return t
}

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{}
	c.CopyFrom(t)
	return c
}

// CopyFrom makes t an exact copy of src, reusing t's storage. Like
// NewHeld, it does not check MaxBytes: src exists.
func (t *Tensor) CopyFrom(src *Tensor) {
	t.reset(src.DType, src.Shape, src.Len())
	t.copyData(src)
}

// copyData copies src's elements into t's storage, of src's type and
// length.
func (t *Tensor) copyData(src *Tensor) {
	switch d := t.Data.(type) {
	case []float32:
		copy(d, src.Data.([]float32))
	case []float64:
		copy(d, src.Data.([]float64))
	case []int8:
		copy(d, src.Data.([]int8))
	case []int16:
		copy(d, src.Data.([]int16))
	case []int32:
		copy(d, src.Data.([]int32))
	case []int64:
		copy(d, src.Data.([]int64))
	case []uint8:
		copy(d, src.Data.([]uint8))
	case []uint16:
		copy(d, src.Data.([]uint16))
	case []uint32:
		copy(d, src.Data.([]uint32))
	case []uint64:
		copy(d, src.Data.([]uint64))
	case []bool:
		copy(d, src.Data.([]bool))
	case []string:
		copy(d, src.Data.([]string))
	case []Float16Bits:
		copy(d, src.Data.([]Float16Bits))
	case []BFloat16Bits:
		copy(d, src.Data.([]BFloat16Bits))
	case []Int4Value:
		copy(d, src.Data.([]Int4Value))
	case []Uint4Value:
		copy(d, src.Data.([]Uint4Value))
	}
}

// F32 returns the data of a Float tensor.
func (t *Tensor) F32() []float32 { return t.Data.([]float32) }

// I64 returns the data of an Int64 tensor.
func (t *Tensor) I64() []int64 { return t.Data.([]int64) }

// Strides returns the row-major element strides of shape.
func Strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// String describes t briefly: type and shape.
func (t *Tensor) String() string {
	return fmt.Sprintf("%v%v", t.DType, t.Shape)
}

// Float64s returns the elements of a numeric or bool tensor converted to
// float64 (a new slice).
func (t *Tensor) Float64s() ([]float64, error) {
	out := make([]float64, t.Len())
	switch d := t.Data.(type) {
	case []float32:
		for i, v := range d {
			out[i] = float64(v)
		}
	case []float64:
		copy(out, d)
	case []int8:
		conv(out, d)
	case []int16:
		conv(out, d)
	case []int32:
		conv(out, d)
	case []int64:
		conv(out, d)
	case []uint8:
		conv(out, d)
	case []uint16:
		conv(out, d)
	case []uint32:
		conv(out, d)
	case []uint64:
		conv(out, d)
	case []bool:
		for i, v := range d {
			if v {
				out[i] = 1
			}
		}
	case []Float16Bits:
		for i, v := range d {
			out[i] = float64(v.Float32())
		}
	case []BFloat16Bits:
		for i, v := range d {
			out[i] = float64(v.Float32())
		}
	case []Int4Value:
		for i, v := range d {
			out[i] = float64(v)
		}
	case []Uint4Value:
		for i, v := range d {
			out[i] = float64(v)
		}
	default:
		return nil, fmt.Errorf("tensor: %v is not numeric", t.DType)
	}
	return out, nil
}

// Int64s returns the elements of an integer tensor as int64 (a new slice).
// Float elements are truncated toward zero.
func (t *Tensor) Int64s() ([]int64, error) {
	if d, ok := t.Data.([]int64); ok {
		return append([]int64(nil), d...), nil
	}
	f, err := t.Float64s()
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(f))
	for i, v := range f {
		out[i] = int64(v)
	}
	return out, nil
}

func conv[T Integer](dst []float64, src []T) {
	for i, v := range src {
		dst[i] = float64(v)
	}
}

// Integer is the set of Go integer element types.
type Integer interface {
	int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64
}

// Number is the set of Go numeric element types with native arithmetic.
type Number interface {
	Integer | float32 | float64
}

// Elem is every Go element type a tensor can hold.
type Elem interface {
	Number | bool | string | Float16Bits | BFloat16Bits | Int4Value | Uint4Value
}

// DTypeOf returns the element type of Go type T.
func DTypeOf[T Elem]() DType {
	var z T
	switch any(z).(type) {
	case float32:
		return Float
	case float64:
		return Double
	case int8:
		return Int8
	case int16:
		return Int16
	case int32:
		return Int32
	case int64:
		return Int64
	case uint8:
		return Uint8
	case uint16:
		return Uint16
	case uint32:
		return Uint32
	case uint64:
		return Uint64
	case bool:
		return Bool
	case string:
		return String
	case Float16Bits:
		return Float16
	case BFloat16Bits:
		return BFloat16
	case Int4Value:
		return Int4
	case Uint4Value:
		return Uint4
	}
	return Undefined
}

// Float32 converts a half-precision value to float32.
func (h Float16Bits) Float32() float32 {
	sign := uint32(h>>15) & 1
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	var bits uint32
	switch {
	case exp == 0 && frac == 0:
		bits = sign << 31
	case exp == 0: // subnormal
		e := uint32(127 - 15 + 1)
		for frac&0x400 == 0 {
			frac <<= 1
			e--
		}
		frac &= 0x3ff
		bits = sign<<31 | e<<23 | frac<<13
	case exp == 0x1f:
		bits = sign<<31 | 0xff<<23 | frac<<13
	default:
		bits = sign<<31 | (exp+127-15)<<23 | frac<<13
	}
	return math.Float32frombits(bits)
}

// ToFloat16 rounds f to the nearest half-precision value (ties to even).
func ToFloat16(f float32) Float16Bits {
	bits := math.Float32bits(f)
	sign := uint16(bits>>16) & 0x8000
	exp := int32(bits>>23) & 0xff
	frac := bits & 0x7fffff
	if exp == 0xff { // Inf or NaN
		if frac != 0 {
			return Float16Bits(sign | 0x7e00)
		}
		return Float16Bits(sign | 0x7c00)
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return Float16Bits(sign | 0x7c00)
	}
	if e <= 0 {
		if e < -10 {
			return Float16Bits(sign)
		}
		m := frac | 0x800000
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		rem := m & (1<<shift - 1)
		v := m >> shift
		if rem > half || (rem == half && v&1 == 1) {
			v++
		}
		return Float16Bits(sign | uint16(v))
	}
	v := uint32(e)<<10 | frac>>13
	rem := frac & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && v&1 == 1) {
		v++ // may carry into the exponent, which is still correct
	}
	return Float16Bits(sign | uint16(v))
}

// RoundFloat16 rounds f to the nearest value representable in half
// precision and returns it as float32.
func RoundFloat16(f float32) float32 { return ToFloat16(f).Float32() }

// Float32 converts a bfloat16 value to float32.
func (b BFloat16Bits) Float32() float32 { return math.Float32frombits(uint32(b) << 16) }

// ToBFloat16 rounds f to the nearest bfloat16 (ties to even).
func ToBFloat16(f float32) BFloat16Bits {
	bits := math.Float32bits(f)
	if f != f {
		return BFloat16Bits(bits>>16 | 0x40)
	}
	round := uint32(0x7fff) + (bits>>16)&1
	return BFloat16Bits((bits + round) >> 16)
}
