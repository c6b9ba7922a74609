package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/potgo/pot/proto/potv1"
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

// TestHalfConvRoundsTheFloatConv: a float16 Conv with constant weights
// computes what the float32 Conv of the same values computes (Winograd
// for a "same" 3×3 layer, the direct product otherwise) and rounds it:
// bit for bit ToFloat16 of the float32 output.
func TestHalfConvRoundsTheFloatConv(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	half := func(shape ...int) (*tensor.Tensor, *tensor.Tensor) {
		n := tensor.NumElements(shape)
		h, f := make([]tensor.Float16Bits, n), make([]float32, n)
		for i := range h {
			h[i] = tensor.ToFloat16(float32(r.NormFloat64()))
			f[i] = h[i].Float32()
		}
		return tensor.From(shape, h), tensor.From(shape, f)
	}
	for _, c := range []struct {
		name  string
		attrs []*potv1.Attribute
		w     []int
	}{
		{"3x3 same, 16 channels (Winograd)", []*potv1.Attribute{aInts("pads", 1, 1, 1, 1)}, []int{16, 16, 3, 3}},
		{"3x3 dilated (direct)", []*potv1.Attribute{aInts("pads", 2, 2, 2, 2), aInts("dilations", 2, 2)}, []int{16, 16, 3, 3}},
		{"1x1", nil, []int{16, 16, 1, 1}},
	} {
		xh, xf := half(2, 16, 40, 40)
		wh, wf := half(c.w...)
		bh, bf := half(c.w[0])
		call := onnxOp("Conv", 11, c.attrs...)
		call.consts = []bool{false, true, true}
		got := call.mustRun(t, xh, wh, bh)[0]
		want := call.mustRun(t, xf, wf, bf)[0]
		g := got.Data.([]tensor.Float16Bits)
		for i, v := range want.F32() {
			if g[i] != tensor.ToFloat16(v) {
				t.Fatalf("%s: output %d is %v, want %v rounded: %v", c.name, i, g[i].Float32(), v, tensor.ToFloat16(v).Float32())
			}
		}
	}
}
