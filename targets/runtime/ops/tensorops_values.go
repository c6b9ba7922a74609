package ops

import (
	"fmt"
	"math"

	"github.com/potgo/pot/targets/runtime/tensor"
)

// Small helpers for reading index inputs and writing numbers into
// tensors of any numeric element type.

// inputInts returns the values of an integer input as int64s, or nil when
// the input is absent.
func inputInts(t *tensor.Tensor, what string) ([]int64, error) {
	if t == nil {
		return nil, nil
	}
	v, err := t.Int64s()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

// inputScalarInt returns the single value of a scalar (or one-element)
// integer input.
func inputScalarInt(t *tensor.Tensor, what string) (int64, error) {
	v, err := inputInts(t, what)
	if err != nil {
		return 0, err
	}
	if len(v) != 1 {
		return 0, fmt.Errorf("%s: want one value, have shape %v", what, t.Shape)
	}
	return v[0], nil
}

// toInts converts int64s to ints.
func toInts(v []int64) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// normalizeAxes maps possibly negative axes into [0, rank) and rejects
// repeats.
func normalizeAxes(axes []int64, rank int) ([]int, error) {
	out := make([]int, len(axes))
	seen := make([]bool, rank)
	for i, a := range axes {
		n, err := NormalizeAxis(a, rank)
		if err != nil {
			return nil, err
		}
		if seen[n] {
			return nil, fmt.Errorf("axis %d repeated in %v", a, axes)
		}
		seen[n] = true
		out[i] = n
	}
	return out, nil
}

// numberTensor returns a tensor of element type dt and the given shape
// holding vals converted from float64 (numeric types, bool, float16 and
// bfloat16).
func numberTensor(dt tensor.DType, shape []int, vals []float64) (*tensor.Tensor, error) {
	t := &tensor.Tensor{}
	if !dt.Supported() || dt == tensor.String {
		return nil, fmt.Errorf("element type %v is not numeric", dt)
	}
	t.Reset(dt, shape)
	if err := setFloat64s(t, vals); err != nil {
		return nil, err
	}
	return t, nil
}

// setFloat64s writes vals, converted to t's element type, into t.
func setFloat64s(t *tensor.Tensor, vals []float64) error {
	switch d := t.Data.(type) {
	case []float32:
		for i, v := range vals {
			d[i] = float32(v)
		}
	case []float64:
		copy(d, vals)
	case []int8:
		convFloat64s(d, vals)
	case []int16:
		convFloat64s(d, vals)
	case []int32:
		convFloat64s(d, vals)
	case []int64:
		convFloat64s(d, vals)
	case []uint8:
		convFloat64s(d, vals)
	case []uint16:
		convFloat64s(d, vals)
	case []uint32:
		convFloat64s(d, vals)
	case []uint64:
		convFloat64s(d, vals)
	case []bool:
		for i, v := range vals {
			d[i] = v != 0
		}
	case []tensor.Float16Bits:
		for i, v := range vals {
			d[i] = tensor.ToFloat16(float32(v))
		}
	case []tensor.BFloat16Bits:
		for i, v := range vals {
			d[i] = tensor.ToBFloat16(float32(v))
		}
	case []tensor.Int4Value:
		for i, v := range vals {
			d[i] = tensor.Int4Value(int8(v))
		}
	case []tensor.Uint4Value:
		for i, v := range vals {
			d[i] = tensor.Uint4Value(uint8(v))
		}
	default:
		return fmt.Errorf("element type %v is not numeric", t.DType)
	}
	return nil
}

func convFloat64s[T tensor.Integer](dst []T, vals []float64) {
	for i, v := range vals {
		if math.IsNaN(v) {
			dst[i] = 0
			continue
		}
		dst[i] = T(v)
	}
}

// isNonZero reports, per element, whether it differs from zero.
func isNonZero(t *tensor.Tensor) ([]bool, error) {
	out := make([]bool, t.Len())
	switch d := t.Data.(type) {
	case []float32:
		nonZero(out, d)
	case []float64:
		nonZero(out, d)
	case []int8:
		nonZero(out, d)
	case []int16:
		nonZero(out, d)
	case []int32:
		nonZero(out, d)
	case []int64:
		nonZero(out, d)
	case []uint8:
		nonZero(out, d)
	case []uint16:
		nonZero(out, d)
	case []uint32:
		nonZero(out, d)
	case []uint64:
		nonZero(out, d)
	case []bool:
		copy(out, d)
	case []string:
		nonZero(out, d)
	case []tensor.Float16Bits:
		for i, v := range d {
			out[i] = v&0x7fff != 0
		}
	case []tensor.BFloat16Bits:
		for i, v := range d {
			out[i] = v&0x7fff != 0
		}
	case []tensor.Int4Value:
		nonZero(out, d)
	case []tensor.Uint4Value:
		nonZero(out, d)
	default:
		return nil, fmt.Errorf("element type %v has no zero", t.DType)
	}
	return out, nil
}

func nonZero[T comparable](out []bool, d []T) {
	var zero T
	for i, v := range d {
		out[i] = v != zero
	}
}
