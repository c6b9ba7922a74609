package ops

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/potgo/pot/targets/interp/tensor"
)

// intTensor is a uint8 or int8 tensor of random values, the extremes
// among them.
func intTensor(r *rand.Rand, signed bool, shape ...int) *tensor.Tensor {
	n := tensor.NumElements(shape)
	if signed {
		v := make([]int8, n)
		for i := range v {
			v[i] = int8(r.IntN(256) - 128)
		}
		v[0], v[n-1] = -128, 127
		return tensor.From(shape, v)
	}
	v := make([]uint8, n)
	for i := range v {
		v[i] = uint8(r.IntN(256))
	}
	v[0], v[n-1] = 0, 255
	return tensor.From(shape, v)
}

// zeroPoint is a zero point tensor of count values (a scalar for 0).
func zeroPoint(r *rand.Rand, signed bool, count int) *tensor.Tensor {
	shape := []int{count}
	if count == 0 {
		shape, count = nil, 1
	}
	t := intTensor(r, signed, max(count, 2))
	if signed {
		return tensor.From(shape, t.Data.([]int8)[:count])
	}
	return tensor.From(shape, t.Data.([]uint8)[:count])
}

// TestIntegerProductsMatchReference runs ConvInteger, MatMulInteger,
// QLinearConv and QLinearMatMul through the float32 GEMM and through the
// reference loops, bit for bit: uint8 and int8 operands with their
// extremes, scalar, per-row, per-column and per-channel zero points, k
// beyond one chunk of 256 terms, groups, strides, dilations, padding, and
// one and three threads.
func TestIntegerProductsMatchReference(t *testing.T) {
	defer func() { useIntGemm = true }()
	r := rand.New(rand.NewPCG(7, 8))
	type check struct {
		name string
		call opCall
		in   []*tensor.Tensor
	}
	var checks []check
	for _, signed := range []bool{false, true} {
		for _, c := range []struct {
			shape, w []int
			attrs    []int64 // strides, pads (4), dilations, group
		}{
			{[]int{2, 3, 9, 11}, []int{4, 3, 3, 3}, []int64{1, 1, 1, 1, 1, 1, 1}},
			{[]int{1, 64, 8, 8}, []int{5, 64, 3, 3}, []int64{1, 1, 1, 1, 1, 1, 1}},   // k = 576
			{[]int{1, 8, 13, 10}, []int{6, 4, 3, 2}, []int64{2, 0, 1, 2, 0, 2, 2}},   // groups, stride, dilation
			{[]int{1, 300, 4, 4}, []int{3, 300, 1, 1}, []int64{1, 0, 0, 0, 0, 1, 1}}, // 1×1, k = 300
		} {
			a := c.attrs
			call := onnxOp("ConvInteger", 10, aInts("strides", a[0], a[0]), aInts("pads", a[1], a[2], a[3], a[4]),
				aInts("dilations", a[5], a[5]), aInt("group", a[6]))
			for _, wzp := range []int{0, c.w[0]} {
				x, w := intTensor(r, false, c.shape...), intTensor(r, signed, c.w...)
				checks = append(checks, check{fmt.Sprintf("ConvInteger %v*%v signed %v wzp %d", c.shape, c.w, signed, wzp), call,
					[]*tensor.Tensor{x, w, zeroPoint(r, false, 0), zeroPoint(r, signed, wzp)}})
			}
			x, w := intTensor(r, false, c.shape...), intTensor(r, signed, c.w...)
			scale := func(n int) *tensor.Tensor {
				v := make([]float32, max(n, 1))
				for i := range v {
					v[i] = 0.001 + r.Float32()*0.01
				}
				if n == 0 {
					return tensor.From(nil, v)
				}
				return tensor.From([]int{n}, v)
			}
			qcall := onnxOp("QLinearConv", 10, aInts("strides", a[0], a[0]), aInts("pads", a[1], a[2], a[3], a[4]),
				aInts("dilations", a[5], a[5]), aInt("group", a[6]))
			checks = append(checks, check{fmt.Sprintf("QLinearConv %v*%v signed %v", c.shape, c.w, signed), qcall,
				[]*tensor.Tensor{x, scale(0), zeroPoint(r, false, 0), w, scale(c.w[0]), zeroPoint(r, signed, 0), scale(0), zeroPoint(r, false, 0)}})
		}
		for _, c := range []struct{ a, b []int }{{[]int{5, 7}, []int{7, 3}}, {[]int{2, 3, 17, 1000}, []int{1000, 9}}, {[]int{4, 300}, []int{2, 300, 6}}} {
			m, n := c.a[len(c.a)-2], c.b[len(c.b)-1]
			for _, zp := range [][2]int{{0, 0}, {m, n}} {
				a, b := intTensor(r, signed, c.a...), intTensor(r, !signed, c.b...)
				checks = append(checks, check{fmt.Sprintf("MatMulInteger %v*%v signed %v zp %v", c.a, c.b, signed, zp), onnxOp("MatMulInteger", 10),
					[]*tensor.Tensor{a, b, zeroPoint(r, signed, zp[0]), zeroPoint(r, !signed, zp[1])}})
			}
		}
	}
	// Every product at its extreme, -255·255: a chunk of more than 256
	// terms would leave float32's exact integers.
	xs, ws := make([]uint8, 64*8*8), make([]int8, 2*64*9)
	for i := range xs {
		xs[i] = 255
	}
	for i := range ws {
		ws[i] = -128
	}
	checks = append(checks, check{"ConvInteger extremes", onnxOp("ConvInteger", 10, aInts("pads", 1, 1, 1, 1)),
		[]*tensor.Tensor{tensor.From([]int{1, 64, 8, 8}, xs), tensor.From([]int{2, 64, 3, 3}, ws), tensor.From(nil, []uint8{0}), tensor.From(nil, []int8{127})}})
	for _, c := range checks {
		for _, threads := range []int{1, 3} {
			c.call.threads = threads
			useIntGemm = false
			want, err := c.call.run(c.in...)
			if err != nil {
				t.Fatalf("%s: reference: %v", c.name, err)
			}
			useIntGemm = true
			got, err := c.call.run(c.in...)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if !slices.Equal(got[0].Shape, want[0].Shape) || fmt.Sprint(got[0].Data) != fmt.Sprint(want[0].Data) {
				t.Fatalf("%s, %d threads: output differs from the reference", c.name, threads)
			}
		}
	}
}
