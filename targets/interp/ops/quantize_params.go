package ops

import (
	"fmt"
	"math"
	"slices"
	"unsafe"

	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

// Shared arithmetic of QuantizeLinear, DequantizeLinear and FakeQuantize.

// roundMagic is 1.5·2^23: adding and subtracting it rounds a float32 of
// magnitude below 2^22 to an integer, ties to even (the FPU's mode).
const roundMagic = float32(1 << 23 * 1.5)

// fastRoundLimit bounds the magnitudes rounded with roundMagic.
const fastRoundLimit = float32(1 << 22)

// quantizeBand precomputes clamp(RoundHalfEven(v) + zp, lo, hi) for one
// zero point and range. It first clamps v to [lo-zp-1, hi-zp+1], which
// changes no result and keeps v small enough to round by roundMagic.
// With another rounding than half to even (withRounding) it rounds so,
// on the slow path.
type quantizeBand struct {
	zp, lo, hi float32
	vlo, vhi   float32
	fast       bool
	rounding   Rounding
}

func newQuantizeBand(zp, lo, hi float32) quantizeBand {
	b := quantizeBand{zp: zp, lo: lo, hi: hi, vlo: lo - zp - 1, vhi: hi - zp + 1}
	b.fast = b.vlo > -fastRoundLimit && b.vhi < fastRoundLimit
	return b
}

// withRounding returns the band rounding by r.
func (b quantizeBand) withRounding(r Rounding) quantizeBand {
	b.rounding = r
	if r != RoundingHalfToEven {
		b.fast = false
	}
	return b
}

// apply returns clamp(Round(v) + zp, lo, hi); NaN stays NaN.
func (b *quantizeBand) apply(v float32) float32 {
	if v < b.vlo {
		v = b.vlo
	} else if v > b.vhi {
		v = b.vhi
	}
	var r float32
	if b.fast {
		r = float32(float32(v+roundMagic)-roundMagic) + b.zp
	} else {
		r = b.rounding.Round(v) + b.zp
	}
	if r < b.lo {
		return b.lo
	}
	if r > b.hi {
		return b.hi
	}
	return r
}

// quantLayout says which scale and zero point apply to each element of a
// tensor viewed as (outer, dim, inner), dim being the quantization axis:
// one for all (per-tensor), one per axis index (per-axis), or one per
// block of blockSize axis indices (blocked, opset 21), the parameters then
// forming a tensor of shape (outer, ceil(dim/blockSize), inner).
type quantLayout struct {
	outer, dim, inner int
	perAxis           bool
	blockSize         int
}

// newQuantLayout checks a parameter tensor's shape against x's.
func newQuantLayout(x, param *tensor.Tensor, axis int64, blockSize int) (quantLayout, error) {
	l := quantLayout{outer: 1, dim: 1, inner: x.Len()}
	if blockSize <= 0 && param.Len() == 1 {
		return l, nil
	}
	a, err := NormalizeAxis(axis, x.Rank())
	if err != nil {
		return l, err
	}
	l.outer = tensor.NumElements(x.Shape[:a])
	l.dim = x.Shape[a]
	l.inner = tensor.NumElements(x.Shape[a+1:])
	if blockSize > 0 {
		nb := (l.dim + blockSize - 1) / blockSize
		want := append([]int(nil), x.Shape...)
		want[a] = nb
		if !slices.Equal(param.Shape, want) {
			return l, fmt.Errorf("block_size %d: parameter shape %v, want %v", blockSize, param.Shape, want)
		}
		l.blockSize = blockSize
		return l, nil
	}
	if param.Rank() != 1 || param.Len() != l.dim {
		return l, fmt.Errorf("per-axis parameter of shape %v for axis %d of %v", param.Shape, a, x.Shape)
	}
	l.perAxis = true
	return l, nil
}

// index returns the parameter index of element (o, c, i).
func (l *quantLayout) index(o, c, i int) int {
	switch {
	case l.blockSize > 0:
		nb := (l.dim + l.blockSize - 1) / l.blockSize
		return (o*nb+c/l.blockSize)*l.inner + i
	case l.perAxis:
		return c
	}
	return 0
}

// floatValues returns a float (or, for QuantizeLinear before opset 19,
// int32) tensor's values as float32s.
func floatValues(t *tensor.Tensor) ([]float32, error) {
	if d, ok := t.Data.([]int32); ok {
		out := make([]float32, len(d))
		for i, v := range d {
			out[i] = float32(v)
		}
		return out, nil
	}
	return asF32(t)
}

// intRange returns the range of a quantized integer type.
func intRange(dt tensor.DType) (lo, hi float32, ok bool) {
	switch dt {
	case tensor.Uint8:
		return 0, math.MaxUint8, true
	case tensor.Int8:
		return math.MinInt8, math.MaxInt8, true
	case tensor.Uint16:
		return 0, math.MaxUint16, true
	case tensor.Int16:
		return math.MinInt16, math.MaxInt16, true
	case tensor.Uint4:
		return 0, 15, true
	case tensor.Int4:
		return -8, 7, true
	}
	return 0, 0, false
}

// qint is the set of quantized integer element types.
type qint interface {
	~uint8 | ~int8 | ~uint16 | ~int16
}

// quantizeInto sets dst[k] = clamp(RoundHalfEven(x[k]/scale)+zp, lo, hi)
// with the scale and band of each element's parameter index. NaN
// quantizes to the zero point.
func quantizeInto[T qint](ctx *Context, dst []T, x, scales []float32, bands []quantizeBand, l quantLayout) {
	rows := l.outer * l.dim
	ctx.Parallel(rows, max(1, parallelMin/max(l.inner, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			o, c := r/l.dim, r%l.dim
			xs, ds := x[r*l.inner:(r+1)*l.inner], dst[r*l.inner:(r+1)*l.inner]
			if l.blockSize > 0 {
				for i, v := range xs {
					p := l.index(o, c, i)
					ds[i] = T(bands[p].quantize(v / scales[p]))
				}
				continue
			}
			p := l.index(o, c, 0)
			s, b := scales[p], &bands[p]
			for i := quantize8(ds, xs, s, b); i < len(xs); i++ {
				ds[i] = T(b.quantize(xs[i] / s))
			}
		}
	})
}

// quantize8 quantizes the first elements of x into 8-bit dst in
// assembly (kernels.Quantize8) and returns how many it did: none for
// 16-bit types or magnitudes too large to round in float32.
func quantize8[T qint](dst []T, x []float32, s float32, b *quantizeBand) int {
	if !b.fast {
		return 0
	}
	switch d := any(dst).(type) {
	case []uint8:
		return kernels.Quantize8(d, x, false, s, b.vlo, b.vhi, b.zp, b.lo, b.hi)
	case []int8:
		return kernels.Quantize8(int8Bytes(d), x, true, s, b.vlo, b.vhi, b.zp, b.lo, b.hi)
	}
	return 0
}

// int8Bytes views int8 levels as the bytes the 8-bit kernels take.
func int8Bytes(d []int8) []uint8 {
	return unsafe.Slice((*uint8)(unsafe.Pointer(unsafe.SliceData(d))), len(d))
}

// quantize is apply with NaN mapped to the zero point, for conversion to
// an integer type.
func (b *quantizeBand) quantize(v float32) float32 {
	r := b.apply(v)
	if r != r {
		return b.zp
	}
	return r
}
