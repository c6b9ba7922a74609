package target

import (
	"github.com/potgo/pot/proto/potv1"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// The runtime's types a target needs for its own kernels (Operators) and
// numeric policy (Policy), re-exported so that a target imports this
// package alone.

// Tensor is a dense row-major tensor: an element type, a shape and a
// typed Go slice ([]float32 for Float, []int8 for Int8, []int32 for
// Int32, ...). A kernel gives an output its type and shape with Reset,
// which reuses the storage of earlier runs; F32 returns float32 data.
type Tensor = tensor.Tensor

// DType is an element type, numbered as ONNX's TensorProto.DataType.
type DType = tensor.DType

// Element types of tensors.
const (
	Float   = tensor.Float
	Float16 = tensor.Float16
	Double  = tensor.Double
	Int8    = tensor.Int8
	Uint8   = tensor.Uint8
	Int16   = tensor.Int16
	Int32   = tensor.Int32
	Int64   = tensor.Int64
	Bool    = tensor.Bool
)

// NewTensor allocates a zero tensor.
func NewTensor(dtype DType, shape ...int) *Tensor { return tensor.New(dtype, shape...) }

// ToProto encodes a tensor for the protocol (an Infer input, say).
func ToProto(name string, t *Tensor) *potv1.Tensor { return rt.ToProto(name, t) }

// FromProto decodes a protocol tensor (an Infer output, say).
func FromProto(p *potv1.Tensor) (*Tensor, error) { return rt.FromProto(p) }

// Node is what Operator.New sees of a graph node: its name, type and
// attributes (Int, Float, String, Ints, ...), the opset it is read under,
// and the values of its constant inputs (Const).
type Node = ops.Node

// Kernel runs one node: Run(ctx, in, out) computes out (one entry per
// node output, nil for an output nobody reads) from in (one entry per
// node input, nil for an omitted optional input). A kernel may be run
// from several goroutines at once, each with its own in and out.
type Kernel = ops.Kernel

// KernelFunc adapts a function to Kernel.
type KernelFunc = ops.KernelFunc

// Context is the per-run state of kernels: Parallel splits a loop over
// the target's threads.
type Context = ops.Context

// Unsupported returns the error by which Operator.New refuses a node it
// does not implement, such as Unsupported(n, "auto_pad %q is", pad): the
// model is then refused when it is loaded, naming the node and reason,
// rather than run wrong.
func Unsupported(n *Node, format string, args ...any) error {
	return ops.Unsupported(n, format, args...)
}

// Policy is a numeric policy over the runtime's float32 computation:
// Constant(name, t) may change a constant in place before it is used,
// Output(node, out) may change a node's outputs in place after it runs.
type Policy = rt.Policy

// Rounding is how quantizers round a value divided by its scale to an
// integer level (Numerics.Rounding).
type Rounding = ops.Rounding

// Roundings.
const (
	// RoundHalfToEven rounds to the nearest level, ties to even: ONNX's
	// QuantizeLinear, and the default.
	RoundHalfToEven = ops.RoundingHalfToEven
	// RoundHalfAwayFromZero rounds to the nearest level, ties away from
	// zero (2.5 → 3, -2.5 → -3), as C's round and TFLite's reference
	// kernels do.
	RoundHalfAwayFromZero = ops.RoundingHalfAwayFromZero
	// RoundHalfUp rounds to the nearest level, ties up (2.5 → 3,
	// -2.5 → -2): add half, then shift right.
	RoundHalfUp = ops.RoundingHalfUp
	// RoundTowardZero truncates (2.7 → 2, -2.7 → -2).
	RoundTowardZero = ops.RoundingTowardZero
	// RoundDown rounds toward -∞ (2.7 → 2, -2.2 → -3): a plain
	// arithmetic right shift.
	RoundDown = ops.RoundingDown
)
