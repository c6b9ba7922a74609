package gna

import (
	"fmt"
	"math"

	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// Integer ranges of GNA's data types.
const (
	Int8Lo, Int8Hi   = -128, 127
	Int16Lo, Int16Hi = -32768, 32767
	Int32Lo, Int32Hi = math.MinInt32, math.MaxInt32
)

// toInt returns the grid integer of a value: round(x / scale), half to
// even, saturated to [lo, hi]. The division is in float64, so a value
// that is q * scale rounded to float32 gives back q exactly for |q| <
// 2^24, and within 2^-24 relative beyond.
func toInt(x float32, scale float64, lo, hi int64) int64 {
	v := math.RoundToEven(float64(x) / scale)
	switch {
	case v != v:
		return 0
	case v < float64(lo):
		return lo
	case v > float64(hi):
		return hi
	}
	return int64(v)
}

// toInt16s sets dst[i] to int16(toInt(src[i], scale, lo, hi)) for
// i < len(dst), [lo, hi] lying in int16's range: with AVX2, 8 values at
// a time (the same bits: the division, the rounding and the clamps are
// the scalar ones, lane by lane), the rest in Go.
func toInt16s(dst []int16, src []float32, scale float64, lo, hi int64) {
	src = src[:len(dst)]
	for i := toInt16Vec(dst, src, scale, lo, hi); i < len(dst); i++ {
		dst[i] = int16(toInt(src[i], scale, lo, hi))
	}
}

// accToFloats sets dst[i] to float32(float64(sat32(bias+acc[i]))·scale)
// for i < len(dst), the output of a layer's accumulators: with AVX2, 4
// at a time (the same bits), the rest in Go.
func accToFloats(dst []float32, acc []int64, bias int64, scale float64) {
	acc = acc[:len(dst)]
	for i := accToFloatVec(dst, acc, bias, scale); i < len(dst); i++ {
		dst[i] = float32(float64(sat32(bias+acc[i])) * scale)
	}
}

// useToInt16Asm is whether toInt16s and accToFloats use their AVX2
// kernels (where the CPU has them; their tests compare each value with
// the scalar expression, toInt's and storeTile's).
var useToInt16Asm = hasToInt16AVX2

// sat32 saturates to int32.
func sat32(v int64) int64 { return max(Int32Lo, min(Int32Hi, v)) }

// AccumulatorBlock is how many products GNA's accumulator adds (in a
// wider register) before it saturates to int32; it saturates again at
// the end. GNA's library kernels saturate at the end of each chunk of the
// input buffer, whose size depends on the layer; pot uses this fixed
// block.
const AccumulatorBlock = 1024

// dotSat is the GNA accumulator: acc plus the dot product of x and w,
// saturated to int32 after every AccumulatorBlock products and at the
// end.
func dotSat(acc int64, x, w []int16) int64 {
	w = w[:len(x)]
	for len(x) > 0 {
		n := min(len(x), AccumulatorBlock)
		xs, ws := x[:n], w[:n]
		var s0, s1, s2, s3 int64
		k := 0
		for ; k+4 <= n; k += 4 {
			s0 += int64(xs[k]) * int64(ws[k])
			s1 += int64(xs[k+1]) * int64(ws[k+1])
			s2 += int64(xs[k+2]) * int64(ws[k+2])
			s3 += int64(xs[k+3]) * int64(ws[k+3])
		}
		for ; k < n; k++ {
			s0 += int64(xs[k]) * int64(ws[k])
		}
		acc = sat32(acc + s0 + s1 + s2 + s3)
		x, w = x[n:], w[n:]
	}
	return acc
}

// floats32 returns a float32 input as a slice.
func floats32(t *tensor.Tensor, what string) ([]float32, error) {
	if t == nil {
		return nil, fmt.Errorf("%s is missing", what)
	}
	v, ok := t.Data.([]float32)
	if !ok {
		return nil, fmt.Errorf("%s must be float32, have %v", what, t.DType)
	}
	return v, nil
}

// gridAttrs reads a grid from attributes PREFIX_scale (one float per
// channel), PREFIX_lo and PREFIX_hi.
func gridAttrs(n *ops.Node, prefix string) ([]float64, int64, int64, error) {
	s := n.Floats(prefix+"_scale", nil)
	lo, hi := n.Int(prefix+"_lo", Int16Lo), n.Int(prefix+"_hi", Int16Hi)
	if len(s) == 0 {
		return nil, 0, 0, fmt.Errorf("attribute %s_scale is missing", prefix)
	}
	out := make([]float64, len(s))
	for i, v := range s {
		if !(v > 0) || math.IsInf(float64(v), 0) {
			return nil, 0, 0, fmt.Errorf("%s_scale[%d] = %g is not a positive step", prefix, i, v)
		}
		out[i] = float64(v)
	}
	if lo >= hi || lo < Int32Lo || hi > Int32Hi {
		return nil, 0, 0, fmt.Errorf("%s range [%d, %d] is not a signed 32-bit range", prefix, lo, hi)
	}
	return out, lo, hi, nil
}

// scale1 is a per-tensor grid's step.
func scale1(n *ops.Node, s []float64, what string) (float64, error) {
	if len(s) != 1 {
		return 0, ops.Unsupported(n, "per-channel %s grid (%d steps) is", what, len(s))
	}
	return s[0], nil
}
