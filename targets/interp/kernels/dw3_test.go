package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// depthwise3Want computes Depthwise3x3.Run's outputs the way the
// phase-plane path does: ConvLayout.Fill, Depthwise per channel over
// grid space, Compact.
func depthwise3Want(t *testing.T, s ConvShape, w, x []float32, inStride int, bias []float32, chans int) []float32 {
	t.Helper()
	l, err := NewConvLayout(s)
	if err != nil {
		t.Fatal(err)
	}
	plane := s.In[0] * s.In[1]
	in := make([]float32, chans*plane)
	for ch := 0; ch < chans; ch++ {
		copy(in[ch*plane:(ch+1)*plane], x[ch*inStride:]) // inStride 0: one input for all
	}
	buf := make([]float32, l.BufferSize(chans))
	l.Fill(buf, in, chans)
	offs := l.Offsets(nil, 1)
	grid := make([]float32, chans*l.Span)
	for ch := 0; ch < chans; ch++ {
		var bv float32
		if bias != nil {
			bv = bias[ch]
		}
		Depthwise(w[9*ch:9*ch+9], buf[ch*l.ChanStride:], offs, l.Span, grid[ch*l.Span:], bv)
	}
	out := make([]float32, chans*l.OutSize())
	l.Compact(out, grid, chans, l.Span)
	return out
}

