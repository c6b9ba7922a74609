package ops

import (
	"fmt"
	"math"
	"slices"

	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

// QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear. Opset 13
// adds per-axis parameters, 19 float16/bfloat16 scales (float8 types are
// not supported), 21 blocked parameters and 4- and 16-bit integers.

func init() {
	register(DomainONNX, "QuantizeLinear", 10, newQuantizeLinear)
	register(DomainONNX, "QuantizeLinear", 13, newQuantizeLinear)
	register(DomainONNX, "QuantizeLinear", 19, newQuantizeLinear)
	register(DomainONNX, "QuantizeLinear", 21, newQuantizeLinear)
	register(DomainONNX, "DequantizeLinear", 10, newDequantizeLinear)
	register(DomainONNX, "DequantizeLinear", 13, newDequantizeLinear)
	register(DomainONNX, "DequantizeLinear", 19, newDequantizeLinear)
	register(DomainONNX, "DequantizeLinear", 21, newDequantizeLinear)
	register(DomainONNX, "DynamicQuantizeLinear", 11, newDynamicQuantizeLinear)
}

// quantAttrs reads the axis and block_size attributes allowed at n's opset.
func quantAttrs(n *Node) (axis int64, blockSize int, err error) {
	axis = 1
	if n.Opset >= 13 {
		axis = n.Int("axis", 1)
	}
	if n.Opset >= 21 {
		bs := n.Int("block_size", 0)
		if bs < 0 {
			return 0, 0, fmt.Errorf("block_size %d is negative", bs)
		}
		blockSize = int(bs)
	}
	return axis, blockSize, nil
}

func newQuantizeLinear(n *Node) (Kernel, error) {
	axis, blockSize, err := quantAttrs(n)
	if err != nil {
		return nil, err
	}
	outType := tensor.Uint8
	if n.Opset >= 21 {
		if dt := tensor.DType(n.Int("output_dtype", 0)); dt != tensor.Undefined {
			outType = dt
		}
	}
	if len(n.InputTypes) > 2 && n.InputTypes[2] != tensor.Undefined {
		outType = n.InputTypes[2]
	}
	if _, _, ok := intRange(outType); !ok {
		return nil, Unsupported(n, "output type %v is", outType)
	}
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		x, scale := in[0], in[1]
		zp := in[2:]
		var zpT *tensor.Tensor
		if len(zp) > 0 {
			zpT = zp[0]
		}
		ot := outType
		if zpT != nil {
			ot = zpT.DType
		}
		lo, hi, ok := intRange(ot)
		if !ok {
			return &UnsupportedError{Node: n.Name(), OpType: n.OpType(), Reason: fmt.Sprintf("output type %v is", ot)}
		}
		xs, err := floatValues(x)
		if err != nil {
			return fmt.Errorf("x: %w", err)
		}
		l, err := newQuantLayout(x, scale, axis, blockSize)
		if err != nil {
			return fmt.Errorf("y_scale: %w", err)
		}
		scales, err := floatValues(scale)
		if err != nil {
			return fmt.Errorf("y_scale: %w", err)
		}
		zps := make([]float64, scale.Len())
		if zpT != nil {
			if !slices.Equal(zpT.Shape, scale.Shape) && zpT.Len() != scale.Len() {
				return fmt.Errorf("y_zero_point %v does not match y_scale %v", zpT, scale)
			}
			if zps, err = zpT.Float64s(); err != nil {
				return fmt.Errorf("y_zero_point: %w", err)
			}
		}
		bands := make([]quantizeBand, len(zps))
		for i, z := range zps {
			bands[i] = newQuantizeBand(float32(z), lo, hi).withRounding(n.Rounding)
		}
		dst := out[0]
		dst.Reset(ot, x.Shape)
		switch d := dst.Data.(type) {
		case []uint8:
			quantizeInto(ctx, d, xs, scales, bands, l)
		case []int8:
			quantizeInto(ctx, d, xs, scales, bands, l)
		case []uint16:
			quantizeInto(ctx, d, xs, scales, bands, l)
		case []int16:
			quantizeInto(ctx, d, xs, scales, bands, l)
		case []tensor.Uint4Value:
			quantizeInto(ctx, d, xs, scales, bands, l)
		case []tensor.Int4Value:
			quantizeInto(ctx, d, xs, scales, bands, l)
		}
		return nil
	}), nil
}

