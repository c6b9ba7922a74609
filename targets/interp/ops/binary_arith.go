package ops

import (
	"math"

	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

// floatT is the set of Go float element types with native arithmetic.
type floatT interface{ float32 | float64 }

// arithOp names an element-wise arithmetic operator.
type arithOp int

const (
	opAdd arithOp = iota
	opSub
	opMul
	opDiv
	opMin
	opMax
	opMod  // Mod with fmod=0: the result has the divisor's sign
	opFmod // Mod with fmod=1: the result has the dividend's sign
	opShl
	opShr
)

func init() {
	registerBinary("Add", arithTable(opAdd), true, 7)
	registerBinary("Sub", arithTable(opSub), true, 7)
	registerBinary("Mul", arithTable(opMul), true, 7)
	registerBinary("Div", arithTable(opDiv), true, 7)
	register(DomainONNX, "Mod", 10, modFactory)
	register(DomainONNX, "BitShift", 11, bitShiftFactory)
}

var (
	modTable  = arithTable(opMod)
	fmodTable = arithTable(opFmod)
	shlTable  = intTable(opShl)
	shrTable  = intTable(opShr)
)

func modFactory(n *Node) (Kernel, error) {
	t := modTable
	if n.Int("fmod", 0) != 0 {
		t = fmodTable
	}
	return binaryFactory("Mod", t, false)(n)
}

func bitShiftFactory(n *Node) (Kernel, error) {
	switch dir := n.String("direction", ""); dir {
	case "LEFT":
		return binaryFactory("BitShift", shlTable, false)(n)
	case "RIGHT":
		return binaryFactory("BitShift", shrTable, false)(n)
	default:
		return nil, Unsupported(n, "direction %q is", dir)
	}
}

// arithTable returns the implementations of op for every numeric type.
func arithTable(op arithOp) *binTable {
	t := intTable(op)
	t[tensor.Float] = implOf(f32Loops(op))
	t[tensor.Double] = implOf(floatLoops[float64](op))
	return t
}

// f32Loops returns the float32 loops of op: AVX2 kernels, bit for bit
// the scalar loops they replace, where there are some.
func f32Loops(op arithOp) binLoops[float32, float32] {
	f32 := floatLoops[float32](op)
	switch op {
	case opAdd:
		f32 = binLoops[float32, float32]{kernels.AddF32, kernels.AddF32VS, kernels.AddF32SV}
	case opSub:
		f32.vs, f32.sv = kernels.SubF32VS, kernels.SubF32SV
	case opMul:
		f32 = binLoops[float32, float32]{kernels.MulF32, kernels.MulF32VS, kernels.MulF32SV}
	case opDiv:
		f32.vs, f32.sv = kernels.DivF32VS, kernels.DivF32SV
	case opMax: // vector kernels with the scalar rule of maxOf
		f32 = binLoops[float32, float32]{kernels.MaxF32, kernels.MaxF32VS, kernels.MaxF32SV}
	case opMin:
		f32 = binLoops[float32, float32]{kernels.MinF32, kernels.MinF32VS, kernels.MinF32SV}
	}
	return f32
}

// f32ArithLoops are the float32 loops of the arithmetic operators a
// Chain takes: the same functions as their kernels'.
var f32ArithLoops = map[string]binLoops[float32, float32]{
	"Add": f32Loops(opAdd), "Sub": f32Loops(opSub), "Mul": f32Loops(opMul), "Div": f32Loops(opDiv),
}

// intTable returns the implementations of op for the integer types.
func intTable(op arithOp) *binTable {
	t := &binTable{}
	t[tensor.Int8] = implOf(intLoops[int8](op))
	t[tensor.Int16] = implOf(intLoops[int16](op))
	t[tensor.Int32] = implOf(intLoops[int32](op))
	t[tensor.Int64] = implOf(intLoops[int64](op))
	t[tensor.Uint8] = implOf(intLoops[uint8](op))
	t[tensor.Uint16] = implOf(intLoops[uint16](op))
	t[tensor.Uint32] = implOf(intLoops[uint32](op))
	t[tensor.Uint64] = implOf(intLoops[uint64](op))
	return t
}

// commonLoops returns the loops of the operators that read the same for
// integers and floats, or ok=false.
func commonLoops[T tensor.Number](op arithOp) (binLoops[T, T], bool) {
	switch op {
	case opAdd:
		return binLoops[T, T]{addVV[T], addVS[T], addSV[T]}, true
	case opSub:
		return binLoops[T, T]{subVV[T], subVS[T], subSV[T]}, true
	case opMul:
		return binLoops[T, T]{mulVV[T], mulVS[T], mulSV[T]}, true
	case opMin:
		return scalarLoops(minOf[T]), true
	case opMax:
		return scalarLoops(maxOf[T]), true
	}
	return binLoops[T, T]{}, false
}

func floatLoops[T floatT](op arithOp) binLoops[T, T] {
	if l, ok := commonLoops[T](op); ok {
		return l
	}
	switch op {
	case opDiv:
		return binLoops[T, T]{divVV[T], divVS[T], divSV[T]}
	case opMod:
		return scalarLoops(func(a, b T) T {
			r := math.Mod(float64(a), float64(b))
			if r != 0 && (r < 0) != (b < 0) {
				r += float64(b)
			}
			return T(r)
		})
	case opFmod:
		return scalarLoops(func(a, b T) T { return T(math.Mod(float64(a), float64(b))) })
	}
	panic("ops: no float loops for this operator")
}

func intLoops[T tensor.Integer](op arithOp) binLoops[T, T] {
	if l, ok := commonLoops[T](op); ok {
		return l
	}
	switch op {
	case opDiv:
		return scalarLoops(func(a, b T) T {
			if b == 0 {
				return 0
			}
			return a / b
		})
	case opMod:
		return scalarLoops(func(a, b T) T {
			if b == 0 {
				return 0
			}
			r := a % b
			if r != 0 && (r < 0) != (b < 0) {
				r += b
			}
			return r
		})
	case opFmod:
		return scalarLoops(func(a, b T) T {
			if b == 0 {
				return 0
			}
			return a % b
		})
	case opShl:
		return scalarLoops(func(a, b T) T { return a << uint64(b) })
	case opShr:
		return scalarLoops(func(a, b T) T { return a >> uint64(b) })
	}
	panic("ops: no integer loops for this operator")
}

// minOf is the smaller of a and b, NaN if either is NaN.
func minOf[T tensor.Number](a, b T) T {
	if a != a || a < b {
		return a
	}
	return b
}

// maxOf is the larger of a and b, NaN if either is NaN.
func maxOf[T tensor.Number](a, b T) T {
	if a != a || a > b {
		return a
	}
	return b
}

func addVV[T tensor.Number](dst, a, b []T) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

func addVS[T tensor.Number](dst, a []T, b T) {
	a = a[:len(dst)]
	for i := range dst {
		dst[i] = a[i] + b
	}
}

func addSV[T tensor.Number](dst []T, a T, b []T) {
	b = b[:len(dst)]
	for i := range dst {
		dst[i] = a + b[i]
	}
}

func subVV[T tensor.Number](dst, a, b []T) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] - b[i]
	}
}

func subVS[T tensor.Number](dst, a []T, b T) {
	a = a[:len(dst)]
	for i := range dst {
		dst[i] = a[i] - b
	}
}

func subSV[T tensor.Number](dst []T, a T, b []T) {
	b = b[:len(dst)]
	for i := range dst {
		dst[i] = a - b[i]
	}
}

func mulVV[T tensor.Number](dst, a, b []T) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}

func mulVS[T tensor.Number](dst, a []T, b T) {
	a = a[:len(dst)]
	for i := range dst {
		dst[i] = a[i] * b
	}
}

func mulSV[T tensor.Number](dst []T, a T, b []T) {
	b = b[:len(dst)]
	for i := range dst {
		dst[i] = a * b[i]
	}
}

func divVV[T floatT](dst, a, b []T) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] / b[i]
	}
}

func divVS[T floatT](dst, a []T, b T) {
	a = a[:len(dst)]
	for i := range dst {
		dst[i] = a[i] / b
	}
}

func divSV[T floatT](dst []T, a T, b []T) {
	b = b[:len(dst)]
	for i := range dst {
		dst[i] = a / b[i]
	}
}
