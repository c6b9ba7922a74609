package ops

import (
	"fmt"

	"github.com/potgo/pot/targets/interp/tensor"
)

// Transpose, Expand, Tile, DepthToSpace and SpaceToDepth: operators that
// rearrange elements by strided copies.

func init() {
	register(DomainONNX, "Transpose", 1, newTranspose)
	register(DomainONNX, "Expand", 8, newExpand)
	register(DomainONNX, "Tile", 1, newTile1)
	register(DomainONNX, "Tile", 6, newTile)
	register(DomainONNX, "DepthToSpace", 1, newDepthToSpace)
	register(DomainONNX, "SpaceToDepth", 1, newSpaceToDepth)
}

func newTranspose(n *Node) (Kernel, error) {
	perm := n.Ints("perm", nil)
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		x := in[0]
		r := x.Rank()
		p := make([]int, r)
		if perm == nil {
			for i := range p {
				p[i] = r - 1 - i
			}
		} else {
			if len(perm) != r {
				return fmt.Errorf("perm %v has %d entries for rank %d", perm, len(perm), r)
			}
			seen := make([]bool, r)
			for i, a := range perm {
				if a < 0 || int(a) >= r || seen[a] {
					return fmt.Errorf("perm %v is not a permutation of %d axes", perm, r)
				}
				seen[a] = true
				p[i] = int(a)
			}
		}
		return transpose(ctx, out[0], x, p)
	}), nil
}

// transpose writes x with its axes permuted (output axis i is input axis
// p[i]) into dst.
func transpose(ctx *Context, dst, x *tensor.Tensor, p []int) error {
	shape := make([]int, len(p))
	inStr := tensor.Strides(x.Shape)
	sStr := make([]int, len(p))
	for i, a := range p {
		shape[i] = x.Shape[a]
		sStr[i] = inStr[a]
	}
	dst.Reset(x.DType, shape)
	return copyStrided(ctx, dst, x, 0, 0, shape, tensor.Strides(shape), sStr)
}

func newExpand(n *Node) (Kernel, error) {
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		x := in[0]
		s, err := inputInts(in[1], "shape")
		if err != nil {
			return err
		}
		for _, d := range s {
			if d < 0 {
				return fmt.Errorf("shape %v has a negative dimension", s)
			}
		}
		shape, err := Broadcast(x.Shape, toInts(s))
		if err != nil {
			return err
		}
		return broadcastTo(ctx, out[0], x, shape)
	}), nil
}

// broadcastTo writes x broadcast to shape into dst.
func broadcastTo(ctx *Context, dst, x *tensor.Tensor, shape []int) error {
	dst.Reset(x.DType, shape)
	return copyStrided(ctx, dst, x, 0, 0, shape, tensor.Strides(shape), BroadcastStrides(x.Shape, shape))
}

func newTile(n *Node) (Kernel, error) {
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		reps, err := inputInts(in[1], "repeats")
		if err != nil {
			return err
		}
		if len(reps) != in[0].Rank() {
			return fmt.Errorf("repeats %v has %d entries for rank %d", reps, len(reps), in[0].Rank())
		}
		return tile(ctx, out[0], in[0], reps)
	}), nil
}

// newTile1 is Tile before opset 6: a scalar count of tiles along one axis,
// both given as inputs.
func newTile1(n *Node) (Kernel, error) {
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		tiles, err := inputScalarInt(in[1], "tiles")
		if err != nil {
			return err
		}
		a, err := inputScalarInt(in[2], "axis")
		if err != nil {
			return err
		}
		axis, err := NormalizeAxis(a, in[0].Rank())
		if err != nil {
			return err
		}
		reps := make([]int64, in[0].Rank())
		for i := range reps {
			reps[i] = 1
		}
		reps[axis] = tiles
		return tile(ctx, out[0], in[0], reps)
	}), nil
}

// tile repeats x reps[k] times along each axis k: the output, viewed as
// (reps[0], d[0], reps[1], d[1], ...), reads x with stride 0 on the
// repeat dimensions.
func tile(ctx *Context, dst, x *tensor.Tensor, reps []int64) error {
	r := x.Rank()
	shape := make([]int, r)
	for k, n := range reps {
		if n < 0 {
			return fmt.Errorf("repeats %v has a negative entry", reps)
		}
		shape[k] = x.Shape[k] * int(n)
	}
	dst.Reset(x.DType, shape)
	outStr, inStr := tensor.Strides(shape), tensor.Strides(x.Shape)
	view := make([]int, 2*r)
	dStr := make([]int, 2*r)
	sStr := make([]int, 2*r)
	for k := range r {
		view[2*k], view[2*k+1] = int(reps[k]), x.Shape[k]
		dStr[2*k], dStr[2*k+1] = x.Shape[k]*outStr[k], outStr[k]
		sStr[2*k], sStr[2*k+1] = 0, inStr[k]
	}
	return copyStrided(ctx, dst, x, 0, 0, view, dStr, sStr)
}

func newDepthToSpace(n *Node) (Kernel, error) {
	b := int(n.Int("blocksize", 0))
	if b < 1 {
		return nil, fmt.Errorf("blocksize %d must be positive", b)
	}
	mode := "DCR"
	if n.Opset >= 11 {
		mode = n.String("mode", "DCR")
	}
	if mode != "DCR" && mode != "CRD" {
		return nil, Unsupported(n, "mode %q is", mode)
	}
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		x := in[0]
		if x.Rank() != 4 || x.Shape[1]%(b*b) != 0 {
			return fmt.Errorf("input %v: want rank 4 with channels divisible by blocksize² = %d", x.Shape, b*b)
		}
		N, C, H, W := x.Shape[0], x.Shape[1]/(b*b), x.Shape[2], x.Shape[3]
		// Output viewed as (N, C, H, b, W, b).
		view := []int{N, C, H, b, W, b}
		var sStr []int
		if mode == "DCR" { // input viewed as (N, b, b, C, H, W)
			sStr = []int{b * b * C * H * W, H * W, W, b * C * H * W, 1, C * H * W}
		} else { // input viewed as (N, C, b, b, H, W)
			sStr = []int{b * b * C * H * W, b * b * H * W, W, b * H * W, 1, H * W}
		}
		out[0].Reset(x.DType, []int{N, C, H * b, W * b})
		return copyStrided(ctx, out[0], x, 0, 0, view, tensor.Strides(view), sStr)
	}), nil
}

func newSpaceToDepth(n *Node) (Kernel, error) {
	b := int(n.Int("blocksize", 0))
	if b < 1 {
		return nil, fmt.Errorf("blocksize %d must be positive", b)
	}
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		x := in[0]
		if x.Rank() != 4 || x.Shape[2]%b != 0 || x.Shape[3]%b != 0 {
			return fmt.Errorf("input %v: want rank 4 with height and width divisible by blocksize %d", x.Shape, b)
		}
		N, C, H, W := x.Shape[0], x.Shape[1], x.Shape[2]/b, x.Shape[3]/b
		// Output viewed as (N, b, b, C, H, W); input as (N, C, H, b, W, b).
		view := []int{N, b, b, C, H, W}
		sStr := []int{C * H * b * W * b, W * b, 1, H * b * W * b, b * W * b, b}
		out[0].Reset(x.DType, []int{N, C * b * b, H, W})
		return copyStrided(ctx, out[0], x, 0, 0, view, tensor.Strides(view), sStr)
	}), nil
}
