package tensor

import (
	"slices"
	"testing"
)

func TestViewAndCopyRows(t *testing.T) {
	src := From([]int{4, 2, 3}, []uint8{
		0, 1, 2, 3, 4, 5,
		10, 11, 12, 13, 14, 15,
		20, 21, 22, 23, 24, 25,
		30, 31, 32, 33, 34, 35,
	})
	for _, tc := range []struct {
		lo, hi int
		want   []uint8
	}{
		{0, 1, []uint8{0, 1, 2, 3, 4, 5}},
		{1, 3, []uint8{10, 11, 12, 13, 14, 15, 20, 21, 22, 23, 24, 25}},
		{4, 4, []uint8{}},
	} {
		var v Tensor
		v.ViewRows(src, tc.lo, tc.hi)
		if !slices.Equal(v.Shape, []int{tc.hi - tc.lo, 2, 3}) || v.DType != Uint8 || !slices.Equal(v.Data.([]uint8), tc.want) {
			t.Errorf("rows [%d, %d): %v %v %v, want %v", tc.lo, tc.hi, v.DType, v.Shape, v.Data, tc.want)
		}
		dst := New(Uint8, 4, 2, 3)
		if err := dst.CopyRows(tc.lo, &v); err != nil {
			t.Fatal(err)
		}
		per := 6
		if !slices.Equal(dst.Data.([]uint8)[tc.lo*per:tc.hi*per], tc.want) {
			t.Errorf("copy to row %d: %v", tc.lo, dst.Data)
		}
	}
	var v Tensor
	v.ViewRows(src, 2, 4)
	for _, bad := range []*Tensor{New(Uint8, 4, 3, 2), New(Float, 4, 2, 3), New(Uint8, 3, 2, 3)} {
		if err := bad.CopyRows(2, &v); err == nil {
			t.Errorf("rows %v copied into %v %v at row 2", v.Shape, bad.DType, bad.Shape)
		}
	}
}

func TestAppendRows(t *testing.T) {
	for _, tc := range []struct {
		name      string
		acc, src  *Tensor
		wantShape []int
		want      any
	}{
		{"float", From([]int{1, 2}, []float32{1, 2}), From([]int{2, 2}, []float32{3, 4, 5, 6}), []int{3, 2}, []float32{1, 2, 3, 4, 5, 6}},
		{"string", From([]int{1}, []string{"a"}), From([]int{2}, []string{"b", "c"}), []int{3}, []string{"a", "b", "c"}},
		{"int4", From([]int{1, 3}, []Int4Value{-8, 0, 7}), From([]int{1, 3}, []Int4Value{1, 2, 3}), []int{2, 3}, []Int4Value{-8, 0, 7, 1, 2, 3}},
		{"float16", From([]int{1, 1, 1}, []Float16Bits{0x3c00}), From([]int{1, 1, 1}, []Float16Bits{0x4000}), []int{2, 1, 1}, []Float16Bits{0x3c00, 0x4000}},
		{"no rows", From([]int{0, 2}, []int64{}), From([]int{1, 2}, []int64{7, 8}), []int{1, 2}, []int64{7, 8}},
	} {
		if err := tc.acc.AppendRows(tc.src); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !slices.Equal(tc.acc.Shape, tc.wantShape) {
			t.Errorf("%s: shape %v, want %v", tc.name, tc.acc.Shape, tc.wantShape)
		}
		if got := tc.acc.Data; !equalData(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	acc := From([]int{1, 2, 3}, make([]float32, 6))
	for _, bad := range []*Tensor{
		From([]int{1, 3, 2}, make([]float32, 6)), // other row shape
		From([]int{1, 2, 3}, make([]float64, 6)), // other type
		From([]int{6}, make([]float32, 6)),       // other rank
		Scalar[float32](1),
	} {
		if err := acc.AppendRows(bad); err == nil {
			t.Errorf("%v %v appended to %v %v", bad.DType, bad.Shape, acc.DType, acc.Shape)
		}
	}
	if !slices.Equal(acc.Shape, []int{1, 2, 3}) || acc.Len() != len(acc.F32()) {
		t.Errorf("refused appends changed the tensor: %v, %d values", acc.Shape, len(acc.F32()))
	}
	if err := Scalar[float32](1).AppendRows(Scalar[float32](2)); err == nil {
		t.Error("a scalar took rows")
	}
}

func equalData(a, b any) bool {
	switch x := a.(type) {
	case []float32:
		return slices.Equal(x, b.([]float32))
	case []string:
		return slices.Equal(x, b.([]string))
	case []Int4Value:
		return slices.Equal(x, b.([]Int4Value))
	case []Float16Bits:
		return slices.Equal(x, b.([]Float16Bits))
	case []int64:
		return slices.Equal(x, b.([]int64))
	}
	return false
}
