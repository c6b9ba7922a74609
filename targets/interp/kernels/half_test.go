package kernels

import (
	"math"
	"testing"

	"github.com/potgo/pot/targets/interp/tensor"
)

// TestHalfToF32MatchesScalar converts every half (an odd count, so that
// a tail is left) and checks each converted value bit for bit against
// tensor.Float16Bits.Float32.
func TestHalfToF32MatchesScalar(t *testing.T) {
	src := make([]tensor.Float16Bits, 1<<16+5)
	for i := range src {
		src[i] = tensor.Float16Bits(i)
	}
	dst := make([]float32, len(src))
	n := HalfToF32(dst, src)
	if !hasF16C {
		if n != 0 {
			t.Fatalf("converted %d without F16C", n)
		}
		t.Skip("no F16C on this CPU (or -tags noasm): the scalar conversion is all there is")
	}
	if n != len(src)&^7 {
		t.Fatalf("converted %d of %d", n, len(src))
	}
	for i, h := range src[:n] {
		if got, want := math.Float32bits(dst[i]), math.Float32bits(h.Float32()); got != want {
			t.Fatalf("half %#04x: %#08x, want %#08x", uint16(h), got, want)
		}
	}
}

// TestF32ToHalfMatchesScalar rounds float32 values around every half
// (the half itself, the midpoints to its neighbours and one ulp either
// side of them), every NaN class, and a sweep of all float32 bit
// patterns, bit for bit against tensor.ToFloat16.
func TestF32ToHalfMatchesScalar(t *testing.T) {
	if !hasF16C {
		t.Skip("no F16C on this CPU (or -tags noasm): the scalar conversion is all there is")
	}
	var src []float32
	for h := 0; h < 1<<16; h++ {
		v := tensor.Float16Bits(h).Float32()
		next := tensor.Float16Bits(h + 1).Float32()
		src = append(src, v)
		if h&0x7fff < 0x7c00 && (h+1)&0x7fff <= 0x7c00 && h != 0x7fff {
			mid := float32((float64(v) + float64(next)) / 2) // exact: halves have 11 bits
			b := math.Float32bits(mid)
			src = append(src, mid, math.Float32frombits(b+1), math.Float32frombits(b-1))
		}
	}
	for _, b := range []uint32{0x7f800001, 0x7fbfffff, 0x7fc00000, 0x7fffffff, 0xff800001, 0xffc12345,
		0x7f7fffff, 0x477ff000, 0x477fefff, 0x477fe000, 0x33000000, 0x33000001, 0x32ffffff, 0x00000001, 0x80000001} {
		src = append(src, math.Float32frombits(b))
	}
	for b := uint64(0); b < 1<<32; b += 251 {
		src = append(src, math.Float32frombits(uint32(b)))
	}
	dst := make([]tensor.Float16Bits, len(src))
	n := F32ToHalf(dst, src)
	if n != len(src)&^7 {
		t.Fatalf("converted %d of %d", n, len(src))
	}
	for i, f := range src[:n] {
		if got, want := dst[i], tensor.ToFloat16(f); got != want {
			t.Fatalf("float32 %#08x: half %#04x, want %#04x", math.Float32bits(f), uint16(got), uint16(want))
		}
	}
}

func BenchmarkHalfConversions(b *testing.B) {
	const n = 1 << 20
	h := make([]uint16, n)
	f := make([]float32, n)
	for i := range f {
		f[i] = float32(i%1000) * 0.37
	}
	b.Run("F32ToHalf", func(b *testing.B) {
		b.SetBytes(n * 6)
		for b.Loop() {
			for i := F32ToHalf(h, f); i < n; i++ {
				h[i] = uint16(tensor.ToFloat16(f[i]))
			}
		}
	})
	b.Run("HalfToF32", func(b *testing.B) {
		b.SetBytes(n * 6)
		for b.Loop() {
			for i := HalfToF32(f, h); i < n; i++ {
				f[i] = tensor.Float16Bits(h[i]).Float32()
			}
		}
	})
}
