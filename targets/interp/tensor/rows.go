package tensor

import (
	"fmt"
	"slices"
)

// ViewRows makes t a view of rows [lo, hi) of src along its first axis:
// t shares src's storage (writes to one show in the other) and has the
// shape [hi-lo, src.Shape[1:]...]. t's own storage is dropped.
func (t *Tensor) ViewRows(src *Tensor, lo, hi int) {
	if len(src.Shape) == 0 || lo < 0 || hi < lo || hi > src.Shape[0] {
		panic(fmt.Sprintf("tensor.ViewRows: rows [%d, %d) of shape %v", lo, hi, src.Shape))
	}
	per := NumElements(src.Shape[1:])
	t.Shape = append(append(t.Shape[:0], hi-lo), src.Shape[1:]...)
	t.DType = src.DType
	t.spare = nil
	t.Data = sliceData(src.Data, lo*per, hi*per)
}

// CopyRows copies the rows of src into t from row at on along its first
// axis; t must have src's element type and shape but for the first axis.
func (t *Tensor) CopyRows(at int, src *Tensor) error {
	if !SameRows(t, src) || at < 0 || at+src.Shape[0] > t.Shape[0] {
		return fmt.Errorf("copy rows: %v %v at row %d of %v %v", src.DType, src.Shape, at, t.DType, t.Shape)
	}
	per := NumElements(t.Shape[1:])
	dst := &Tensor{DType: t.DType, Shape: src.Shape, Data: sliceData(t.Data, at*per, (at+src.Shape[0])*per)}
	dst.copyData(src)
	return nil
}

// AppendRows appends the rows of src to t along their first axis; t
// must have src's element type and shape but for the first axis
// (SameRows). t's storage grows as a slice does, so t must own it: not
// a view of another tensor's rows.
func (t *Tensor) AppendRows(src *Tensor) error {
	if !SameRows(t, src) {
		return fmt.Errorf("append rows: %v %v to %v %v", src.DType, src.Shape, t.DType, t.Shape)
	}
	t.Data = appendData(t.Data, src.Data)
	t.Shape[0] += src.Shape[0]
	return nil
}

// SameRows reports whether a and b hold rows of the same kind along
// their first axis: the same element type, a rank of at least 1 and the
// same sizes on every other axis.
func SameRows(a, b *Tensor) bool {
	return a.DType == b.DType && len(a.Shape) > 0 && len(a.Shape) == len(b.Shape) && slices.Equal(a.Shape[1:], b.Shape[1:])
}

// appendData returns append(dst, src...) for the slice types of
// Tensor.Data, both of one type.
func appendData(dst, src any) any {
	switch d := dst.(type) {
	case []float32:
		return append(d, src.([]float32)...)
	case []float64:
		return append(d, src.([]float64)...)
	case []int8:
		return append(d, src.([]int8)...)
	case []int16:
		return append(d, src.([]int16)...)
	case []int32:
		return append(d, src.([]int32)...)
	case []int64:
		return append(d, src.([]int64)...)
	case []uint8:
		return append(d, src.([]uint8)...)
	case []uint16:
		return append(d, src.([]uint16)...)
	case []uint32:
		return append(d, src.([]uint32)...)
	case []uint64:
		return append(d, src.([]uint64)...)
	case []bool:
		return append(d, src.([]bool)...)
	case []string:
		return append(d, src.([]string)...)
	case []Float16Bits:
		return append(d, src.([]Float16Bits)...)
	case []BFloat16Bits:
		return append(d, src.([]BFloat16Bits)...)
	case []Int4Value:
		return append(d, src.([]Int4Value)...)
	case []Uint4Value:
		return append(d, src.([]Uint4Value)...)
	}
	panic(fmt.Sprintf("tensor: unsupported data %T", dst))
}

// sliceData returns data[lo:hi] for the slice types of Tensor.Data.
func sliceData(data any, lo, hi int) any {
	switch d := data.(type) {
	case []float32:
		return d[lo:hi]
	case []float64:
		return d[lo:hi]
	case []int8:
		return d[lo:hi]
	case []int16:
		return d[lo:hi]
	case []int32:
		return d[lo:hi]
	case []int64:
		return d[lo:hi]
	case []uint8:
		return d[lo:hi]
	case []uint16:
		return d[lo:hi]
	case []uint32:
		return d[lo:hi]
	case []uint64:
		return d[lo:hi]
	case []bool:
		return d[lo:hi]
	case []string:
		return d[lo:hi]
	case []Float16Bits:
		return d[lo:hi]
	case []BFloat16Bits:
		return d[lo:hi]
	case []Int4Value:
		return d[lo:hi]
	case []Uint4Value:
		return d[lo:hi]
	}
	panic(fmt.Sprintf("tensor: unsupported data %T", data))
}
