package kernels

import "sync"

// scratch holds the packing buffers of one Sgemm or MulOffsets call
// (or the column masks of a DirectConv.Mul).
// Buffers only grow, and scratches are pooled, so that steady-state
// calls do not allocate.
type scratch struct {
	a, b, pan []float32
	offs      []int
	masks     []uint32
	rows      []float32 // DirectConv.Depthwise's partial blocks
	tile      [mrMax * nr]float32
	tileWide  [mrMax * nrWide]float32
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func getScratch() *scratch  { return scratchPool.Get().(*scratch) }
func putScratch(s *scratch) { scratchPool.Put(s) }

func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// panel returns a buffer for one packed k×16 block of B.
func (s *scratch) panel(k int) []float32 {
	s.pan = grow(s.pan, k*nr)
	return s.pan
}

// panelOffsets returns the row offsets 0, 16, 32, ... of a packed
// k×16 block of B.
func panelOffsets(k int, s *scratch) []int {
	if len(s.offs) < k {
		s.offs = make([]int, max(k, kc))
		for p := range s.offs {
			s.offs[p] = p * nr
		}
	}
	return s.offs[:k]
}
