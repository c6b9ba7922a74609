package graph

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/potgo/pot/proto/potv1"
)

// Float32s decodes a float32 tensor's data.
func Float32s(t *potv1.Tensor) ([]float32, error) {
	raw, err := checkedData(t, potv1.DataType_DATA_TYPE_FLOAT, "float32", 4)
	if err != nil {
		return nil, err
	}
	v := make([]float32, len(raw)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return v, nil
}

// Int64s decodes an int64 tensor's data.
func Int64s(t *potv1.Tensor) ([]int64, error) {
	raw, err := checkedData(t, potv1.DataType_DATA_TYPE_INT64, "int64", 8)
	if err != nil {
		return nil, err
	}
	v := make([]int64, len(raw)/8)
	for i := range v {
		v[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	return v, nil
}

// checkedData returns t's data after checking that t is of type dt (named
// name in the error) and holds size bytes for each element its dims
// count.
func checkedData(t *potv1.Tensor, dt potv1.DataType, name string, size int) ([]byte, error) {
	if t.GetDtype() != dt {
		return nil, fmt.Errorf("tensor %q is %v, not %s", t.GetName(), t.GetDtype(), name)
	}
	raw := t.GetData()
	if len(raw)%size != 0 || int64(len(raw)/size) != NumElements(t.GetDims()) {
		return nil, fmt.Errorf("tensor %q: %d data bytes for dims %v", t.GetName(), len(raw), t.GetDims())
	}
	return raw, nil
}

// Float32View is Float32s without a copy where the machine allows (a
// little-endian machine and 4-byte aligned data): the values are read in
// place from t's data, which the caller must then neither modify through
// the result nor change while using it. It copies otherwise. Use it to
// read large weights.
func Float32View(t *potv1.Tensor) ([]float32, error) {
	raw := t.GetData()
	if t.GetDtype() != potv1.DataType_DATA_TYPE_FLOAT || len(raw) == 0 || !nativeLittleEndian ||
		uintptr(unsafe.Pointer(&raw[0]))%4 != 0 || len(raw)%4 != 0 || int64(len(raw)/4) != NumElements(t.GetDims()) {
		return Float32s(t)
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&raw[0])), len(raw)/4), nil
}

// nativeLittleEndian tells whether the machine stores numbers as the wire
// format does.
var nativeLittleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// FloatTensor builds a float32 tensor.
func FloatTensor(name string, dims []int64, v []float32) *potv1.Tensor {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	return &potv1.Tensor{Name: name, Dtype: potv1.DataType_DATA_TYPE_FLOAT, Dims: append([]int64(nil), dims...), Data: raw}
}

// Int64Tensor builds an int64 tensor.
func Int64Tensor(name string, dims []int64, v []int64) *potv1.Tensor {
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(x))
	}
	return &potv1.Tensor{Name: name, Dtype: potv1.DataType_DATA_TYPE_INT64, Dims: append([]int64(nil), dims...), Data: raw}
}

// NumElements is the product of dims.
func NumElements(dims []int64) int64 {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	return n
}
