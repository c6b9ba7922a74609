package ops

import (
	"fmt"

	"github.com/potgo/pot/targets/interp/tensor"
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
// holding vals converted as Cast converts.
func numberTensor(dt tensor.DType, shape []int, vals []float64) (*tensor.Tensor, error) {
	out := &tensor.Tensor{}
	if err := Convert(tensor.From(shape, vals), dt, out); err != nil {
		return nil, err
	}
	return out, nil
}

// nonZeroMask reports, per element, whether it differs from zero.
func nonZeroMask(t *tensor.Tensor) ([]bool, error) {
	var b tensor.Tensor
	if err := Convert(t, tensor.Bool, &b); err != nil {
		return nil, err
	}
	return b.Data.([]bool), nil
}
