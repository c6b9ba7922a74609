package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestQHardSwishLevel checks Level against the unfused computation in
// float64 where float32 rounding cannot matter: values far from the
// middle between two levels.
func TestQHardSwishLevel(t *testing.T) {
	q, err := NewQHardSwish(QHardSwish{Bias: []int32{100, -50}, Scale: []float32{0.01, 0.02}, Alpha: 1.0 / 6, Beta: 0.5,
		YScale: []float32{0.05, 0.1}, ZP: []int32{10, 128}, Lo: []int32{0, 0}, Hi: []int32{255, 200}}, 2)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for c := 0; c < 2; c++ {
		for acc := int32(-3000); acc <= 3000; acc += 7 {
			y := float64(acc+q.Bias[c]) * float64(q.Scale[c])
			h := y * math.Min(1, math.Max(0, y/6+0.5))
			v := h / float64(q.YScale[c])
			if f := v - math.Floor(v); math.Abs(f-0.5) < 1e-3 {
				continue
			}
			want := math.Min(math.Max(math.RoundToEven(v)+float64(q.ZP[c]), float64(q.Lo[c])), float64(q.Hi[c]))
			if got := q.Level(c, acc); float64(got) != want {
				t.Fatalf("channel %d acc %d: level %d, want %g", c, acc, got, want)
			}
			checked++
		}
	}
	if checked < 1500 {
		t.Fatalf("only %d values checked", checked)
	}
}

// TestQHardSwishStore checks the output stage, with and without its
// assembly, against Level on both layouts and on blocks of 16 and fewer
// channels.
func TestQHardSwishStore(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const M, rows = 37, 23
	p := QHardSwish{Alpha: 0.2, Beta: 0.5}
	for c := 0; c < M; c++ {
		p.Bias = append(p.Bias, int32(r.IntN(2000)-1000))
		p.Scale = append(p.Scale, float32(0.001+0.01*r.Float64()))
		p.YScale = append(p.YScale, float32(0.01+0.1*r.Float64()))
		zp := int32(r.IntN(256))
		p.ZP = append(p.ZP, zp)
		lo := int32(r.IntN(int(zp) + 1))
		p.Lo, p.Hi = append(p.Lo, lo), append(p.Hi, lo+int32(r.IntN(int(256-lo))))
	}
	q, err := NewQHardSwish(p, M)
	if err != nil {
		t.Fatal(err)
	}
	acc := make([]int32, rows*qNR)
	for i := range acc {
		acc[i] = int32(r.IntN(40000) - 20000)
	}
	withQAsm(t, func(t *testing.T) {
		for _, cl := range []bool{true, false} {
			dst := make([]uint8, rows*M)
			for c0 := 0; c0 < M; c0 += qNR {
				n := min(qNR, M-c0)
				off, rs, cs := c0, M, 1
				if !cl {
					off, rs, cs = c0*rows, 1, rows
				}
				q.storeRows(acc, rows, c0, n, dst, off, rs, cs)
			}
			for row := 0; row < rows; row++ {
				for c := 0; c < M; c++ {
					got := dst[row*M+c]
					if !cl {
						got = dst[c*rows+row]
					}
					if want := q.Level(c, acc[row*qNR+c%qNR]); got != want {
						t.Fatalf("channels-last %v: row %d channel %d: level %d, want %d", cl, row, c, got, want)
					}
				}
			}
		}
	})
}

// BenchmarkQHardSwish measures the output stage on a 14x14 image of 16
// channels, channels-last.
func BenchmarkQHardSwish(b *testing.B) {
	const M, rows = 16, 196
	p := QHardSwish{Alpha: 1.0 / 6, Beta: 0.5}
	for c := 0; c < M; c++ {
		p.Bias, p.Scale, p.YScale = append(p.Bias, 0), append(p.Scale, 0.001), append(p.YScale, 0.05)
		p.ZP, p.Lo, p.Hi = append(p.ZP, 20), append(p.Lo, 0), append(p.Hi, 255)
	}
	q, err := NewQHardSwish(p, M)
	if err != nil {
		b.Fatal(err)
	}
	acc := make([]int32, rows*qNR)
	for i := range acc {
		acc[i] = int32(i*37%4000 - 2000)
	}
	dst := make([]uint8, rows*M)
	benchQModes(b, func(b *testing.B) {
		b.SetBytes(int64(len(dst)))
		for b.Loop() {
			q.storeRows(acc, rows, 0, M, dst, 0, M, 1)
		}
	})
}

// benchQModes runs f in the Go, AVX2 and 512-bit modes of the
// element-wise and depthwise integer kernels the machine has.
func benchQModes(b *testing.B, f func(b *testing.B)) {
	for _, m := range []struct {
		name      string
		asm, z512 bool
	}{{"go", false, false}, {"avx2", true, false}, {"avx512", true, true}} {
		if m.asm && !hasQAsm() || m.z512 && !hasQ512 {
			continue
		}
		b.Run(m.name, func(b *testing.B) {
			was, wasZ := UseQAssembly(m.asm), useQ512Kernels(m.z512)
			defer func() { UseQAssembly(was); useQ512Kernels(wasZ) }()
			f(b)
		})
	}
}

// TestQHardSwishSweep runs every accumulator over the whole range where
// hard-swish bends and saturates (|y| up to 8, so every level and every
// rounding boundary between two levels) through the assembly of 16
// channels and wants Level's bytes, channel by channel.
func TestQHardSwishSweep(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	const M, span = 16, 8001
	p := QHardSwish{Alpha: 1.0 / 6, Beta: 0.5}
	for c := 0; c < M; c++ {
		p.Bias = append(p.Bias, int32(r.IntN(200)-100))
		p.Scale = append(p.Scale, float32(0.0005+0.0005*r.Float64()))
		p.YScale = append(p.YScale, float32(0.02+0.03*r.Float64()))
		zp := int32(r.IntN(40))
		p.ZP, p.Lo, p.Hi = append(p.ZP, zp), append(p.Lo, 0), append(p.Hi, 255)
	}
	q, err := NewQHardSwish(p, M)
	if err != nil {
		t.Fatal(err)
	}
	rows := 2*span + 1
	acc := make([]int32, rows*qNR)
	for row := 0; row < rows; row++ {
		for i := 0; i < qNR; i++ {
			acc[row*qNR+i] = int32(row - span - 3*i)
		}
	}
	withQAsm(t, func(t *testing.T) {
		dst := make([]uint8, rows*M)
		q.storeRows(acc, rows, 0, M, dst, 0, M, 1)
		seen := map[uint8]bool{}
		for row := 0; row < rows; row++ {
			for c := 0; c < M; c++ {
				want := q.Level(c, acc[row*qNR+c])
				if got := dst[row*M+c]; got != want {
					t.Fatalf("row %d channel %d (acc %d): level %d, want %d", row, c, acc[row*qNR+c], got, want)
				}
				seen[want] = true
			}
		}
		if len(seen) < 200 {
			t.Fatalf("only %d distinct levels swept", len(seen))
		}
	})
}
