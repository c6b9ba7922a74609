package ops

import (
	"math"
	"testing"

	"github.com/potgo/pot/targets/interp/tensor"
)

func TestHalfScratch(t *testing.T) {
	h := make([]tensor.Float16Bits, 37) // 32 through F16C, 5 in Go
	for i := range h {
		h[i] = tensor.ToFloat16(float32(i)*0.3 - 5)
	}
	h[3] = 0x7c01 // a signalling NaN keeps its bits
	var s halfScratch
	v, ok := s.values(tensor.From([]int{37}, h))
	if !ok || len(v) != len(h) {
		t.Fatalf("values: %d values, ok %v", len(v), ok)
	}
	for i := range h {
		if math.Float32bits(v[i]) != math.Float32bits(h[i].Float32()) {
			t.Fatalf("value %d: %v, want %v", i, v[i], h[i].Float32())
		}
	}
	f := []float32{1, 2, 3}
	if g, _ := s.values(tensor.From([]int{3}, f)); &g[0] != &f[0] {
		t.Error("values copied a float32 tensor")
	}
	for i := range v {
		v[i] = 1
	}
	s.free()
	if len(s.bufs) != 0 {
		t.Fatal("free kept buffers")
	}
	// Whatever buffer the pool hands back now, zeros clears it.
	for _, n := range []int{37, 64, 33} {
		z := s.zeros(n)
		if len(z) != n || cap(z) != 64 {
			t.Fatalf("zeros(%d): len %d cap %d, want cap 64", n, len(z), cap(z))
		}
		for i, x := range z {
			if x != 0 {
				t.Fatalf("zeros(%d)[%d] = %v", n, i, x)
			}
			z[i] = 2
		}
	}
	s.free()
	r := s.result(100)
	r.Reset(tensor.Float, []int{10, 10})
	if cap(r.F32()) != 128 {
		t.Errorf("result(100) buffer of capacity %d, want 128", cap(r.F32()))
	}
	s.free()
}
