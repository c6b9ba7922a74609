package ops

import (
	"fmt"
	"slices"
	"testing"

	"github.com/potgo/pot/targets/interp/tensor"
)

// allTypes are the element types data movement must handle.
var allTypes = []tensor.DType{
	tensor.Float, tensor.Double, tensor.Int8, tensor.Int16, tensor.Int32, tensor.Int64,
	tensor.Uint8, tensor.Uint16, tensor.Uint32, tensor.Uint64, tensor.Bool, tensor.String,
	tensor.Float16, tensor.BFloat16, tensor.Int4, tensor.Uint4,
}

// typedIota returns a tensor of type dt whose element i encodes i (mod
// a range every type can hold, or as a string).
func typedIota(t *testing.T, dt tensor.DType, shape ...int) (*tensor.Tensor, []float64) {
	n := tensor.NumElements(shape)
	vals := make([]float64, n)
	for i := range vals {
		switch dt {
		case tensor.Bool:
			vals[i] = float64(i % 2)
		case tensor.Int4, tensor.Uint4:
			vals[i] = float64(i % 8)
		default:
			vals[i] = float64(i % 100)
		}
	}
	if dt == tensor.String {
		s := make([]string, n)
		for i := range s {
			s[i] = fmt.Sprint(i % 100)
		}
		return tensor.From(shape, s), vals
	}
	switch dt {
	case tensor.Int4:
		d := make([]tensor.Int4Value, n)
		for i, v := range vals {
			d[i] = tensor.Int4Value(v)
		}
		return tensor.From(shape, d), vals
	case tensor.Uint4:
		d := make([]tensor.Uint4Value, n)
		for i, v := range vals {
			d[i] = tensor.Uint4Value(v)
		}
		return tensor.From(shape, d), vals
	}
	x, err := numberTensor(dt, shape, vals)
	if err != nil {
		t.Fatal(err)
	}
	return x, vals
}