// TestDepthwise3x3 checks the kernels bit for bit against the
// phase-plane path, over image sizes around their 8-output blocks and
// groups of rows, every padding they take, channels whose reads leave b
// (the first and last of a b cut to size), strides with gaps, which they
// must leave as they were, and one input for every channel.
func TestDepthwise3x3(t *testing.T) {
	if !dw3Available() {
		t.Skip("no Depthwise3x3 kernels on this CPU or build (they need AVX2 and FMA without AVX-512)")
	}
	r := rand.New(rand.NewPCG(5, 6))
	type size struct{ h, w int }
	sizes := []size{{28, 28}, {14, 14}, {7, 7}, {1, 1}, {2, 3}, {3, 2}, {15, 15}, {9, 17}, {16, 33}, {5, 40}, {112, 112}}
	pads := [][4]int{{1, 1, 1, 1}, {0, 0, 1, 1}, {1, 1, 0, 0}, {0, 0, 0, 0}, {2, 2, 2, 2}, {1, 0, 0, 2}}
	for _, stride := range []int{1, 2} {
		for _, sz := range sizes {
			for _, p := range pads {
				for _, chans := range []int{1, 3} {
					for _, gap := range []int{0, 5, -1} { // -1: inStride 0
						oh := (sz.h+p[0]+p[2]-3)/stride + 1
						ow := (sz.w+p[1]+p[3]-3)/stride + 1
						if oh < 1 || ow < 1 || sz.h+p[0]+p[2] < 3 || sz.w+p[1]+p[3] < 3 {
							continue
						}
						s := ConvShape{In: []int{sz.h, sz.w}, Kernel: []int{3, 3}, Strides: []int{stride, stride}, Dilations: []int{1, 1}, PadBegin: []int{p[0], p[1]}, Out: []int{oh, ow}}
						name := fmt.Sprintf("s%d/%dx%d/pads%v/c%d/gap%d", stride, sz.h, sz.w, p, chans, gap)
						d := NewDepthwise3x3(s)
						if d == nil {
							t.Fatalf("%s: no plan", name)
						}
						plane, out := sz.h*sz.w, oh*ow
						inStride, ld := plane+max(gap, 0), out+max(gap, 0)
						if gap < 0 {
							inStride = 0
						}
						x := randSlice(r, (chans-1)*inStride+plane)
						w := randSlice(r, 9*chans)
						var bias []float32
						if gap <= 0 {
							bias = randSlice(r, chans)
						}
						want := depthwise3Want(t, s, w, x, inStride, bias, chans)
						got := make([]float32, (chans-1)*ld+out+max(gap, 0))
						sentinel := float32(math.Inf(-1))
						for i := range got {
							got[i] = sentinel
						}
						if err := d.Run(w, x, inStride, got, ld, bias, chans); err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						for ch := 0; ch < chans; ch++ {
							for j := 0; j < out; j++ {
								g, e := got[ch*ld+j], want[ch*out+j]
								if math.Float32bits(g) != math.Float32bits(e) {
									t.Fatalf("%s: channel %d output (%d, %d) = %v, want %v", name, ch, j/ow, j%ow, g, e)
								}
							}
							for j := out; j < ld && ch*ld+j < len(got); j++ {
								if got[ch*ld+j] != sentinel {
									t.Fatalf("%s: channel %d wrote %v into the gap at %d", name, ch, got[ch*ld+j], j)
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestDepthwise3x3Plans checks which shapes get a plan.
func TestDepthwise3x3Plans(t *testing.T) {
	base := ConvShape{In: []int{28, 28}, Kernel: []int{3, 3}, Strides: []int{2, 2}, Dilations: []int{1, 1}, PadBegin: []int{1, 1}, Out: []int{14, 14}}
	with := func(f func(*ConvShape)) ConvShape {
		s := base
		s.In, s.Kernel, s.Strides, s.Dilations, s.PadBegin, s.Out = append([]int(nil), s.In...), append([]int(nil), s.Kernel...), append([]int(nil), s.Strides...), append([]int(nil), s.Dilations...), append([]int(nil), s.PadBegin...), append([]int(nil), s.Out...)
		f(&s)
		return s
	}
	for _, tc := range []struct {
		name string
		s    ConvShape
		plan bool
	}{
		{"3x3 stride 2", base, true},
		{"5x5", with(func(s *ConvShape) { s.Kernel = []int{5, 5} }), false},
		{"stride 1", with(func(s *ConvShape) { s.Strides = []int{1, 1}; s.Out = []int{28, 28} }), true},
		{"stride 3", with(func(s *ConvShape) { s.Strides = []int{3, 3}; s.Out = []int{10, 10} }), false},
		{"stride 2x1", with(func(s *ConvShape) { s.Strides = []int{2, 1} }), false},
		{"dilation 2", with(func(s *ConvShape) { s.Dilations = []int{2, 2} }), false},
		{"padding 3", with(func(s *ConvShape) { s.PadBegin = []int{3, 1} }), false},
		{"1-D", ConvShape{In: []int{28}, Kernel: []int{3}, Strides: []int{2}, Dilations: []int{1}, PadBegin: []int{1}, Out: []int{14}}, false},
	} {
		got := NewDepthwise3x3(tc.s) != nil
		if got != (tc.plan && dw3Available()) {
			t.Errorf("%s: plan %v, want %v", tc.name, got, tc.plan && dw3Available())
		}
	}
}

// TestDepthwise3x3Errors checks Run's argument checks.
func TestDepthwise3x3Errors(t *testing.T) {
	if !dw3Available() {
		t.Skip("no Depthwise3x3 kernels on this CPU or build (they need AVX2 and FMA without AVX-512)")
	}
	d := NewDepthwise3x3(ConvShape{In: []int{8, 8}, Kernel: []int{3, 3}, Strides: []int{2, 2}, Dilations: []int{1, 1}, PadBegin: []int{1, 1}, Out: []int{4, 4}})
	w, x, c := make([]float32, 18), make([]float32, 128), make([]float32, 32)
	for _, tc := range []struct {
		name string
		run  func() error
	}{
		{"ok", func() error { return d.Run(w, x, 64, c, 16, nil, 2) }},
		{"short input", func() error { return d.Run(w, x[:127], 64, c, 16, nil, 2) }},
		{"short output", func() error { return d.Run(w, x, 64, c[:31], 16, nil, 2) }},
		{"short weights", func() error { return d.Run(w[:17], x, 64, c, 16, nil, 2) }},
		{"short bias", func() error { return d.Run(w, x, 64, c, 16, []float32{1}, 2) }},
		{"overlapping planes", func() error { return d.Run(w, x, 63, c, 16, nil, 2) }},
		{"no channels", func() error { return d.Run(w, x, 64, c, 16, nil, 0) }},
	} {
		err := tc.run()
		if (err == nil) != (tc.name == "ok") {
			t.Errorf("%s: error %v", tc.name, err)
		}
	}
}

// BenchmarkDepthwise3x3 times MobileNet's depthwise layers on one
// image: the kernels against the paths they replace, the phase-plane
// one (Fill, Depthwise per channel, Compact) at stride 2 and
// DirectConv.Depthwise at stride 1.
func BenchmarkDepthwise3x3(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct{ chans, size, stride int }{{64, 28, 2}, {96, 14, 2}, {16, 28, 1}, {96, 14, 1}, {160, 7, 1}} {
		out := tc.size / tc.stride
		s := ConvShape{In: []int{tc.size, tc.size}, Kernel: []int{3, 3}, Strides: []int{tc.stride, tc.stride}, Dilations: []int{1, 1}, PadBegin: []int{1, 1}, Out: []int{out, out}}
		plane := tc.size * tc.size
		x, w, bias := randSlice(r, tc.chans*plane), randSlice(r, 9*tc.chans), randSlice(r, tc.chans)
		c := make([]float32, tc.chans*out*out)
		name := fmt.Sprintf("s%d/%dx%dx%d", tc.stride, tc.chans, tc.size, tc.size)
		if tc.stride == 2 {
			b.Run(name+"/planes", func(b *testing.B) {
				l, err := NewConvLayout(s)
				if err != nil {
					b.Fatal(err)
				}
				buf, grid, offs := make([]float32, l.BufferSize(tc.chans)), make([]float32, tc.chans*l.Span), l.Offsets(nil, 1)
				for b.Loop() {
					l.Fill(buf, x, tc.chans)
					for ch := 0; ch < tc.chans; ch++ {
						Depthwise(w[9*ch:9*ch+9], buf[ch*l.ChanStride:], offs, l.Span, grid[ch*l.Span:], bias[ch])
					}
					l.Compact(c, grid, tc.chans, l.Span)
				}
			})
		} else {
			b.Run(name+"/directconv", func(b *testing.B) {
				d := NewDirectConv(s, 1, 1)
				if d == nil {
					b.Skip("no DirectConv on this CPU")
				}
				for b.Loop() {
					if err := d.Depthwise(w, x, plane, 0, d.N, c, d.N, bias, tc.chans); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(name+"/rows", func(b *testing.B) {
			d := NewDepthwise3x3(s)
			if d == nil {
				b.Skip("no Depthwise3x3 kernels on this CPU or build")
			}
			for b.Loop() {
				if err := d.Run(w, x, plane, c, out*out, bias, tc.chans); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
