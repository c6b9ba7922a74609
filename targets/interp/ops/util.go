package ops

import (
	"fmt"

	"github.com/potgo/pot/targets/interp/tensor"
)

// NormalizeAxis maps an ONNX axis, which may be negative (counting from
// the end), into [0, rank).
func NormalizeAxis(axis int64, rank int) (int, error) {
	a := int(axis)
	if a < 0 {
		a += rank
	}
	if a < 0 || a >= rank {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	return a, nil
}

// BroadcastStrides returns, for a tensor of shape in broadcast to shape
// out (len(out) >= len(in)), the element stride of each dimension of out:
// the tensor's own stride, or 0 where it is broadcast.
func BroadcastStrides(in, out []int) []int {
	s := make([]int, len(out))
	own := tensor.Strides(in)
	off := len(out) - len(in)
	for i := range in {
		if in[i] != 1 {
			s[off+i] = own[i]
		}
	}
	return s
}

// Offsets fills dst (len = NumElements(out)) with, for each element of
// shape out in row-major order, the index into a tensor with the given
// broadcast strides. It is the general, slow path of broadcasting
// kernels.
func Offsets(dst []int, out []int, strides []int) {
	rank := len(out)
	if rank == 0 {
		if len(dst) > 0 {
			dst[0] = 0
		}
		return
	}
	idx := make([]int, rank)
	off := 0
	for i := range dst {
		dst[i] = off
		for d := rank - 1; d >= 0; d-- {
			idx[d]++
			off += strides[d]
			if idx[d] < out[d] {
				break
			}
			off -= strides[d] * out[d]
			idx[d] = 0
		}
	}
}

// ConstInts returns the values of a constant integer input as ints, or
// ok=false when the input is absent or not constant.
func ConstInts(n *Node, i int) (vals []int64, ok bool, err error) {
	c := n.Const(i)
	if c == nil {
		return nil, false, nil
	}
	v, err := c.Int64s()
	if err != nil {
		return nil, false, fmt.Errorf("input %d: %w", i, err)
	}
	return v, true, nil
}
