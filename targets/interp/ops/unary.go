package ops

import (
	"fmt"
	"math"

	"github.com/potgo/pot/targets/interp/tensor"
)

// floatFunc is an element-wise function of floats. f is the reference,
// computed in float64 for every float type (float32 and 16-bit results are
// rounded from it); f32, when set, is a tight float32 loop used instead
// of f for Float tensors.
type floatFunc struct {
	f   func(x float64) float64
	f32 func(dst, src []float32)
}

// apply computes out = fn(in) element-wise.
func (fn *floatFunc) apply(ctx *Context, op string, in, out *tensor.Tensor) error {
	switch d := in.Data.(type) {
	case []float32:
		out.Reset(tensor.Float, in.Shape)
		dst := out.F32()
		if !splits(ctx, len(d), 1) {
			fn.run32(dst, d)
			return nil
		}
		ctx.Parallel(len(d), grainFor(1), func(lo, hi int) { fn.run32(dst[lo:hi], d[lo:hi]) })
	case []float64:
		out.Reset(tensor.Double, in.Shape)
		dst := out.Data.([]float64)
		f := fn.f
		forRange(ctx, len(d), 1, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				dst[i] = f(d[i])
			}
		})
	case []tensor.Float16Bits, []tensor.BFloat16Bits:
		var s halfScratch
		defer s.free()
		v, _ := s.values(in)
		fn.run32(v, v)
		storeHalf(out, in.DType, in.Shape, v)
	default:
		return errType(op, in.DType)
	}
	return nil
}

func (fn *floatFunc) run32(dst, src []float32) {
	if fn.f32 != nil {
		fn.f32(dst, src)
		return
	}
	f := fn.f
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = float32(f(float64(x)))
	}
}

// numFunc is an element-wise function of any numeric type: flt for the
// float types (see floatFunc), sgn for signed and uns for unsigned
// integers (computed in 64 bits and converted back).
type numFunc struct {
	flt floatFunc
	sgn func(x int64) int64
	uns func(x uint64) uint64
}

// apply computes out = fn(in) element-wise.
func (fn *numFunc) apply(ctx *Context, op string, in, out *tensor.Tensor) error {
	if in.DType.IsFloat() {
		return fn.flt.apply(ctx, op, in, out)
	}
	if signed := isSignedType(in.DType); signed && fn.sgn == nil || !signed && fn.uns == nil {
		return errType(op, in.DType)
	}
	out.Reset(in.DType, in.Shape)
	switch d := in.Data.(type) {
	case []int8:
		mapSigned(out.Data.([]int8), d, fn.sgn)
	case []int16:
		mapSigned(out.Data.([]int16), d, fn.sgn)
	case []int32:
		mapSigned(out.Data.([]int32), d, fn.sgn)
	case []int64:
		mapSigned(out.Data.([]int64), d, fn.sgn)
	case []uint8:
		mapUnsigned(out.Data.([]uint8), d, fn.uns)
	case []uint16:
		mapUnsigned(out.Data.([]uint16), d, fn.uns)
	case []uint32:
		mapUnsigned(out.Data.([]uint32), d, fn.uns)
	case []uint64:
		mapUnsigned(out.Data.([]uint64), d, fn.uns)
	default:
		return errType(op, in.DType)
	}
	return nil
}

func mapSigned[T int8 | int16 | int32 | int64](dst, src []T, f func(int64) int64) {
	for i, x := range src {
		dst[i] = T(f(int64(x)))
	}
}

func mapUnsigned[T uint8 | uint16 | uint32 | uint64](dst, src []T, f func(uint64) uint64) {
	for i, x := range src {
		dst[i] = T(f(uint64(x)))
	}
}

// unaryKernel is the kernel of an element-wise function of one input.
type unaryKernel struct {
	op  string
	num *numFunc // nil: floats only
	flt *floatFunc
}

// Run implements Kernel.
func (k *unaryKernel) Run(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 1); err != nil {
		return err
	}
	if k.num != nil {
		return k.num.apply(ctx, k.op, in[0], out[0])
	}
	return k.flt.apply(ctx, k.op, in[0], out[0])
}

func isSignedType(dt tensor.DType) bool {
	return dt == tensor.Int8 || dt == tensor.Int16 || dt == tensor.Int32 || dt == tensor.Int64
}

// floatKernel returns the kernel of a float function.
func floatKernel(op string, fn floatFunc) Kernel {
	return &unaryKernel{op: op, flt: &fn}
}

// numKernel returns the kernel of a numeric function.
func numKernel(op string, fn numFunc) Kernel {
	return &unaryKernel{op: op, num: &fn, flt: &fn.flt}
}

