package gna

import (
	"fmt"

	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// GnaAffine (domain ai.pot) is GNA's affine layer, the integer form of a
// Gemm or MatMul with constant weights:
//
//	acc[m,n] = sat32(bias[n] + sum_k x[m,k]*w[n,k])
//	y[m,n]   = acc[m,n] * alpha * x_scale * w_scale[n]
//
// x = round(X / x_scale) saturated to [x_lo, x_hi] (int16), w =
// round(W / w_scale) saturated to [w_lo, w_hi] (int8 or int16), bias =
// sat32(round(beta * B / (alpha * x_scale * w_scale))). The sum
// saturates to int32 after every AccumulatorBlock products and at the
// end (see dotSat). Attributes: matmul (1: MatMul
// semantics, X of any rank with K last, W [K, N]), trans_a, trans_b,
// alpha, beta (Gemm), the grids x_* and w_* (w_scale per output channel
// or one). Inputs X, W (constant), B (optional constant, shape [], [N] or
// [1, N]). The output is float32 on the accumulator grid.
type affine struct {
	matmul, transA bool
	k, n           int
	w              []int16 // [n][k]
	bias           []int64
	accScale       []float64
	xScale         float64
	xLo, xHi       int64
}

func newAffine(n *ops.Node) (ops.Kernel, error) {
	k := &affine{matmul: n.Int("matmul", 0) != 0, transA: n.Int("trans_a", 0) != 0}
	transB := n.Int("trans_b", 0) != 0
	alpha, beta := float64(n.Float("alpha", 1)), float64(n.Float("beta", 1))
	l, err := readLayer(n)
	if err != nil {
		return nil, err
	}
	k.xScale, k.xLo, k.xHi = l.xScale, l.xLo, l.xHi
	if len(l.w.Shape) != 2 || (k.matmul && transB) {
		return nil, ops.Unsupported(n, "weights of shape %v are", l.w.Shape)
	}
	if transB {
		k.n, k.k = l.w.Shape[0], l.w.Shape[1]
	} else {
		k.k, k.n = l.w.Shape[0], l.w.Shape[1]
	}
	if err := l.checkChannels(k.n); err != nil {
		return nil, err
	}
	k.w = make([]int16, k.n*k.k)
	k.accScale = make([]float64, k.n)
	for c := 0; c < k.n; c++ {
		for i := 0; i < k.k; i++ {
			idx := i*k.n + c
			if transB {
				idx = c*k.k + i
			}
			k.w[c*k.k+i] = l.weight(idx, c)
		}
		k.accScale[c] = alpha * k.xScale * l.step(c)
	}
	if b := n.Const(2); b != nil && len(b.Shape) == 2 && b.Shape[0] != 1 {
		return nil, ops.Unsupported(n, "a bias of shape %v is", b.Shape)
	}
	if k.bias, err = l.bias(n, k.accScale, beta); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *affine) Run(ctx *ops.Context, in, out []*tensor.Tensor) error {
	x, err := floats32(in[0], "X")
	if err != nil {
		return err
	}
	shape := in[0].Shape
	var rows int
	var outShape []int
	switch {
	case k.matmul:
		if len(shape) == 0 || shape[len(shape)-1] != k.k {
			return fmt.Errorf("X of shape %v for weights with %d rows", shape, k.k)
		}
		rows = len(x) / k.k
		outShape = append(append([]int(nil), shape[:len(shape)-1]...), k.n)
	default:
		if len(shape) != 2 {
			return fmt.Errorf("X of shape %v is not a matrix", shape)
		}
		rows = shape[0]
		if k.transA {
			rows = shape[1]
		}
		if rows*k.k != len(x) {
			return fmt.Errorf("X of shape %v for weights with %d inputs", shape, k.k)
		}
		outShape = []int{rows, k.n}
	}
	xi := make([]int16, len(x))
	for r := 0; r < rows; r++ {
		for i := 0; i < k.k; i++ {
			idx := r*k.k + i
			if k.transA {
				idx = i*rows + r
			}
			xi[r*k.k+i] = int16(toInt(x[idx], k.xScale, k.xLo, k.xHi))
		}
	}
	out[0].Reset(tensor.Float, outShape)
	y := out[0].F32()
	ctx.Parallel(rows, max(1, 4096/max(1, k.k*k.n/64)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := xi[r*k.k : (r+1)*k.k]
			for c := 0; c < k.n; c++ {
				acc := dotSat(k.bias[c], row, k.w[c*k.k:(c+1)*k.k])
				y[r*k.n+c] = float32(float64(acc) * k.accScale[c])
			}
		}
	})
	return nil
}
