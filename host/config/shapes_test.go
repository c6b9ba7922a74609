package config

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/potgo/pot/host/dataset"
	"github.com/potgo/pot/host/feed"
	"github.com/potgo/pot/proto/potv1"
)

func TestParseShapes(t *testing.T) {
	tests := []struct {
		values []string
		want   string // one and byName printed, or the error
	}{
		{[]string{"1,3,224,224"}, "[1 3 224 224] map[]"},
		{[]string{"input=1,512", "h=2, 1, 64"}, "[] map[h:[2 1 64] input:[1 512]]"},
		{[]string{"1,0"}, `--shape "1,0": want positive sizes`},
		{[]string{"1,,2"}, `--shape "1,,2": want positive sizes`},
		{[]string{"99999999999999999999"}, "want positive sizes"},
		{[]string{"1", "2"}, "given twice without an input name"},
		{[]string{"x=1", "x=2"}, "--shape x is given twice"},
		{[]string{"1", "x=2"}, "name every input's shape"},
	}
	for _, tc := range tests {
		one, byName, err := ParseShapes(tc.values)
		got := fmt.Sprint(one, " ", byName)
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("%q: %s, want %s", tc.values, got, tc.want)
		}
	}
}

// FuzzShapes parses arbitrary --shape values (separated by ";") and
// generates data_free samples of the shapes for a model whose inputs
// have symbolic sizes of the same ranks: nothing may panic or allocate
// the size a shape claims beyond the limits, and generated samples read
// as finite values of the sample shape.
func FuzzShapes(f *testing.F) {
	for _, s := range []string{"1,3,224,224", "input=1,512;h=2,1,64;c=2,1,64", "3037000500,3037000500", "99999999999999", "x=1;x=2", "1;2", "0", "-1", " 4 , 4 ", "a=67108864;b=5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		one, byName, err := ParseShapes(strings.Split(s, ";"))
		if err != nil {
			return
		}
		symbolic := func(name string, rank int) feed.Input {
			in := feed.Input{Name: name, DType: potv1.DataType_DATA_TYPE_FLOAT, Shape: make([]int, rank)}
			for i := range in.Shape {
				in.Shape[i] = -1
				in.Dims = append(in.Dims, &potv1.Dim{Value: &potv1.Dim_Param{Param: "N"}})
			}
			return in
		}
		var inputs []feed.Input
		if one != nil {
			inputs = append(inputs, symbolic("x", len(one)))
		}
		for name, shape := range byName {
			inputs = append(inputs, symbolic(name, len(shape)))
		}
		// Shapes within the limits but large only make runs slow: what
		// matters is the ones beyond, which must fail before allocating.
		total, largest := 0, 0
		for _, shape := range append([][]int{one}, slices.Collect(maps.Values(byName))...) {
			per := 1
			for _, d := range shape {
				per = min(per*min(d, math.MaxInt32), math.MaxInt32)
			}
			total, largest = total+per, max(largest, per)
		}
		if total > 1<<20 && largest <= dataset.MaxSampleElements {
			return
		}
		ds, err := Generate(inputs, one, byName, nil, 3, 1)
		if err != nil {
			return
		}
		n, err := dataset.BuildSize(ds.Len(), ds.SampleShape())
		if err != nil {
			t.Fatalf("generated samples beyond the limits: %v", err)
		}
		if n > 1<<20 {
			return // within the limits, but slow to generate per run
		}
		dst := make([]float32, n)
		for i := 0; i < ds.Len(); i++ {
			if _, err := ds.Read(i, dst); err != nil {
				t.Fatalf("sample %d of %v: %v", i, ds.SampleShape(), err)
			}
			for _, v := range dst {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("sample %d holds %v", i, v)
				}
			}
		}
	})
}
