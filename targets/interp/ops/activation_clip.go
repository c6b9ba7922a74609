package ops

import (
	"fmt"
	"math"

	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

func init() {
	register(DomainONNX, "Clip", 1, clipAttrFactory)
	register(DomainONNX, "Clip", 11, func(n *Node) (Kernel, error) { return &clipKernel{}, nil })
}

// clipKernel is Clip: with bounds from attributes before opset 11 (attr
// set), from optional scalar inputs after.
type clipKernel struct {
	attr   bool
	lo, hi float64
}

// Run implements Kernel.
func (k *clipKernel) Run(ctx *Context, in, out []*tensor.Tensor) error {
	if k.attr {
		return k.runAttr(ctx, in, out)
	}
	return runClip(ctx, in, out)
}

// clipAttrFactory is Clip before opset 11, with min and max attributes.
func clipAttrFactory(n *Node) (Kernel, error) {
	return &clipKernel{attr: true, lo: float64(n.Float("min", float32(math.Inf(-1)))), hi: float64(n.Float("max", float32(math.Inf(1))))}, nil
}

// runAttr is Clip before opset 11.
func (k *clipKernel) runAttr(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 1); err != nil {
		return err
	}
	x := in[0]
	switch x.DType {
	case tensor.Float, tensor.Float16, tensor.BFloat16:
		return clipInputs(ctx, x, tensor.Scalar(float32(k.lo)), tensor.Scalar(float32(k.hi)), out[0])
	case tensor.Double:
		return clipInputs(ctx, x, tensor.Scalar(k.lo), tensor.Scalar(k.hi), out[0])
	}
	return errType("Clip", x.DType)
}

// runClip is Clip from opset 11: min and max are optional scalar inputs.
func runClip(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 1); err != nil {
		return err
	}
	var lo, hi *tensor.Tensor
	if len(in) > 1 {
		lo = in[1]
	}
	if len(in) > 2 {
		hi = in[2]
	}
	return clipInputs(ctx, in[0], lo, hi, out[0])
}

// clipInputs computes out = min(max(x, lo), hi) where lo and hi are
// scalar tensors of x's type (of Float for 16-bit x), nil for no bound.
func clipInputs(ctx *Context, x, lo, hi, out *tensor.Tensor) error {
	switch d := x.Data.(type) {
	case []float32:
		return clipTyped(ctx, x, d, lo, hi, out, kernels.ClipF32)
	case []float64:
		return clipTyped(ctx, x, d, lo, hi, out, clipSlice)
	case []int8:
		return clipTyped(ctx, x, d, lo, hi, out, clipSlice)
	case []int16:
		return clipTyped(ctx, x, d, lo, hi, out, clipSlice)
	case []int32:
		return clipTyped(ctx, x, d, lo, hi, out, clipSlice)
	case []int64:
		return clipTyped(ctx, x, d, lo, hi, out, clipSlice)
	case []uint8:
		return clipTyped(ctx, x, d, lo, hi, out, clipSlice)
	case []uint16:
		return clipTyped(ctx, x, d, lo, hi, out, clipSlice)
	case []uint32:
		return clipTyped(ctx, x, d, lo, hi, out, clipSlice)
	case []uint64:
		return clipTyped(ctx, x, d, lo, hi, out, clipSlice)
	case []tensor.Float16Bits, []tensor.BFloat16Bits:
		var s halfScratch
		defer s.free()
		v, _ := s.values(x)
		bound := func(t *tensor.Tensor) (*tensor.Tensor, error) {
			if t == nil || t.DType == tensor.Float {
				return t, nil
			}
			f, err := asF32(t)
			if err != nil {
				return nil, fmt.Errorf("Clip: bound: %w", err)
			}
			return tensor.From(t.Shape, f), nil
		}
		l, err := bound(lo)
		if err != nil {
			return err
		}
		h, err := bound(hi)
		if err != nil {
			return err
		}
		tmp := s.result(len(v))
		if err := clipTyped(ctx, tensor.From(x.Shape, v), v, l, h, tmp, kernels.ClipF32); err != nil {
			return err
		}
		storeHalf(out, x.DType, x.Shape, tmp.F32())
		return nil
	}
	return errType("Clip", x.DType)
}

// clipTyped clips src into out with clip: clipSlice, or for float32 the
// AVX2 kernel of the same rule.
func clipTyped[T tensor.Number](ctx *Context, x *tensor.Tensor, src []T, lo, hi, out *tensor.Tensor, clip func(dst, src []T, lo, hi T)) error {
	l, h := lowest[T](), highest[T]()
	var err error
	if l, err = scalarOf(lo, l); err != nil {
		return fmt.Errorf("Clip: min: %w", err)
	}
	if h, err = scalarOf(hi, h); err != nil {
		return fmt.Errorf("Clip: max: %w", err)
	}
	out.Reset(x.DType, x.Shape)
	dst := out.Data.([]T)
	if !splits(ctx, len(src), 1) {
		clip(dst, src, l, h)
		return nil
	}
	ctx.Parallel(len(src), grainFor(1), func(a, b int) { clip(dst[a:b], src[a:b], l, h) })
	return nil
}

func clipSlice[T tensor.Number](dst, src []T, lo, hi T) {
	src = src[:len(dst)]
	for i, x := range src {
		if x < lo {
			x = lo
		}
		if x > hi {
			x = hi
		}
		dst[i] = x
	}
}

// scalarOf returns the single element of t, or def for a nil t.
func scalarOf[T tensor.Number](t *tensor.Tensor, def T) (T, error) {
	if t == nil {
		return def, nil
	}
	d, ok := t.Data.([]T)
	if !ok {
		return def, fmt.Errorf("type %v, want %v", t.DType, tensor.DTypeOf[T]())
	}
	if len(d) != 1 {
		return def, fmt.Errorf("shape %v is not a scalar", t.Shape)
	}
	return d[0], nil
}

// lowest is the least value of T: -Inf for floats.
func lowest[T tensor.Number]() T {
	var z T
	switch any(z).(type) {
	case float32:
		return any(float32(math.Inf(-1))).(T)
	case float64:
		return any(math.Inf(-1)).(T)
	case int8:
		return any(int8(math.MinInt8)).(T)
	case int16:
		return any(int16(math.MinInt16)).(T)
	case int32:
		return any(int32(math.MinInt32)).(T)
	case int64:
		return any(int64(math.MinInt64)).(T)
	}
	return 0 // unsigned
}

// highest is the greatest value of T: +Inf for floats.
func highest[T tensor.Number]() T {
	var z T
	switch any(z).(type) {
	case float32:
		return any(float32(math.Inf(1))).(T)
	case float64:
		return any(math.Inf(1)).(T)
	case int8:
		return any(int8(math.MaxInt8)).(T)
	case int16:
		return any(int16(math.MaxInt16)).(T)
	case int32:
		return any(int32(math.MaxInt32)).(T)
	case int64:
		return any(int64(math.MaxInt64)).(T)
	case uint8:
		return any(uint8(math.MaxUint8)).(T)
	case uint16:
		return any(uint16(math.MaxUint16)).(T)
	case uint32:
		return any(uint32(math.MaxUint32)).(T)
	}
	return any(uint64(math.MaxUint64)).(T)
}
