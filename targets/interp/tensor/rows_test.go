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
