package tensor

import "fmt"

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
	if t.DType != src.DType || len(t.Shape) != len(src.Shape) || len(t.Shape) == 0 || at < 0 || at+src.Shape[0] > t.Shape[0] {
		return fmt.Errorf("copy rows: %v %v at row %d of %v %v", src.DType, src.Shape, at, t.DType, t.Shape)
	}
	for i := 1; i < len(t.Shape); i++ {
		if t.Shape[i] != src.Shape[i] {
			return fmt.Errorf("copy rows: %v %v at row %d of %v %v", src.DType, src.Shape, at, t.DType, t.Shape)
		}
	}
	per := NumElements(t.Shape[1:])
	dst := &Tensor{DType: t.DType, Shape: src.Shape, Data: sliceData(t.Data, at*per, (at+src.Shape[0])*per)}
	dst.copyData(src)
	return nil
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
