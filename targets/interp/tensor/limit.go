package tensor

import (
	"fmt"
	"math"
	"sync/atomic"
)

// DefaultMaxBytes is the largest storage Reset gives one tensor unless
// SetMaxBytes says otherwise: 2 GiB, protobuf's limit on a whole model
// file. A model that computes a larger tensor from inputs of sane size
// is most likely hostile (a ConstantOfShape of [1<<20 1<<20], a Reshape
// or Expand to an absurd shape), and allocating for it would take the
// process down.
const DefaultMaxBytes = 2 << 30

var maxBytes atomic.Int64

func init() { maxBytes.Store(DefaultMaxBytes) }

// MaxBytes is the largest storage Reset gives one tensor.
func MaxBytes() int64 { return maxBytes.Load() }

// SetMaxBytes sets MaxBytes for the whole process (n <= 0 restores
// DefaultMaxBytes) and returns the previous value.
func SetMaxBytes(n int64) int64 {
	if n <= 0 {
		n = DefaultMaxBytes
	}
	return maxBytes.Swap(n)
}

// SizeError is what Reset panics with when a shape has a negative
// dimension, more elements than an int holds, or needs more than
// MaxBytes of storage. The runtime turns the panic into an error of the
// node that asked for the tensor.
type SizeError struct {
	DType DType
	Shape []int
	// Bytes is the storage the shape needs, -1 when it overflows or has a
	// negative dimension.
	Bytes int64
	Limit int64
}

func (e *SizeError) Error() string {
	if e.Bytes < 0 {
		return fmt.Sprintf("a %v tensor of shape %v cannot be allocated (negative or overflowing dimensions)", e.DType, e.Shape)
	}
	return fmt.Sprintf("a %v tensor of shape %v needs %d bytes, more than the runtime's limit of %d per tensor", e.DType, e.Shape, e.Bytes, e.Limit)
}

// CheckSize returns the element count of shape and a *SizeError when
// Reset would refuse it for dtype.
func CheckSize(dtype DType, shape []int) (int, error) {
	n, limit := 1, MaxBytes()
	elem := int64(dtype.Size())
	if dtype == String {
		elem = 16 // a string header
	}
	elem = max(elem, 1)
	for _, d := range shape {
		if d < 0 || d > 0 && n > math.MaxInt/d {
			return 0, &SizeError{DType: dtype, Shape: append([]int(nil), shape...), Bytes: -1, Limit: limit}
		}
		n *= d
	}
	if n > 0 && int64(n) > limit/elem {
		return 0, &SizeError{DType: dtype, Shape: append([]int(nil), shape...), Bytes: overflowMul(int64(n), elem), Limit: limit}
	}
	return n, nil
}

// overflowMul is a*b, or math.MaxInt64 when that overflows.
func overflowMul(a, b int64) int64 {
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}
