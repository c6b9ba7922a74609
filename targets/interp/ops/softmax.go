package ops

import (
	"fmt"
	"math"

	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

// softmaxMode selects Softmax, LogSoftmax or Hardmax.
type softmaxMode int

const (
	modeSoftmax softmaxMode = iota
	modeLogSoftmax
	modeHardmax
)

func init() {
	for op, mode := range map[string]softmaxMode{"Softmax": modeSoftmax, "LogSoftmax": modeLogSoftmax, "Hardmax": modeHardmax} {
		register(DomainONNX, op, 1, softmaxFactory(op, mode, true))
		register(DomainONNX, op, 13, softmaxFactory(op, mode, false))
	}
}

// softmaxFactory builds Softmax-like operators: before opset 13 the input
// is coerced to 2-D at axis (default 1) and the function runs over the
// whole second dimension; from 13 it runs along the single axis (default
// -1).
func softmaxFactory(op string, mode softmaxMode, coerce bool) Factory {
	return func(n *Node) (Kernel, error) {
		def := int64(-1)
		if coerce {
			def = 1
		}
		axis := n.Int("axis", def)
		return &softmaxKernel{op: op, mode: mode, coerce: coerce, axis: axis}, nil
	}
}

type softmaxKernel struct {
	op     string
	mode   softmaxMode
	coerce bool
	axis   int64
}

// Run implements Kernel.
func (k *softmaxKernel) Run(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 1); err != nil {
		return err
	}
	x := in[0]
	rank := len(x.Shape)
	var outer, n, inner int
	if rank == 0 {
		outer, n, inner = 1, 1, 1
	} else {
		axis, err := NormalizeAxis(k.axis, rank)
		if err != nil {
			return fmt.Errorf("%s: %w", k.op, err)
		}
		outer = tensor.NumElements(x.Shape[:axis])
		if k.coerce {
			n, inner = tensor.NumElements(x.Shape[axis:]), 1
		} else {
			n, inner = x.Shape[axis], tensor.NumElements(x.Shape[axis+1:])
		}
	}
	switch d := x.Data.(type) {
	case []float32:
		out[0].Reset(x.DType, x.Shape)
		softmaxSlice(ctx, out[0].F32(), d, outer, n, inner, k.mode)
	case []float64:
		out[0].Reset(x.DType, x.Shape)
		softmaxSlice(ctx, out[0].Data.([]float64), d, outer, n, inner, k.mode)
	case []tensor.Float16Bits, []tensor.BFloat16Bits:
		var s halfScratch
		defer s.free()
		v, _ := s.values(x)
		softmaxSlice(ctx, v, v, outer, n, inner, k.mode)
		storeHalf(out[0], x.DType, x.Shape, v)
	default:
		return errType(k.op, x.DType)
	}
	return nil
}

// softmaxSlice applies the function along the middle dimension of src
// viewed as [outer, n, inner], accumulating in float64. dst may be src.
func softmaxSlice[T floatT](ctx *Context, dst, src []T, outer, n, inner int, mode softmaxMode) {
	if n == 0 {
		return
	}
	forRange(ctx, outer*inner, n*4, func(lo, hi int) {
		var buf [expBlock]float64
		for j := lo; j < hi; j++ {
			o, i := j/inner, j%inner
			base := o*n*inner + i
			best, at := src[base], 0
			for c := 1; c < n; c++ {
				if v := src[base+c*inner]; v > best || best != best {
					best, at = v, c
				}
			}
			m := float64(best)
			switch mode {
			case modeHardmax:
				for c := 0; c < n; c++ {
					dst[base+c*inner] = 0
				}
				dst[base+at*inner] = 1
			case modeSoftmax:
				sum := 0.0
				for c0 := 0; c0 < n; c0 += expBlock {
					for k, v := range expShifted(&buf, src, base, c0, min(n, c0+expBlock), inner, false, m) {
						dst[base+(c0+k)*inner] = T(v)
						sum += v
					}
				}
				for c := 0; c < n; c++ {
					p := base + c*inner
					dst[p] = T(float64(dst[p]) / sum)
				}
			case modeLogSoftmax:
				sum := 0.0
				for c0 := 0; c0 < n; c0 += expBlock {
					for _, v := range expShifted(&buf, src, base, c0, min(n, c0+expBlock), inner, false, m) {
						sum += v
					}
				}
				ls := math.Log(sum)
				for c := 0; c < n; c++ {
					p := base + c*inner
					dst[p] = T(float64(src[p]) - m - ls)
				}
			}
		}
	})
}

// expBlock is how many exponentials softmaxSlice, Sigmoid and Exp
// compute at a time (kernels.ExpF64), in a buffer on the stack.
const expBlock = 256

// expShifted returns exp(±src[base+c·inner] - m) for c in [c0, c1) (the
// argument negated when neg), in buf, bit for bit math.Exp's: the terms
// of a softmax in order (m its maximum), or of Exp and Sigmoid (m = 0,
// which leaves every argument's bits as they are).
func expShifted[T floatT](buf *[expBlock]float64, src []T, base, c0, c1, inner int, neg bool, m float64) []float64 {
	e := buf[:c1-c0]
	for k := range e {
		e[k] = float64(src[base+(c0+k)*inner])
	}
	if neg {
		for k, v := range e {
			e[k] = -v - m
		}
	} else {
		for k, v := range e {
			e[k] = v - m
		}
	}
	kernels.ExpF64(e, e)
	return e
}
