package backendtest

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/potgo/pot/proto/potv1"
)

// Values decodes a numeric or bool tensor's raw data to float64.
func Values(t *potv1.Tensor) ([]float64, error) {
	raw := t.GetData()
	le := binary.LittleEndian
	var out []float64
	switch t.GetDtype() {
	case potv1.DataType_DATA_TYPE_FLOAT:
		out = make([]float64, len(raw)/4)
		for i := range out {
			out[i] = float64(math.Float32frombits(le.Uint32(raw[4*i:])))
		}
	case potv1.DataType_DATA_TYPE_DOUBLE:
		out = make([]float64, len(raw)/8)
		for i := range out {
			out[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
		}
	case potv1.DataType_DATA_TYPE_INT8:
		out = make([]float64, len(raw))
		for i := range out {
			out[i] = float64(int8(raw[i]))
		}
	case potv1.DataType_DATA_TYPE_UINT8, potv1.DataType_DATA_TYPE_BOOL:
		out = make([]float64, len(raw))
		for i := range out {
			out[i] = float64(raw[i])
		}
	case potv1.DataType_DATA_TYPE_INT16:
		out = make([]float64, len(raw)/2)
		for i := range out {
			out[i] = float64(int16(le.Uint16(raw[2*i:])))
		}
	case potv1.DataType_DATA_TYPE_UINT16:
		out = make([]float64, len(raw)/2)
		for i := range out {
			out[i] = float64(le.Uint16(raw[2*i:]))
		}
	case potv1.DataType_DATA_TYPE_FLOAT16:
		out = make([]float64, len(raw)/2)
		for i := range out {
			out[i] = float64(halfToFloat(le.Uint16(raw[2*i:])))
		}
	case potv1.DataType_DATA_TYPE_BFLOAT16:
		out = make([]float64, len(raw)/2)
		for i := range out {
			out[i] = float64(math.Float32frombits(uint32(le.Uint16(raw[2*i:])) << 16))
		}
	case potv1.DataType_DATA_TYPE_INT32:
		out = make([]float64, len(raw)/4)
		for i := range out {
			out[i] = float64(int32(le.Uint32(raw[4*i:])))
		}
	case potv1.DataType_DATA_TYPE_UINT32:
		out = make([]float64, len(raw)/4)
		for i := range out {
			out[i] = float64(le.Uint32(raw[4*i:]))
		}
	case potv1.DataType_DATA_TYPE_INT64:
		out = make([]float64, len(raw)/8)
		for i := range out {
			out[i] = float64(int64(le.Uint64(raw[8*i:])))
		}
	case potv1.DataType_DATA_TYPE_UINT64:
		out = make([]float64, len(raw)/8)
		for i := range out {
			out[i] = float64(le.Uint64(raw[8*i:]))
		}
	default:
		return nil, fmt.Errorf("cannot compare tensors of type %v", t.GetDtype())
	}
	return out, nil
}

func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) & 1
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0:
		v := float32(frac) / 1024 * float32(math.Pow(2, -14))
		if sign == 1 {
			v = -v
		}
		return v
	case exp == 0x1f:
		if frac != 0 {
			return float32(math.NaN())
		}
		if sign == 1 {
			return float32(math.Inf(-1))
		}
		return float32(math.Inf(1))
	}
	return math.Float32frombits(sign<<31 | (exp+127-15)<<23 | frac<<13)
}
