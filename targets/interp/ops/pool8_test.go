package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/kernels"
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

// TestMaxPool8 wants max pooling of uint8 and int8 levels (runPlanesInt:
// maxPoolPairs, maxPool2DInt) equal to the plain 2-D path (runPlanesT,
// pool2D) on batches of 1..3, 1..70 channels and heights and widths
// from 1 to 76, for the 2×2/2 and 1×2/(1,2) pools of the openWakeWord
// embedding model, padded ones and ceil mode (which leave maxPoolPairs),
// and stride-1 windows; with the assembly on and off, on one and two
// threads.
func TestMaxPool8(t *testing.T) {
	for _, asm := range []bool{true, false} {
		t.Run(fmt.Sprint("asm=", asm), func(t *testing.T) {
			defer kernels.UseQAssembly(kernels.UseQAssembly(asm))
			testMaxPool8[uint8](t)
			testMaxPool8[int8](t)
		})
	}
}

func testMaxPool8[T int8 | uint8](t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	sizes := []int{1, 2, 3, 4, 5, 8, 15, 16, 32, 76}
	wins := []spatialAttrs{
		{kernel: []int{2, 2}, strides: []int{2, 2}},
		{kernel: []int{1, 2}, strides: []int{1, 2}},
		{kernel: []int{2, 2}, strides: []int{2, 2}, ceil: true},
		{kernel: []int{2, 2}, strides: []int{2, 2}, pads: []int{1, 0, 0, 0}},
		{kernel: []int{2, 2}, strides: []int{2, 2}, pads: []int{0, 1, 0, 1}},
		{kernel: []int{1, 2}, strides: []int{2, 2}},
		{kernel: []int{3, 3}, strides: []int{2, 2}},
		{kernel: []int{3, 3}, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}},
		{kernel: []int{3, 3}, strides: []int{1, 1}, pads: []int{1, 1, 1, 1}},
		{kernel: []int{1, 3}, strides: []int{1, 1}},
	}
	k := &poolKernel{kind: poolMax}
	for _, a := range wins {
		for _, h := range sizes {
			for _, w := range sizes {
				win, err := a.resolve([]int{h, w}, a.kernel)
				if err != nil || win.out[0] <= 0 || win.out[1] <= 0 {
					continue
				}
				g := newPoolGeom(win)
				n, c := 1+r.IntN(3), []int{1, 3, 70}[r.IntN(3)]
				planes := n * c
				x := make([]T, planes*g.inSize)
				for i := range x {
					x[i] = T(r.IntN(256))
				}
				want := make([]T, planes*g.out)
				runPlanesT(NewContext(1), k, g, planes, x, want, nil)
				for _, threads := range []int{1, 2} {
					ctx := NewContext(threads)
					got := make([]T, len(want))
					runPlanesInt(ctx, k, g, planes, x, got, nil)
					ctx.Close()
					for i := range got {
						if got[i] != want[i] {
							t.Fatalf("%T %+v [%d %d %d %d], %d threads: y[%d] = %d, want %d", x[0], a, n, c, h, w, threads, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}
