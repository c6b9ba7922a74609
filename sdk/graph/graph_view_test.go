package graph

import (
	"testing"
)

func TestFloat32ViewMatchesFloat32s(t *testing.T) {
	w := FloatTensor("w", []int64{2, 2}, []float32{1, -2, 3.5, 4})
	v, err := Float32View(w)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := Float32s(w)
	for i := range c {
		if v[i] != c[i] {
			t.Fatalf("%v, want %v", v, c)
		}
	}
	w.Dims = []int64{3}
	if _, err := Float32View(w); err == nil {
		t.Error("dims disagreeing with the data were accepted")
	}
}
