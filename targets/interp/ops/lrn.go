package ops

import (
	"fmt"
	"math"

	"github.com/potgo/pot/targets/interp/tensor"
)

func init() {
	register(DomainONNX, "LRN", 1, newLRN)
	register(DomainONNX, "LRN", 13, newLRN)
}

type lrn struct {
	alpha, beta, bias float64
	size              int
}

func newLRN(n *Node) (Kernel, error) {
	size := int(n.Int("size", 0))
	if size < 1 {
		return nil, fmt.Errorf("size %d must be positive", size)
	}
	return &lrn{alpha: float64(n.Float("alpha", 1e-4)), beta: float64(n.Float("beta", 0.75)), bias: float64(n.Float("bias", 1)), size: size}, nil
}

// Run computes y = x / (bias + alpha/size · sum of x² over the channels
// [c - floor((size-1)/2), c + ceil((size-1)/2)])^beta.
func (k *lrn) Run(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 1); err != nil {
		return err
	}
	x := in[0]
	if x.Rank() < 2 {
		return fmt.Errorf("input of shape %v: want rank 2 or more", x.Shape)
	}
	n, c := x.Shape[0], x.Shape[1]
	sp := tensor.NumElements(x.Shape[2:])
	f32 := func(xs, ys []float32) error { lrnApply(ctx, k, xs, ys, n, c, sp); return nil }
	f64 := func(xs, ys []float64) error { lrnApply(ctx, k, xs, ys, n, c, sp); return nil }
	return runFloat(x, out[0], f32, f64)
}

func lrnApply[T floatT](ctx *Context, k *lrn, x, y []T, n, c, sp int) {
	before, after := (k.size-1)/2, k.size/2
	ctx.Parallel(n*c, 1, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			b, ch := p/c, p%c
			c0, c1 := max(0, ch-before), min(c-1, ch+after)
			for i := 0; i < sp; i++ {
				var ss float64
				for cc := c0; cc <= c1; cc++ {
					v := float64(x[(b*c+cc)*sp+i])
					ss += v * v
				}
				y[p*sp+i] = T(float64(x[p*sp+i]) / math.Pow(k.bias+k.alpha/float64(k.size)*ss, k.beta))
			}
		}
	})
}
