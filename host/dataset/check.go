package dataset

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Check reports an error wrapping ErrShapeMismatch when the samples of ds
// cannot feed the model input named input whose shape is want (with or
// without a leading batch dimension; dimensions <= 0 are symbolic and match
// any size). Shapes that differ only by dimensions of size 1 (e.g. samples
// [28 28] for an input [N 1 28 28]) are accepted: the samples' values are
// laid out identically. The error names both shapes, e.g.
//
//	data gives samples of shape [3 32 32], the model input "x" wants [N 1 28 28]
func Check(ds Dataset, input string, want []int) error {
	return CheckShape(ds.SampleShape(), input, want)
}

// CheckShape is Check for a sample shape.
func CheckShape(sample []int, input string, want []int) error {
	if shapeFits(sample, want) {
		return nil
	}
	return errorf(ErrShapeMismatch, "data gives samples of shape %s, the model input %q wants %s",
		FormatShape(sample, false), input, FormatShape(want, true))
}

// shapeFits reports whether samples of shape sample feed an input of
// shape want.
func shapeFits(sample, want []int) bool {
	match := func(w []int) bool {
		if len(w) != len(sample) {
			return false
		}
		for i, d := range w {
			if d > 0 && d != sample[i] {
				return false
			}
		}
		return true
	}
	if len(want) > 0 && match(want[1:]) {
		return true // want has a batch dimension
	}
	if len(want) > 0 && want[0] > 0 && match(want) {
		return true // a fixed shape without batch dimension
	}
	// Squeeze unit dimensions (and the batch dimension) when no other
	// dimension is symbolic.
	if len(want) == 0 {
		return false
	}
	rest := want[1:]
	if slices.ContainsFunc(rest, func(d int) bool { return d <= 0 }) {
		return false
	}
	return slices.Equal(squeeze(sample), squeeze(rest))
}

// squeeze drops dimensions of size 1.
func squeeze(s []int) []int {
	return slices.DeleteFunc(slices.Clone(s), func(d int) bool { return d == 1 })
}

// FormatShape formats a shape as [a b c]; with batch, a symbolic (<= 0)
// first dimension prints as N, other symbolic dimensions as ?.
func FormatShape(shape []int, batch bool) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		switch {
		case d > 0:
			parts[i] = strconv.Itoa(d)
		case i == 0 && batch:
			parts[i] = "N"
		default:
			parts[i] = "?"
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// String returns a short description of a data set: its Stringer if it
// has one, else its size and sample shape.
func String(ds Dataset) string {
	if s, ok := ds.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%d samples of shape %v, labelled=%v", ds.Len(), ds.SampleShape(), ds.Labelled())
}
