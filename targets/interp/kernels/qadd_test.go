package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestQAddMatchesSimulation compares QAdd with the float32 steps of the
// simulation written out (FakeQuantize's band and rounding).
func TestQAddMatchesSimulation(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	inf := float32(math.Inf(1))
	for _, tc := range []struct {
		lo, hi float32
	}{{-inf, inf}, {0, inf}, {-0.5, 1.25}} {
		// Lengths: the vector loops' steps of 16 and of 8, and the tail.
		for _, n := range []int{7, 8, 16, 24, 1000, 1008, 1013} {
			withQAsm(t, func(t *testing.T) {
				za, zb, zy := int32(r.IntN(256)), int32(r.IntN(256)), int32(r.IntN(128))
				sa, sb, sy := float32(0.01+r.Float64()*0.05), float32(0.01+r.Float64()*0.05), float32(0.01+r.Float64()*0.05)
				q := NewQAdd(za, zb, sa, sb, tc.lo, tc.hi, sy, zy, 0, 255)
				a, b, dst := randU8(r, n), randU8(r, n), make([]uint8, n)
				q.Row(dst, a, b)
				for i := range dst {
					s := (float32(a[i])-float32(za))*sa + (float32(b[i])-float32(zb))*sb
					s = min(max(s, tc.lo), tc.hi)
					v := float64(s / sy)
					want := math.Min(math.Max(math.RoundToEven(v)+float64(zy), 0), 255)
					if float64(dst[i]) != want {
						t.Fatalf("n %d, element %d: %d + %d -> %d, want %g", n, i, a[i], b[i], dst[i], want)
					}
				}
			})
		}
	}
}

// BenchmarkQAdd measures the quantized sum of resnet_fmnist's first
// residual (28×28×16 levels per image).
func BenchmarkQAdd(b *testing.B) {
	const n = 28 * 28 * 16
	r := rand.New(rand.NewPCG(3, 4))
	x, y, dst := randU8(r, n), randU8(r, n), make([]uint8, n)
	q := NewQAdd(120, 131, 0.021, 0.017, 0, float32(math.Inf(1)), 0.03, 0, 0, 255)
	b.SetBytes(n)
	for b.Loop() {
		q.Row(dst, x, y)
	}
}

// TestQAddExhaustive compares QAdd.Row (the assembly, whose 512-bit
// kernel folds the clamps) with Value for every pair of levels, under
// parameters drawn at random: activation ranges none, Relu, Clip, and
// ones entirely below or above what the levels hold; zero points and
// level ranges anywhere in the uint8 levels; scales near ties.
func TestQAddExhaustive(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	inf := float32(math.Inf(1))
	a, b := make([]uint8, 1<<16), make([]uint8, 1<<16)
	for i := range a {
		a[i], b[i] = uint8(i>>8), uint8(i)
	}
	dst := make([]uint8, len(a))
	acts := [][2]float32{{-inf, inf}, {0, inf}, {-0.5, 1.25}, {0, 6}, {-inf, -3}, {40, inf}, {0, 0}, {1, 1}}
	withQAsm(t, func(t *testing.T) {
		for it := 0; it < 48; it++ {
			act := acts[it%len(acts)]
			za, zb, zy := int32(r.IntN(256)), int32(r.IntN(256)), int32(r.IntN(256))
			sa, sb := float32(0.005+r.Float64()*0.05), float32(0.005+r.Float64()*0.05)
			sy := float32(0.005 + r.Float64()*0.1)
			if it%3 == 0 {
				sy = sa // sums of tied halves
			}
			lo := int32(r.IntN(128))
			hi := lo + int32(r.IntN(256-int(lo)))
			if it%4 == 0 {
				lo, hi = 0, 255
			}
			q := NewQAdd(za, zb, sa, sb, act[0], act[1], sy, zy, lo, hi)
			q.Row(dst, a, b)
			for i := range dst {
				if want := q.Value(a[i], b[i]); dst[i] != want {
					t.Fatalf("act %v, za %d sa %g zb %d sb %g sy %g zy %d [%d, %d]: %d + %d -> %d, want %d",
						act, za, sa, zb, sb, sy, zy, lo, hi, a[i], b[i], dst[i], want)
				}
			}
		}
	})
}