// registerFloat registers an attribute-free float function from opset 1.
func registerFloat(op string, since int64, f func(float64) float64) {
	k := floatKernel(op, floatFunc{f: f})
	register(DomainONNX, op, since, func(n *Node) (Kernel, error) { return k, nil })
}

func init() {
	registerFloat("Sqrt", 1, math.Sqrt)
	exp := floatKernel("Exp", floatFunc{f: math.Exp, f32: expF32})
	register(DomainONNX, "Exp", 1, func(n *Node) (Kernel, error) { return exp, nil })
	registerFloat("Log", 1, math.Log)
	registerFloat("Reciprocal", 1, func(x float64) float64 { return 1 / x })
	registerFloat("Floor", 1, math.Floor)
	registerFloat("Ceil", 1, math.Ceil)
	registerFloat("Round", 11, math.RoundToEven)
	registerFloat("Sin", 7, math.Sin)
	registerFloat("Cos", 7, math.Cos)
	registerFloat("Tan", 7, math.Tan)
	registerFloat("Asin", 7, math.Asin)
	registerFloat("Acos", 7, math.Acos)
	registerFloat("Atan", 7, math.Atan)
	registerFloat("Sinh", 9, math.Sinh)
	registerFloat("Cosh", 9, math.Cosh)
	registerFloat("Asinh", 9, math.Asinh)
	registerFloat("Acosh", 9, math.Acosh)
	registerFloat("Atanh", 9, math.Atanh)
	registerFloat("Erf", 9, math.Erf)

	registerNum("Neg", 1, numFunc{
		flt: floatFunc{f: func(x float64) float64 { return -x }},
		sgn: func(x int64) int64 { return -x },
		uns: func(x uint64) uint64 { return -x },
	})
	registerNum("Abs", 1, numFunc{
		flt: floatFunc{f: math.Abs},
		sgn: func(x int64) int64 {
			if x < 0 {
				return -x
			}
			return x
		},
		uns: func(x uint64) uint64 { return x },
	})
	registerNum("Sign", 9, numFunc{
		flt: floatFunc{f: signFloat},
		sgn: func(x int64) int64 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			}
			return 0
		},
		uns: func(x uint64) uint64 {
			if x > 0 {
				return 1
			}
			return 0
		},
	})

	register(DomainONNX, "Not", 1, func(n *Node) (Kernel, error) { return KernelFunc(runNot), nil })
	register(DomainONNX, "IsNaN", 9, func(n *Node) (Kernel, error) {
		return predicateKernel("IsNaN", func(x float64) bool { return x != x }), nil
	})
	register(DomainONNX, "IsInf", 10, func(n *Node) (Kernel, error) {
		neg, pos := n.Int("detect_negative", 1) != 0, n.Int("detect_positive", 1) != 0
		return predicateKernel("IsInf", func(x float64) bool {
			return pos && math.IsInf(x, 1) || neg && math.IsInf(x, -1)
		}), nil
	})
}

// registerNum registers an attribute-free numeric function.
func registerNum(op string, since int64, fn numFunc) {
	k := numKernel(op, fn)
	register(DomainONNX, op, since, func(n *Node) (Kernel, error) { return k, nil })
}

func signFloat(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return x // 0, -0 or NaN
}

func runNot(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 1); err != nil {
		return err
	}
	src, ok := in[0].Data.([]bool)
	if !ok {
		return errType("Not", in[0].DType)
	}
	out[0].Reset(tensor.Bool, in[0].Shape)
	dst := out[0].Data.([]bool)
	for i, v := range src {
		dst[i] = !v
	}
	return nil
}

// predicateKernel returns the kernel of a bool-valued test of floats.
func predicateKernel(op string, f func(float64) bool) Kernel {
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		if err := needInputs(in, 1); err != nil {
			return err
		}
		if !in[0].DType.IsFloat() {
			return errType(op, in[0].DType)
		}
		vals, err := in[0].Float64s()
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		out[0].Reset(tensor.Bool, in[0].Shape)
		dst := out[0].Data.([]bool)
		for i, v := range vals {
			dst[i] = f(v)
		}
		return nil
	})
}

// expF32 is Exp of float32 values through float64, as float32(math.Exp)
// gives them: kernels.ExpF64 is bit for bit math.Exp.
func expF32(dst, src []float32) {
	src = src[:len(dst)]
	var buf [expBlock]float64
	for i0 := 0; i0 < len(dst); i0 += expBlock {
		for k, v := range expShifted(&buf, src, 0, i0, min(len(dst), i0+expBlock), 1, false, 0) {
			dst[i0+k] = float32(v)
		}
	}
}
