package ops

import (
	"math/bits"
	"sync"

	"github.com/potgo/pot/targets/interp/tensor"
)

// f32Pools recycle the float32 buffers through which operations on
// 16-bit floats compute, by capacity class (1<<c values in class c).
var f32Pools [bits.UintSize]sync.Pool

// getF32 returns n float32 from the pool, their values undefined.
func getF32(n int) []float32 {
	if n == 0 {
		return nil
	}
	c := bits.Len(uint(n - 1))
	if p, ok := f32Pools[c].Get().(*[]float32); ok {
		return (*p)[:n]
	}
	return make([]float32, n, 1<<c)
}

// putF32 returns b to the pool; only a buffer of a class's capacity
// enters it.
func putF32(b []float32) {
	c := bits.Len(uint(cap(b) - 1))
	if cap(b) == 0 || cap(b) != 1<<c {
		return
	}
	b = b[:0]
	f32Pools[c].Put(&b)
}

// halfScratch lends an operation on 16-bit floats the float32 buffers it
// computes through and takes them all back at free. Without it a model in
// float16 allocated, and faulted in, two or three fresh buffers the size
// of a feature map at every operation: on an ISNet segmenter at 1024×1024
// that was a quarter of the run.
type halfScratch struct {
	bufs    [][]float32
	tensors []*tensor.Tensor
}

// values returns t's values as float32: a pooled copy of a Float16 or
// BFloat16 tensor, t's own slice of a Float one.
func (s *halfScratch) values(t *tensor.Tensor) ([]float32, bool) {
	if d, ok := t.Data.([]float32); ok {
		return d, true
	}
	return halfValues(t, s.buf)
}

// buf returns n float32 from the pool, their values undefined.
func (s *halfScratch) buf(n int) []float32 {
	b := getF32(n)
	s.bufs = append(s.bufs, b)
	return b
}

// zeros returns n zeroed float32 from the pool.
func (s *halfScratch) zeros(n int) []float32 {
	b := s.buf(n)
	clear(b)
	return b
}

// result returns an empty tensor for a float32 kernel to Reset, its
// buffer lent for n values (a kernel that needs more allocates).
func (s *halfScratch) result(n int) *tensor.Tensor {
	t := &tensor.Tensor{DType: tensor.Float, Data: getF32(n)[:0]}
	s.tensors = append(s.tensors, t)
	return t
}

// free takes every buffer back; none of them may be used after.
func (s *halfScratch) free() {
	for _, b := range s.bufs {
		putF32(b)
	}
	for _, t := range s.tensors {
		if d, ok := t.Data.([]float32); ok {
			putF32(d)
		}
	}
	s.bufs, s.tensors = nil, nil
}
