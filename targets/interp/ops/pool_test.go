package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/tensor"
)

// TestPool2DFastPath compares the 2-D pooling path with the generic
// N-D path (taken when MaxPool's Indices output is requested, or for 3-D
// inputs), including windows that hang over padding and ceil mode.
func TestPool2DFastPath(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct {
		op         string
		kernel     []int
		strides    []int
		pads       []int
		ceil       bool
		includePad bool
		h, w       int
	}{
		{"MaxPool", []int{2, 2}, []int{2, 2}, nil, false, false, 28, 28},
		{"MaxPool", []int{3, 3}, []int{2, 2}, []int{1, 1, 1, 1}, true, false, 9, 10},
		{"AveragePool", []int{3, 2}, []int{1, 2}, []int{1, 0, 2, 1}, false, false, 7, 8},
		{"AveragePool", []int{3, 3}, []int{2, 2}, []int{1, 1, 1, 1}, true, true, 8, 9},
	} {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			x := randTensor(r, 2, 3, tc.h, tc.w)
			run := func(x *tensor.Tensor, kernel, strides, pads []int) *tensor.Tensor {
				p := &potv1.Node{Name: "p", OpType: tc.op, Inputs: []string{"x"}, Outputs: []string{"y"}}
				p.Attributes = append(p.Attributes, intsAttr("kernel_shape", kernel), intsAttr("strides", strides))
				if pads != nil {
					p.Attributes = append(p.Attributes, intsAttr("pads", pads))
				}
				if tc.ceil {
					p.Attributes = append(p.Attributes, &potv1.Attribute{Name: "ceil_mode", Type: potv1.Attribute_TYPE_INT, I: 1})
				}
				if tc.includePad {
					p.Attributes = append(p.Attributes, &potv1.Attribute{Name: "count_include_pad", Type: potv1.Attribute_TYPE_INT, I: 1})
				}
				kind := poolMax
				if tc.op == "AveragePool" {
					kind = poolAvg
				}
				k, err := newPool(NewNode(p, 12, nil), kind)
				if err != nil {
					t.Fatal(err)
				}
				y := &tensor.Tensor{}
				if err := k.Run(NewContext(1), []*tensor.Tensor{x}, []*tensor.Tensor{y}); err != nil {
					t.Fatal(err)
				}
				return y
			}
			fast := run(x, tc.kernel, tc.strides, tc.pads)
			// The same pooling as 3-D with a unit leading dimension takes
			// the generic path.
			x3 := tensor.From([]int{2, 3, 1, tc.h, tc.w}, x.F32())
			pads3 := []int(nil)
			if tc.pads != nil {
				pads3 = []int{0, tc.pads[0], tc.pads[1], 0, tc.pads[2], tc.pads[3]}
			}
			gen := run(x3, append([]int{1}, tc.kernel...), append([]int{1}, tc.strides...), pads3)
			if fast.Len() != gen.Len() {
				t.Fatalf("shapes %v and %v", fast.Shape, gen.Shape)
			}
			for i, v := range fast.F32() {
				if math.Abs(float64(v-gen.F32()[i])) > 1e-6 {
					t.Fatalf("y[%d] = %v, generic path %v", i, v, gen.F32()[i])
				}
			}
		})
	}
}

// TestGlobalAveragePoolOrder wants GlobalAveragePool's means (four
// planes summed at a time) bit for bit equal to each plane summed
// element by element, on values whose sums depend on the order, on one
// and two threads.
func TestGlobalAveragePoolOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, shape := range [][]int{{2, 64, 7, 7}, {3, 5, 3, 3}, {1, 7, 1, 1}, {2, 3, 4, 5}} {
		n := tensor.NumElements(shape)
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(8)-4)))
		}
		size := shape[2] * shape[3]
		for _, threads := range []int{1, 2} {
			got := opCall{op: "GlobalAveragePool", opset: 13, threads: threads}.mustRun(t, tensor.From(shape, x))[0].F32()
			for p := 0; p < n/size; p++ {
				var sum float32
				for _, v := range x[p*size : (p+1)*size] {
					sum += v
				}
				if want := sum / float32(size); math.Float32bits(got[p]) != math.Float32bits(want) {
					t.Fatalf("%v: plane %d: %g, want %g", shape, p, got[p], want)
				}
			}
		}
	}
}

// TestMaxPool2DVector wants the vector path of float32 max pooling
// (maxPool2DF32) bit for bit equal to the scalar pool2D, NaNs (with
// their payloads) and zeros of both signs included, for strides 1 and 2,
// padded and unpadded windows, rows too short for the vector path, and
// the openWakeWord embedding model's 1×2 and 2×2 pools.
func TestMaxPool2DVector(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	special := []float32{math.Float32frombits(0x7fc00011), math.Float32frombits(0xffc00022), 0, float32(math.Copysign(0, -1)), float32(math.Inf(-1))}
	for _, tc := range []struct {
		kernel, strides, pads []int
		ceil                  bool
		h, w                  int
	}{
		{[]int{2, 2}, []int{2, 2}, nil, false, 28, 28},
		{[]int{1, 2}, []int{1, 2}, nil, false, 76, 32},
		{[]int{3, 3}, []int{1, 1}, []int{1, 1, 1, 1}, false, 12, 40},
		{[]int{3, 3}, []int{2, 2}, []int{1, 1, 1, 1}, true, 9, 37},
		{[]int{2, 3}, []int{2, 1}, []int{0, 2, 1, 0}, false, 7, 19},
		{[]int{2, 2}, []int{2, 2}, nil, false, 6, 6}, // rows shorter than 8
	} {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			a := spatialAttrs{kernel: tc.kernel, strides: tc.strides, pads: tc.pads, ceil: tc.ceil}
			win, err := a.resolve([]int{tc.h, tc.w}, tc.kernel)
			if err != nil {
				t.Fatal(err)
			}
			g := newPoolGeom(win)
			x := make([]float32, g.inSize)
			for i := range x {
				x[i] = float32(r.NormFloat64())
				if r.IntN(5) == 0 {
					x[i] = special[r.IntN(len(special))]
				}
			}
			k := &poolKernel{kind: poolMax}
			want, got := make([]float32, g.out), make([]float32, g.out)
			pool2D(k, g, x, want)
			maxPool2DF32(k, g, x, got, make([]float32, win.out[1]))
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("y[%d] = %v (%#x), scalar path %v (%#x)", i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
				}
			}
			// Levels: maxPool2DInt against pool2D.
			u, s8 := make([]uint8, g.inSize), make([]int8, g.inSize)
			for i := range u {
				u[i] = uint8(r.IntN(256))
				s8[i] = int8(u[i])
			}
			wantU, gotU := make([]uint8, g.out), make([]uint8, g.out)
			pool2D(k, g, u, wantU)
			maxPool2DInt(k, g, u, gotU)
			wantS, gotS := make([]int8, g.out), make([]int8, g.out)
			pool2D(k, g, s8, wantS)
			maxPool2DInt(k, g, s8, gotS)
			for i := range gotU {
				if gotU[i] != wantU[i] || gotS[i] != wantS[i] {
					t.Fatalf("levels y[%d] = %d / %d, scalar path %d / %d", i, gotU[i], gotS[i], wantU[i], wantS[i])
				}
			}
		})
	}
}