// asFloats reads a tensor made by typedIota back.
func asFloats(t *testing.T, x *tensor.Tensor) []float64 {
	if s, ok := x.Data.([]string); ok {
		out := make([]float64, len(s))
		for i, v := range s {
			if _, err := fmt.Sscan(v, &out[i]); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	v, err := x.Float64s()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestMovementAllTypes runs the movement operators on every element type
// and compares with index arithmetic done here.
func TestMovementAllTypes(t *testing.T) {
	for _, dt := range allTypes {
		x, vals := typedIota(t, dt, 2, 3, 4)
		at := func(i, j, k int) float64 { return vals[(i*3+j)*4+k] }
		cases := []struct {
			name  string
			call  opCall
			in    []*tensor.Tensor
			shape []int
			want  func(idx []int) float64
		}{
			{"Transpose", onnxOp("Transpose", 13, aInts("perm", 2, 0, 1)), nil, []int{4, 2, 3},
				func(p []int) float64 { return at(p[1], p[2], p[0]) }},
			{"Slice", onnxOp("Slice", 13), []*tensor.Tensor{i64s([]int{2}, -1, 0), i64s([]int{2}, -100, 3), i64s([]int{2}, 2, 0), i64s([]int{2}, -2, 1)}, []int{2, 3, 2},
				func(p []int) float64 { return at(p[0], p[1], 3-2*p[2]) }},
			{"Concat", onnxOp("Concat", 13, aInt("axis", -2)), []*tensor.Tensor{x}, []int{2, 6, 4},
				func(p []int) float64 { return at(p[0], p[1]%3, p[2]) }},
			{"Gather", onnxOp("Gather", 13, aInt("axis", 2)), []*tensor.Tensor{i64s([]int{2}, -1, 0)}, []int{2, 3, 2},
				func(p []int) float64 { return at(p[0], p[1], 3*(1-p[2])) }},
			{"Pad", onnxOp("Pad", 13, aString("mode", "edge")), []*tensor.Tensor{i64s([]int{6}, 0, 1, 0, 0, 0, 1)}, []int{2, 4, 5},
				func(p []int) float64 { return at(p[0], max(p[1]-1, 0), min(p[2], 3)) }},
			{"Reshape", onnxOp("Reshape", 14), []*tensor.Tensor{i64s([]int{2}, 4, -1)}, []int{4, 6},
				func(p []int) float64 { return vals[p[0]*6+p[1]] }},
			{"Expand", onnxOp("Expand", 13), []*tensor.Tensor{i64s([]int{4}, 2, 1, 1, 1)}, []int{2, 2, 3, 4},
				func(p []int) float64 { return at(p[1], p[2], p[3]) }},
			{"Tile", onnxOp("Tile", 13), []*tensor.Tensor{i64s([]int{3}, 1, 2, 1)}, []int{2, 6, 4},
				func(p []int) float64 { return at(p[0], p[1]%3, p[2]) }},
		}
		for _, c := range cases {
			in := append([]*tensor.Tensor{x}, c.in...)
			out, err := c.call.run(in...)
			if err != nil {
				t.Fatalf("%v %s: %v", dt, c.name, err)
			}
			got := out[0]
			if got.DType != dt || !slices.Equal(got.Shape, c.shape) {
				t.Fatalf("%v %s: got %v, want %v%v", dt, c.name, got, dt, c.shape)
			}
			g := asFloats(t, got)
			idx := make([]int, len(c.shape))
			for i := range g {
				rem := i
				for k := len(c.shape) - 1; k >= 0; k-- {
					idx[k] = rem % c.shape[k]
					rem /= c.shape[k]
				}
				if w := c.want(idx); g[i] != w {
					t.Fatalf("%v %s: element %v = %v, want %v", dt, c.name, idx, g[i], w)
				}
			}
		}
	}
}

// TestCopyStridedParallel checks the threaded split of large copies
// against the single-threaded result.
func TestCopyStridedParallel(t *testing.T) {
	x := iota64(3, 200, 300)
	one := onnxOp("Transpose", 13, aInts("perm", 2, 0, 1))
	two := one
	two.threads = 2
	a := one.mustRun(t, x)[0].I64()
	b := two.mustRun(t, x)[0].I64()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("element %d: %d on one thread, %d on two", i, a[i], b[i])
		}
	}
	// And a known element: out[k, i, j] = x[i, j, k].
	if got, want := a[(7*3+2)*200+5], int64((2*200+5)*300+7); got != want {
		t.Fatalf("out[7, 2, 5] = %d, want %d", got, want)
	}
}

func TestDepthToSpaceModes(t *testing.T) {
	x := iota64(1, 8, 1, 1)
	cases := []struct {
		mode string
		want []float64
	}{
		// DCR: output channel c, block (i, j) reads input channel (i*2+j)*2+c.
		{"DCR", floats(0, 2, 4, 6, 1, 3, 5, 7)},
		// CRD: reads input channel c*4 + i*2 + j.
		{"CRD", floats(0, 1, 2, 3, 4, 5, 6, 7)},
	}
	for _, c := range cases {
		out := onnxOp("DepthToSpace", 13, aInt("blocksize", 2), aString("mode", c.mode)).mustRun(t, x)
		checkTensor(t, c.mode, out[0], []int{1, 2, 2, 2}, c.want)
		back := onnxOp("SpaceToDepth", 13, aInt("blocksize", 2)).mustRun(t, out[0])
		if c.mode == "DCR" {
			checkTensor(t, "SpaceToDepth(DepthToSpace)", back[0], []int{1, 8, 1, 1}, floats(0, 1, 2, 3, 4, 5, 6, 7))
		}
	}
}

func TestTileOpset1(t *testing.T) {
	x := iota64(2, 2)
	out := onnxOp("Tile", 1).mustRun(t, x, tensor.Scalar(int64(2)), tensor.Scalar(int64(-1)))
	checkTensor(t, "Tile-1", out[0], []int{2, 4}, floats(0, 1, 0, 1, 2, 3, 2, 3))
}
