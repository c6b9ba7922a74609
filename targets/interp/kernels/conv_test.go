package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestDepthwise(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{1, 7, 8, 9, 31, 32, 33, 70} {
		for _, slack := range []int{0, 3, 8, 20} {
			offs := []int{0, 1, 2, 10, 11, 12, 20, 21, 22}
			b := randSlice(r, 22+n+slack)
			w := randSlice(r, len(offs))
			want := make([]float32, n)
			for j := range want {
				sum := float32(0.5)
				for t, o := range offs {
					sum += w[t] * b[o+j]
				}
				want[j] = sum
			}
			got := make([]float32, n)
			Depthwise(w, b, offs, n, got, 0.5)
			closeTo(t, fmt.Sprintf("n=%d slack=%d", n, slack), got, want, len(offs))
		}
	}
}

// TestConvLayoutFill checks the phase-plane buffer of a strided,
// padded layout against the definition: buffer position of padded input
// position pos is phase(pos mod stride), grid(pos / stride).
func TestConvLayoutFill(t *testing.T) {
	for _, s := range []ConvShape{
		{In: []int{5, 7}, Kernel: []int{3, 3}, Strides: []int{2, 2}, Dilations: []int{1, 1}, PadBegin: []int{1, 1}, Out: []int{3, 4}},
		{In: []int{6, 20}, Kernel: []int{3, 3}, Strides: []int{1, 2}, Dilations: []int{1, 1}, PadBegin: []int{1, 1}, Out: []int{6, 10}},
		{In: []int{9}, Kernel: []int{2}, Strides: []int{3}, Dilations: []int{2}, PadBegin: []int{2}, Out: []int{4}},
		{In: []int{4, 6}, Kernel: []int{1, 1}, Strides: []int{2, 2}, Dilations: []int{1, 1}, PadBegin: []int{0, 0}, Out: []int{2, 3}},
		// Stride 2 in both dimensions: the AVX-512 row split (full and
		// partial groups of 16, either padding parity).
		{In: []int{28, 28}, Kernel: []int{3, 3}, Strides: []int{2, 2}, Dilations: []int{1, 1}, PadBegin: []int{1, 1}, Out: []int{14, 14}},
		{In: []int{14, 14}, Kernel: []int{3, 3}, Strides: []int{2, 2}, Dilations: []int{1, 1}, PadBegin: []int{1, 1}, Out: []int{7, 7}},
		{In: []int{9, 9}, Kernel: []int{3, 3}, Strides: []int{2, 2}, Dilations: []int{1, 1}, PadBegin: []int{0, 0}, Out: []int{4, 4}},
		{In: []int{7, 47}, Kernel: []int{3, 3}, Strides: []int{2, 2}, Dilations: []int{1, 1}, PadBegin: []int{1, 2}, Out: []int{4, 24}},
		{In: []int{3, 2}, Kernel: []int{2, 2}, Strides: []int{2, 2}, Dilations: []int{1, 1}, PadBegin: []int{1, 1}, Out: []int{2, 2}},
		{In: []int{6, 33}, Kernel: []int{2, 2}, Strides: []int{2, 2}, Dilations: []int{1, 1}, PadBegin: []int{0, 0}, Out: []int{3, 16}},
		// A 1×1 kernel at stride 2 (rows of at least 8: the AVX2 split).
		{In: []int{8, 16}, Kernel: []int{1, 1}, Strides: []int{2, 2}, Dilations: []int{1, 1}, PadBegin: []int{0, 0}, Out: []int{4, 8}},
	} {
		l, err := NewConvLayout(s)
		if err != nil {
			t.Fatal(err)
		}
		const channels = 2
		inSize := 1
		for _, v := range s.In {
			inSize *= v
		}
		src := make([]float32, channels*inSize)
		for i := range src {
			src[i] = float32(i + 1)
		}
		buf := make([]float32, l.BufferSize(channels))
		l.Fill(buf, src, channels)
		// Every tap of every output reads the input value it should.
		offs := l.Offsets(nil, channels)
		nd := len(s.In)
		outSize := l.OutSize()
		for o := 0; o < outSize; o++ {
			q, rest := 0, o
			od := make([]int, nd)
			for d := nd - 1; d >= 0; d-- {
				od[d] = rest % s.Out[d]
				rest /= s.Out[d]
				q += od[d] * l.GridStride[d]
			}
			for c := 0; c < channels; c++ {
				for tp := 0; tp < l.Taps(); tp++ {
					want, inside, off, rest := float32(0), true, 0, tp
					for d := nd - 1; d >= 0; d-- {
						k := rest % s.Kernel[d]
						rest /= s.Kernel[d]
						pos := od[d]*s.Strides[d] + k*s.Dilations[d] - s.PadBegin[d]
						if pos < 0 || pos >= s.In[d] {
							inside = false
						}
						stride := 1
						for e := d + 1; e < nd; e++ {
							stride *= s.In[e]
						}
						off += pos * stride
					}
					if inside {
						want = src[c*inSize+off]
					}
					if got := buf[offs[c*l.Taps()+tp]+q]; got != want {
						t.Fatalf("%+v: output %d channel %d tap %d reads %v, want %v", s, o, c, tp, got, want)
					}
				}
			}
		}
	}
}