func newDequantizeLinear(n *Node) (Kernel, error) {
	axis, blockSize, err := quantAttrs(n)
	if err != nil {
		return nil, err
	}
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		x, scale := in[0], in[1]
		var zpT *tensor.Tensor
		if len(in) > 2 {
			zpT = in[2]
		}
		switch x.DType {
		case tensor.Uint8, tensor.Int8, tensor.Uint16, tensor.Int16, tensor.Int32, tensor.Uint4, tensor.Int4:
		default:
			return &UnsupportedError{Node: n.Name(), OpType: n.OpType(), Reason: fmt.Sprintf("input type %v is", x.DType)}
		}
		if zpT != nil && zpT.DType != x.DType {
			return fmt.Errorf("x_zero_point %v does not match x %v", zpT, x)
		}
		switch scale.DType {
		case tensor.Float, tensor.Float16, tensor.BFloat16:
		default:
			return fmt.Errorf("x_scale must be a float tensor, have %v", scale)
		}
		l, err := newQuantLayout(x, scale, axis, blockSize)
		if err != nil {
			return fmt.Errorf("x_scale: %w", err)
		}
		scales, err := floatValues(scale)
		if err != nil {
			return err
		}
		zps := make([]float32, scale.Len())
		if zpT != nil {
			if zpT.Len() != scale.Len() {
				return fmt.Errorf("x_zero_point %v does not match x_scale %v", zpT, scale)
			}
			z, err := zpT.Float64s()
			if err != nil {
				return err
			}
			for i, v := range z {
				zps[i] = float32(v)
			}
		}
		dst := out[0]
		half := isHalf(scale.DType)
		var y []float32
		if half {
			y = make([]float32, x.Len())
		} else {
			dst.Reset(tensor.Float, x.Shape)
			y = dst.F32()
		}
		switch d := x.Data.(type) {
		case []uint8:
			dequantizeInto(ctx, y, d, zps, scales, l)
		case []int8:
			dequantizeInto(ctx, y, d, zps, scales, l)
		case []uint16:
			dequantizeInto(ctx, y, d, zps, scales, l)
		case []int16:
			dequantizeInto(ctx, y, d, zps, scales, l)
		case []int32:
			dequantizeInto(ctx, y, d, zps, scales, l)
		case []tensor.Uint4Value:
			dequantizeInto(ctx, y, d, zps, scales, l)
		case []tensor.Int4Value:
			dequantizeInto(ctx, y, d, zps, scales, l)
		}
		if half {
			storeHalf(dst, scale.DType, x.Shape, y)
		}
		return nil
	}), nil
}

// dequantizeInto sets y[k] = (float32(x[k]) - zp) * scale with the zero
// point and scale of each element's parameter index.
func dequantizeInto[T qint | ~int32](ctx *Context, y []float32, x []T, zps, scales []float32, l quantLayout) {
	rows := l.outer * l.dim
	ctx.Parallel(rows, max(1, parallelMin/max(l.inner, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			o, c := r/l.dim, r%l.dim
			xs, ys := x[r*l.inner:(r+1)*l.inner], y[r*l.inner:(r+1)*l.inner]
			if l.blockSize > 0 {
				for i, v := range xs {
					p := l.index(o, c, i)
					ys[i] = (float32(v) - zps[p]) * scales[p]
				}
				continue
			}
			p := l.index(o, c, 0)
			z, s := zps[p], scales[p]
			for i := dequantize8(ys, xs, z, s); i < len(xs); i++ {
				ys[i] = (float32(xs[i]) - z) * s
			}
		}
	})
}

// dequantize8 dequantizes the first elements of 8-bit x in assembly
// (kernels.Dequantize8) and returns how many it did; none for wider
// types.
func dequantize8[T qint | ~int32](y []float32, x []T, z, s float32) int {
	switch d := any(x).(type) {
	case []uint8:
		return kernels.Dequantize8(y, d, false, z, s)
	case []int8:
		return kernels.Dequantize8(y, int8Bytes(d), true, z, s)
	}
	return 0
}

func newDynamicQuantizeLinear(n *Node) (Kernel, error) {
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		x, ok := in[0].Data.([]float32)
		if !ok {
			return fmt.Errorf("x must be float32, have %v", in[0])
		}
		lo, hi := float32(0), float32(0)
		for _, v := range x {
			lo = min(lo, v)
			hi = max(hi, v)
		}
		scale := (hi - lo) / 255
		zp := float32(0)
		if scale > 0 && !math.IsInf(float64(scale), 0) {
			zp = RoundHalfEven(min(max(-lo/scale, 0), 255))
		}
		band := newQuantizeBand(zp, 0, 255).withRounding(n.Rounding)
		y := out[0]
		y.Reset(tensor.Uint8, in[0].Shape)
		d := y.Data.([]uint8)
		if scale > 0 {
			quantizeInto(ctx, d, x, []float32{scale}, []quantizeBand{band}, quantLayout{outer: 1, dim: 1, inner: len(x)})
		} else {
			clear(d)
		}
		if len(out) > 1 && out[1] != nil {
			out[1].Reset(tensor.Float, []int{})
			out[1].F32()[0] = scale
		}
		if len(out) > 2 && out[2] != nil {
			out[2].Reset(tensor.Uint8, []int{})
			out[2].Data.([]uint8)[0] = uint8(zp)
		}
		return nil
	}), nil
}
