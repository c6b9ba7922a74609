package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/tensor"
)

// maxPoolNode returns a MaxPool kernel of the given window.
func maxPoolNode(tb testing.TB, kernel, strides, pads []int) Kernel {
	p := &potv1.Node{Name: "p", OpType: "MaxPool", Inputs: []string{"x"}, Outputs: []string{"y"}}
	p.Attributes = append(p.Attributes, intsAttr("kernel_shape", kernel), intsAttr("strides", strides))
	if pads != nil {
		p.Attributes = append(p.Attributes, intsAttr("pads", pads))
	}
	k, err := newPool(NewNode(p, 12, nil), poolMax)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// BenchmarkMaxPoolU8 runs the uint8 MaxPools of the openWakeWord
// embedding model (int8 QDQ) on a batch of 64 samples, one thread.
func BenchmarkMaxPoolU8(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		shape           []int
		kernel, strides []int
	}{
		{[]int{64, 24, 72, 32}, []int{2, 2}, []int{2, 2}},
		{[]int{64, 48, 32, 16}, []int{1, 2}, []int{1, 2}},
		{[]int{64, 72, 28, 8}, []int{2, 2}, []int{2, 2}},
		{[]int{64, 96, 10, 4}, []int{1, 2}, []int{1, 2}},
		{[]int{64, 96, 6, 2}, []int{2, 2}, []int{2, 2}},
	} {
		b.Run(fmt.Sprintf("%v_k%dx%d_s%dx%d", tc.shape, tc.kernel[0], tc.kernel[1], tc.strides[0], tc.strides[1]), func(b *testing.B) {
			k := maxPoolNode(b, tc.kernel, tc.strides, nil)
			d := make([]uint8, tensor.NumElements(tc.shape))
			for i := range d {
				d[i] = uint8(r.IntN(256))
			}
			x, y := tensor.From(tc.shape, d), &tensor.Tensor{}
			ctx := NewContext(1)
			b.SetBytes(int64(len(d)))
			for b.Loop() {
				if err := k.Run(ctx, []*tensor.Tensor{x}, []*tensor.Tensor{y}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
