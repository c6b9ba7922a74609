package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFakeQuantF32 checks FakeQuantF32 (the vector path where the CPU has
// it, then with assembly off) bit for bit against its scalar definition
// for the bands FakeQuantize meets (8-bit asymmetric and symmetric,
// 4-bit, 16-bit, a tiny scale), on values that land on rounding ties,
// on the bounds and past them, NaNs with payloads, infinities, zeros of
// both signs and subnormals, at every lane, for lengths around the
// vector widths, in place and not.
func TestFakeQuantF32(t *testing.T) {
	nan1 := math.Float32frombits(0x7fc00001)
	nan2 := math.Float32frombits(0xffc00002)
	inf := float32(math.Inf(1))
	special := []float32{nan1, nan2, 0, float32(math.Copysign(0, -1)), inf, -inf, 1e-40, -1e-40}
	bits := math.Float32bits
	for _, band := range []struct {
		name           string
		s, os, zp      float32
		lo, hi         float32
		spreadInLevels float32
	}{
		{"u8 asymmetric", 0.0173, 0.0173, 131, 0, 255, 300},
		{"i8 symmetric", 0.05, 0.05, 0, -128, 127, 200},
		{"4-bit", 0.31, 0.31, 3, 0, 15, 30},
		{"16-bit", 1.7e-4, 1.7e-4, 32768, 0, 65535, 70000},
		{"out scale differs", 0.02, 0.5, -7, -8, 7, 20},
	} {
		p := [8]float32{band.s, band.os, band.lo - band.zp - 1, band.hi - band.zp + 1, band.zp, band.lo, band.hi}
		r := rand.New(rand.NewPCG(7, 8))
		for _, n := range []int{0, 1, 7, 8, 9, 31, 32, 33, 100, 257} {
			x := make([]float32, n)
			for i := range x {
				switch r.IntN(4) {
				case 0: // a rounding tie, or next to one
					k := float32(r.IntN(int(2*band.spreadInLevels))) - band.spreadInLevels
					x[i] = (k + 0.5) * band.s
				case 1:
					x[i] = special[r.IntN(len(special))]
				default:
					x[i] = float32(r.NormFloat64()) * band.s * band.spreadInLevels / 2
				}
			}
			for _, asm := range []bool{true, false} {
				was := UseAssembly(asm)
				got := make([]float32, n)
				FakeQuantF32(got, x, p[0], p[1], p[2], p[3], p[4], p[5], p[6])
				inPlace := append([]float32(nil), x...)
				FakeQuantF32(inPlace, inPlace, p[0], p[1], p[2], p[3], p[4], p[5], p[6])
				UseAssembly(was)
				for i := range x {
					want := fakeQuant(x[i], &p)
					if bits(got[i]) != bits(want) || bits(inPlace[i]) != bits(want) {
						t.Fatalf("%s asm=%v n=%d i=%d x=%g: %g (%#x), in place %g, want %g (%#x)",
							band.name, asm, n, i, x[i], got[i], bits(got[i]), inPlace[i], want, bits(want))
					}
				}
			}
		}
	}
}

func BenchmarkFakeQuantF32(b *testing.B) {
	x, y := make([]float32, 4096), make([]float32, 4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	b.SetBytes(4 * 4096)
	for b.Loop() {
		FakeQuantF32(y, x, 0.02, 0.02, -129, 128, 0, -128, 127)
	}
}
