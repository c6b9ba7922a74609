package ops

import (
	"fmt"

	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

// QLut (domain ai.pot) maps uint8 levels through a table: Y[i] =
// table[X[i]]. Inputs X (uint8 levels, any shape and layout; Y has both)
// and table (uint8 [256], constant). The cpu target lowers an
// element-wise float operator between two per-tensor quantizers (Max
// with a constant, as TensorFlow exports clamp activations) to it, the
// table holding, for each input level, the output level the dequantize,
// operator and quantize steps give: exact, since the operator sees only
// 256 distinct values. A table that is a clamp of the levels runs as
// one (kernels.ClampU8). Attributes x_channels_last and y_channels_last,
// when present, only record the layout.

func init() { register(DomainPot, "QLut", 1, newQLut) }

func newQLut(n *Node) (Kernel, error) {
	t := n.Const(1)
	if t == nil {
		return nil, Unsupported(n, "a non-constant table is")
	}
	tab, ok := t.Data.([]uint8)
	if !ok || len(tab) != 256 {
		return nil, fmt.Errorf("table must be uint8 [256], have %v", t)
	}
	table := (*[256]uint8)(tab)
	// A table that clamps the levels (Max or Min with a constant between
	// quantizers of one grid) runs as the clamp, 32 levels at a time.
	lo, hi := table[0], table[255]
	clamp := true
	for i, v := range table {
		clamp = clamp && v == min(max(uint8(i), lo), hi)
	}
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		if err := needInputs(in, 2); err != nil {
			return err
		}
		x, ok := in[0].Data.([]uint8)
		if !ok {
			return fmt.Errorf("X must be uint8 levels, have %v", in[0].DType)
		}
		out[0].Reset(tensor.Uint8, in[0].Shape)
		y := out[0].Data.([]uint8)
		ctx.Parallel(len(x), 1<<14, func(lo, hi int) {
			xs, ys := x[lo:hi], y[lo:hi]
			if clamp {
				kernels.ClampU8(ys, xs, table[0], table[255])
				return
			}
			ys = ys[:len(xs)]
			for i, v := range xs {
				ys[i] = table[v]
			}
		})
		return nil
	}), nil
}
