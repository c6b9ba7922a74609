package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestDirectConv checks DirectConv bit for bit against MulOffsets over
// ConvLayout's padded buffer followed by Compact, for several kernels,
// paddings and dilations, at stride 1 and (over Fill's phases) stride 2,
// column ranges split as the threads split them, with the masked
// assembly kernels and with their Go twins.
func TestDirectConv(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 30))
	type shape struct{ m, cin, h, w, kh, kw, dil, padY, padX, stride int }
	shapes := []shape{
		{16, 16, 28, 28, 3, 3, 1, 1, 1, 1}, {32, 32, 14, 14, 3, 3, 1, 1, 1, 1}, {64, 64, 7, 7, 3, 3, 1, 1, 1, 1},
		{5, 3, 9, 11, 3, 3, 1, 1, 1, 1}, {10, 2, 6, 40, 5, 5, 1, 2, 2, 1}, {7, 4, 8, 9, 3, 3, 2, 2, 2, 1},
		{16, 1, 28, 28, 3, 3, 1, 1, 1, 1}, {6, 3, 5, 33, 1, 3, 1, 0, 1, 1}, {4, 2, 4, 4, 3, 3, 1, 0, 1, 1},
		// Stride 2: ResNet's downsampling, odd phase planes, 5×5, 2×2
		// without padding, and planes of one row.
		{32, 16, 28, 28, 3, 3, 1, 1, 1, 2}, {64, 32, 14, 14, 3, 3, 1, 1, 1, 2}, {5, 3, 6, 10, 3, 3, 1, 1, 1, 2},
		{7, 2, 8, 8, 5, 5, 1, 2, 2, 2}, {6, 3, 4, 12, 2, 2, 1, 0, 0, 2}, {4, 2, 2, 34, 3, 3, 1, 1, 1, 2},
	}
	masked := []struct {
		name   string
		k6, k4 maskedKernel
		v6, v4 maskedKernelV
		ok     bool
	}{
		{"asm", kernel6AsmM, kernel4AsmM, nil, nil, hasAVX512},
		{"go", kernel6MGo, kernel4MGo, nil, nil, true},
		{"asm16", nil, nil, kernel6AsmV, kernel4AsmV, hasAVX2FMA},
		{"go16", nil, nil, kernel6VGo, kernel4VGo, true},
	}
	for _, mk := range masked {
		if !mk.ok {
			continue
		}
		// The Go twins against the Go kernels (the same reduction order),
		// the assembly against the assembly (the 16-column masked kernels
		// against the 16-column AVX2 ones).
		was := UseAssembly(mk.name == "asm" || mk.name == "asm16")
		restore := setKernels(useKernels{m6: mk.k6, m4: mk.k4, v6: mk.v6, v4: mk.v4})
		if mk.name == "asm16" {
			kernel6, kernel4, kernel6w, kernel4w = kernel6Asm, kernel4Asm, nil, nil
		}
		for _, sh := range shapes {
			outH, outW := sh.h+2*sh.padY-(sh.kh-1)*sh.dil, sh.w
			if sh.stride == 2 {
				outH, outW = sh.h/2, sh.w/2
			}
			s := ConvShape{In: []int{sh.h, sh.w}, Kernel: []int{sh.kh, sh.kw}, Strides: []int{sh.stride, sh.stride}, Dilations: []int{sh.dil, sh.dil}, PadBegin: []int{sh.padY, sh.padX}, Out: []int{outH, outW}}
			d := NewDirectConv(s, sh.cin, 1)
			if d == nil || mk.v6 != nil && d.width != nr || mk.v6 == nil && d.width != nrWide {
				t.Fatalf("%s %+v: no direct plan of the kernels' width", mk.name, sh)
			}
			l, err := NewConvLayout(s)
			if err != nil {
				t.Fatal(err)
			}
			offs := l.Offsets(nil, sh.cin)
			k := len(offs)
			pa, err := PackA(sh.m, k, randSlice(r, sh.m*k), k, false, 1)
			if err != nil {
				t.Fatal(err)
			}
			img := randSlice(r, sh.cin*sh.h*sh.w)
			buf := make([]float32, l.BufferSize(sh.cin))
			l.Fill(buf, img, sh.cin)
			in := img
			if d.NeedsFill() {
				in = randSlice(r, d.BufferSize(sh.cin))
				d.Fill(in, img, sh.cin, 0)
			}
			bias := randSlice(r, sh.m)
			n := l.OutSize()
			addend := randSlice(r, sh.m*n)
			for _, ep := range []Epilogue{{}, {Bias: bias}, {Bias: bias, ReLU: true}, {Bias: bias, Add: addend}, {Bias: bias, ReLU: true, Add: addend}, {Add: addend}} {
				// The reference: the product and bias, then the addend,
				// then the clamp, as the unfused Add and Relu compute.
				pe := Epilogue{Bias: ep.Bias, ReLU: ep.ReLU && ep.Add == nil}
				grid := make([]float32, sh.m*l.Span)
				if err := pa.MulOffsets(buf, offs, l.Span, grid, l.Span, pe); err != nil {
					t.Fatal(err)
				}
				want := make([]float32, sh.m*n)
				l.Compact(want, grid, sh.m, l.Span)
				if ep.Add != nil {
					for i := range want {
						if want[i] += addend[i]; ep.ReLU && want[i] < 0 {
							want[i] = 0
						}
					}
				}
				for _, block := range []int{n, 64, 32} {
					got := randSlice(r, sh.m*n)
					for q0 := 0; q0 < n; q0 += block {
						q1 := min(q0+block, n)
						e := ep
						if e.Add != nil {
							e.Add = e.Add[q0:]
						}
						if err := d.Mul(pa, in, q0, q1, got[q0:], n, e); err != nil {
							t.Fatal(err)
						}
					}
					bitsEqual(t, fmt.Sprintf("%s %+v block=%d %+v", mk.name, sh, block, ep), got, want)
				}
			}
		}
		restore()
		UseAssembly(was)
	}
}

// TestDirectConvStride2Random plans random stride-2 convolutions (even
// images, kernels of 1 to 5 taps a side, dilation 1 or 2, any leading
// padding, output half the input), stacked or not, and checks that
// NewDirectConv declines exactly those whose taps leave a phase unread
// and that the others compute, over Fill, bit for bit the sums of
// MulOffsets over ConvLayout's buffer with Compact: with the 16-column
// AVX2 kernels where the CPU has them, and with their Go twins.
func TestDirectConvStride2Random(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for _, mk := range []struct {
		name string
		u    useKernels
		ok   bool
	}{
		{"asm16", useKernels{v6: kernel6AsmV, v4: kernel4AsmV}, hasAVX2FMA},
		{"go16", useKernels{v6: kernel6VGo, v4: kernel4VGo}, true},
	} {
		if !mk.ok {
			continue
		}
		was := UseAssembly(mk.name == "asm16")
		restore := setKernels(mk.u)
		if mk.name == "asm16" {
			kernel6, kernel4, kernel6w, kernel4w = kernel6Asm, kernel4Asm, nil, nil
		}
		planned := 0
		for trial := 0; trial < 150; trial++ {
			h, w := 2*(1+r.IntN(10)), 2*(1+r.IntN(12))
			kh, kw, dil := 1+r.IntN(5), 1+r.IntN(5), 1+r.IntN(2)
			pt, pl := r.IntN((kh-1)*dil+1), r.IntN((kw-1)*dil+1)
			cin, m, images := 1+r.IntN(4), 1+r.IntN(14), 1+r.IntN(3)
			s := ConvShape{In: []int{h, w}, Kernel: []int{kh, kw}, Strides: []int{2, 2}, Dilations: []int{dil, dil}, PadBegin: []int{pt, pl}, Out: []int{h / 2, w / 2}}
			name := fmt.Sprintf("%s %+v cin=%d m=%d images=%d", mk.name, s, cin, m, images)
			d := NewDirectConv(s, cin, images)
			// Every phase is read when the taps' offsets t = k·dil − pad
			// take both parities in each dimension.
			bothParities := func(k, pad int) bool {
				var seen [2]bool
				for i := 0; i < k; i++ {
					seen[(i*dil-pad)&1] = true
				}
				return seen[0] && seen[1]
			}
			if want := bothParities(kh, pt) && bothParities(kw, pl); (d != nil) != want {
				t.Fatalf("%s: planned %v, want %v", name, d != nil, want)
			}
			if d == nil {
				continue
			}
			planned++
			l, err := NewConvLayout(s)
			if err != nil {
				t.Fatal(err)
			}
			k := cin * kh * kw
			pa, err := PackA(m, k, randSlice(r, m*k), k, false, 1)
			if err != nil {
				t.Fatal(err)
			}
			in, hw := h*w, h/2*(w/2)
			imgs := randSlice(r, images*cin*in)
			buf := randSlice(r, d.BufferSize(cin))
			want := make([]float32, m*d.N)
			grid := make([]float32, m*l.Span)
			per := make([]float32, m*hw)
			pad := make([]float32, l.BufferSize(cin))
			offs := l.Offsets(nil, cin)
			bias := randSlice(r, m)
			for i := 0; i < images; i++ {
				img := imgs[i*cin*in : (i+1)*cin*in]
				d.Fill(buf, img, cin, i)
				l.Fill(pad, img, cin)
				if err := pa.MulOffsets(pad, offs, l.Span, grid, l.Span, Epilogue{Bias: bias, ReLU: true}); err != nil {
					t.Fatal(err)
				}
				l.Compact(per, grid, m, l.Span)
				for o := 0; o < m; o++ {
					copy(want[o*d.N+i*hw:o*d.N+(i+1)*hw], per[o*hw:(o+1)*hw])
				}
			}
			got := randSlice(r, m*d.N)
			for q0 := 0; q0 < d.N; q0 += 32 {
				if err := d.Mul(pa, buf, q0, min(q0+32, d.N), got[q0:], d.N, Epilogue{Bias: bias, ReLU: true}); err != nil {
					t.Fatal(err)
				}
			}
			bitsEqual(t, name, got, want)
		}
		t.Logf("%s: %d planned", mk.name, planned)
		if planned < 30 {
			t.Errorf("%s: only %d of 150 random shapes planned", mk.name, planned)
		}
		restore()
		UseAssembly(was)
	}
}

// useKernels is a choice of micro-kernels for a test (see setKernels).
type useKernels struct {
	m6, m4 maskedKernel
	v6, v4 maskedKernelV
}

// setKernels sets the masked micro-kernels to u's and returns a function
// that restores every kernel variable as it was (the others too, which a
// test may set after it).
func setKernels(u useKernels) (restore func()) {
	k6, k4, w6, w4, m6, m4, v6, v4, asm := kernel6, kernel4, kernel6w, kernel4w, kernel6m, kernel4m, kernel6v, kernel4v, useAsm
	kernel6m, kernel4m, kernel6v, kernel4v = u.m6, u.m4, u.v6, u.v4
	return func() {
		kernel6, kernel4, kernel6w, kernel4w, kernel6m, kernel4m, kernel6v, kernel4v, useAsm = k6, k4, w6, w4, m6, m4, v6, v4, asm
	}
}

// BenchmarkDirectConv measures DirectConv.Mul on the 3×3 convolutions
// of BenchmarkMulOffsets (useful GFLOP/s: the same count).
func BenchmarkDirectConv(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, sz := range []struct{ m, cin, w int }{{16, 16, 28}, {32, 32, 14}, {64, 64, 7}} {
		s := ConvShape{In: []int{sz.w, sz.w}, Kernel: []int{3, 3}, Strides: []int{1, 1}, Dilations: []int{1, 1}, PadBegin: []int{1, 1}, Out: []int{sz.w, sz.w}}
		d := NewDirectConv(s, sz.cin, 1)
		if d == nil {
			b.Skip("no masked kernels")
		}
		k := sz.cin * 9
		pa, err := PackA(sz.m, k, randSlice(r, sz.m*k), k, false, 1)
		if err != nil {
			b.Fatal(err)
		}
		img := randSlice(r, sz.cin*sz.w*sz.w)
		c := make([]float32, sz.m*d.N)
		b.Run(fmt.Sprintf("%dx%dx%d", sz.m, d.N, k), func(b *testing.B) {
			for b.Loop() {
				if err := d.Mul(pa, img, 0, d.N, c, d.N, Epilogue{}); err != nil {
					b.Fatal(err)
				}
			}
			reportGFLOPS(b, sz.m, sz.w*sz.w, k)
		})
	}
}

// TestDirectConvStacked checks stacked images (Fill's layout) against
// each image on its own, bit for bit, with the assembly and the Go
// twins, at stride 1 and 2, for partial stacks (fewer columns than the
// plan's images) too.
func TestDirectConvStacked(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, mk := range []struct {
		name string
		u    useKernels
		ok   bool
	}{
		{"asm", useKernels{m6: kernel6AsmM, m4: kernel4AsmM}, hasAVX512},
		{"go", useKernels{m6: kernel6MGo, m4: kernel4MGo}, true},
		{"asm16", useKernels{v6: kernel6AsmV, v4: kernel4AsmV}, hasAVX2FMA},
		{"go16", useKernels{v6: kernel6VGo, v4: kernel4VGo}, true},
	} {
		if !mk.ok {
			continue
		}
		restore := setKernels(mk.u)
		for _, sh := range []struct{ m, cin, h, w, images, stride int }{
			{64, 64, 7, 7, 16, 1}, {32, 32, 14, 14, 4, 1}, {5, 3, 3, 5, 7, 1}, {7, 2, 9, 4, 3, 1},
			{64, 32, 14, 14, 16, 2}, {5, 3, 6, 10, 7, 2}, {7, 2, 2, 4, 3, 2},
		} {
			oh, ow := sh.h, sh.w
			if sh.stride == 2 {
				oh, ow = sh.h/2, sh.w/2
			}
			s := ConvShape{In: []int{sh.h, sh.w}, Kernel: []int{3, 3}, Strides: []int{sh.stride, sh.stride}, Dilations: []int{1, 1}, PadBegin: []int{1, 1}, Out: []int{oh, ow}}
			one, all := NewDirectConv(s, sh.cin, 1), NewDirectConv(s, sh.cin, sh.images)
			k := sh.cin * 9
			pa, err := PackA(sh.m, k, randSlice(r, sh.m*k), k, false, 1)
			if err != nil {
				t.Fatal(err)
			}
			in, hw := sh.h*sh.w, oh*ow
			imgs := randSlice(r, sh.images*sh.cin*in)
			// Fill stacks the images (the order checked at stride 1).
			stack := randSlice(r, all.BufferSize(sh.cin))
			for i := 0; i < sh.images; i++ {
				all.Fill(stack, imgs[i*sh.cin*in:(i+1)*sh.cin*in], sh.cin, i)
			}
			if sh.stride == 1 {
				for i := 0; i < sh.images; i++ {
					for c := 0; c < sh.cin; c++ {
						bitsEqual(t, fmt.Sprintf("Fill %+v image %d channel %d", sh, i, c), stack[(c*sh.images+i)*in:(c*sh.images+i+1)*in], imgs[(i*sh.cin+c)*in:(i*sh.cin+c+1)*in])
					}
				}
			}
			bias := randSlice(r, sh.m)
			ep := Epilogue{Bias: bias, ReLU: true}
			want := make([]float32, sh.m*all.N)
			per := make([]float32, sh.m*hw)
			for i := 0; i < sh.images; i++ {
				img := imgs[i*sh.cin*in : (i+1)*sh.cin*in]
				if one.NeedsFill() {
					buf := make([]float32, one.BufferSize(sh.cin))
					one.Fill(buf, img, sh.cin, 0)
					img = buf
				}
				if err := one.Mul(pa, img, 0, hw, per, hw, ep); err != nil {
					t.Fatal(err)
				}
				for o := 0; o < sh.m; o++ {
					copy(want[o*all.N+i*hw:o*all.N+(i+1)*hw], per[o*hw:])
				}
			}
			for _, n := range []int{sh.images, sh.images - 1, 1} {
				got := make([]float32, sh.m*all.N)
				for q0 := 0; q0 < n*hw; q0 += 64 {
					if err := all.Mul(pa, stack, q0, min(q0+64, n*hw), got[q0:], all.N, ep); err != nil {
						t.Fatal(err)
					}
				}
				for o := 0; o < sh.m; o++ {
					bitsEqual(t, fmt.Sprintf("%s %+v n=%d channel %d", mk.name, sh, n, o), got[o*all.N:o*all.N+n*hw], want[o*all.N:o*all.N+n*hw])
				}
			}
		}
		restore()
	}
}

// TestDirectDepthwise checks DirectConv.Depthwise bit for bit against
// Depthwise over ConvLayout's padded buffer followed by Compact (the
// assembly), and its Go twin against that within the FMA tolerance, for
// several channels (inputs apart or one shared, with and without bias)
// on column ranges split as the threads split them, writing nothing
// past each channel's columns.
func TestDirectDepthwise(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	// NewDirectConv plans without AVX-512 too: 32-column plans (the
	// AVX-512 kernel) and 16-column ones (the AVX2 kernel).
	for _, width := range []int{nrWide, nr} {
		u := useKernels{m6: kernel6MGo, m4: kernel4MGo}
		if width == nr {
			u = useKernels{v6: kernel6VGo, v4: kernel4VGo}
		}
		restore := setKernels(u)
		testDirectDepthwise(t, r, width)
		restore()
	}
}

func testDirectDepthwise(t *testing.T, r *rand.Rand, width int) {
	for _, sh := range []struct{ h, w, kh, kw, dil, padY, padX int }{
		{28, 28, 3, 3, 1, 1, 1}, {14, 14, 3, 3, 1, 1, 1}, {7, 7, 3, 3, 1, 1, 1}, {9, 20, 5, 5, 1, 2, 2}, {8, 9, 3, 3, 2, 2, 2}, {3, 70, 3, 3, 1, 1, 1},
	} {
		outH := sh.h + 2*sh.padY - (sh.kh-1)*sh.dil
		s := ConvShape{In: []int{sh.h, sh.w}, Kernel: []int{sh.kh, sh.kw}, Strides: []int{1, 1}, Dilations: []int{sh.dil, sh.dil}, PadBegin: []int{sh.padY, sh.padX}, Out: []int{outH, sh.w}}
		d := NewDirectConv(s, 1, 1)
		l, err := NewConvLayout(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, chans := range []int{3, 9} {
			inSize, taps := sh.h*sh.w, l.Taps()
			imgs := randSlice(r, chans*inSize)
			w := randSlice(r, chans*taps)
			bias := randSlice(r, chans)
			for _, shared := range []bool{false, true} {
				for _, withBias := range []bool{true, false} {
					inStride := inSize
					if shared {
						inStride = 0
					}
					var bs []float32
					if withBias {
						bs = bias
					}
					ld := d.N + 7
					want := make([]float32, chans*ld)
					for i := 0; i < chans; i++ {
						buf := make([]float32, l.BufferSize(1))
						l.Fill(buf, imgs[i*inStride:i*inStride+inSize], 1)
						grid := make([]float32, l.Span)
						var bv float32
						if withBias {
							bv = bias[i]
						}
						Depthwise(w[i*taps:(i+1)*taps], buf, l.Offsets(nil, 1), l.Span, grid, bv)
						l.Compact(want[i*ld:], grid, 1, l.Span)
					}
					for _, block := range []int{d.N, 64, 32, 16} {
						if block%width != 0 {
							continue
						}
						got := randSlice(r, chans*ld)
						twin := append([]float32(nil), got...)
						for i := 0; i < chans; i++ {
							copy(want[i*ld+d.N:(i+1)*ld], got[i*ld+d.N:(i+1)*ld]) // untouched
						}
						for q0 := 0; q0 < d.N; q0 += block {
							q1 := min(q0+block, d.N)
							if err := d.Depthwise(w, imgs, inStride, q0, q1, got[q0:], ld, bs, chans); err != nil {
								t.Fatal(err)
							}
							for i := 0; i < chans; i++ {
								var bv float32
								if withBias {
									bv = bias[i]
								}
								depthwiseMaskedGo(w[i*taps:(i+1)*taps], imgs[i*inStride:], q0, d.tapOffs, q1-q0, twin[i*ld+q0:], bv, d.masks[q0/width*d.taps:], width)
							}
						}
						what := fmt.Sprintf("width %d %+v chans=%d shared=%v bias=%v block=%d", width, sh, chans, shared, withBias, block)
						if d.width != width {
							t.Fatalf("%s: a plan %d columns wide", what, d.width)
						}
						if d.DepthwiseVector() {
							bitsEqual(t, what, got, want)
						}
						closeTo(t, what+" Go twin", twin, want, taps)
					}
				}
			}
		}
	}
}

// BenchmarkDirectDepthwise compares DirectConv.Depthwise with ConvLayout's
// Fill, Depthwise and Compact on the 3×3 depthwise convolutions of the
// example MobileNet (and the first convolution of the example CNNs, one
// input shared by 16 outputs).
func BenchmarkDirectDepthwise(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, sz := range []struct {
		chans, w int
		shared   bool
	}{{16, 28, true}, {16, 28, false}, {96, 14, false}, {160, 7, false}} {
		s := ConvShape{In: []int{sz.w, sz.w}, Kernel: []int{3, 3}, Strides: []int{1, 1}, Dilations: []int{1, 1}, PadBegin: []int{1, 1}, Out: []int{sz.w, sz.w}}
		d := NewDirectConv(s, 1, 1)
		l, err := NewConvLayout(s)
		if err != nil {
			b.Fatal(err)
		}
		inSize, inStride, in := sz.w*sz.w, sz.w*sz.w, sz.chans
		if sz.shared {
			inStride, in = 0, 1
		}
		img := randSlice(r, in*inSize)
		w := randSlice(r, sz.chans*9)
		bias := randSlice(r, sz.chans)
		c := make([]float32, sz.chans*inSize)
		name := fmt.Sprintf("%dx%dx%d-shared=%v", sz.chans, sz.w, sz.w, sz.shared)
		if d != nil && d.DepthwiseVector() {
			b.Run("direct/"+name, func(b *testing.B) {
				for b.Loop() {
					if err := d.Depthwise(w, img, inStride, 0, d.N, c, inSize, bias, sz.chans); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run("padded/"+name, func(b *testing.B) {
			buf := make([]float32, l.BufferSize(in))
			grid := make([]float32, sz.chans*l.Span)
			offs := l.Offsets(nil, 1)
			for b.Loop() {
				l.Fill(buf, img, in)
				for i := 0; i < sz.chans; i++ {
					at := i * l.ChanStride
					if sz.shared {
						at = 0
					}
					Depthwise(w[i*9:(i+1)*9], buf[at:], offs, l.Span, grid[i*l.Span:], bias[i])
				}
				l.Compact(c, grid, sz.chans, l.Span)
			}
		})
	}
}

// BenchmarkConvPaths compares a 3×3 convolution through DirectConv.Mul
// with the same through ConvLayout (Fill, MulOffsets, Compact), on an
// image followed by another (as in a batch), at the sizes of the example
// ResNet.
func BenchmarkConvPaths(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, sz := range []struct{ m, cin, w int }{{16, 16, 28}, {32, 32, 14}, {64, 64, 7}} {
		s := ConvShape{In: []int{sz.w, sz.w}, Kernel: []int{3, 3}, Strides: []int{1, 1}, Dilations: []int{1, 1}, PadBegin: []int{1, 1}, Out: []int{sz.w, sz.w}}
		l, err := NewConvLayout(s)
		if err != nil {
			b.Fatal(err)
		}
		k := sz.cin * 9
		pa, err := PackA(sz.m, k, randSlice(r, sz.m*k), k, false, 1)
		if err != nil {
			b.Fatal(err)
		}
		hw := sz.w * sz.w
		img := randSlice(r, 2*sz.cin*hw)
		c := make([]float32, sz.m*hw)
		bias := randSlice(r, sz.m)
		name := fmt.Sprintf("%dx%dx%d", sz.m, hw, k)
		if d := NewDirectConv(s, sz.cin, 1); d != nil {
			b.Run("direct/"+name, func(b *testing.B) {
				for b.Loop() {
					if err := d.Mul(pa, img, 0, d.N, c, d.N, Epilogue{Bias: bias, ReLU: true}); err != nil {
						b.Fatal(err)
					}
				}
				reportGFLOPS(b, sz.m, hw, k)
			})
		}
		if WinogradAvailable() {
			// Winograd, on 8 images a call (its chunks straddle them);
			// figures per image.
			g, err := NewWinograd(randSlice(r, sz.m*k), sz.m, sz.cin, sz.w, sz.w)
			if err != nil {
				b.Fatal(err)
			}
			const n = 8
			imgs := randSlice(r, n*sz.cin*hw)
			out := make([]float32, n*sz.m*hw)
			buf := make([]float32, g.ScratchSize())
			b.Run("winograd/"+name, func(b *testing.B) {
				for b.Loop() {
					if err := g.Run(imgs, n, 0, g.Chunks(n), out, Epilogue{Bias: bias, ReLU: true}, buf); err != nil {
						b.Fatal(err)
					}
				}
				reportGFLOPS(b, n*sz.m, hw, k)
			})
		}
		b.Run("padded/"+name, func(b *testing.B) {
			buf := make([]float32, l.BufferSize(sz.cin))
			grid := make([]float32, sz.m*l.Span)
			offs := l.Offsets(nil, sz.cin)
			for b.Loop() {
				l.Fill(buf, img[:sz.cin*hw], sz.cin)
				if err := pa.MulOffsets(buf, offs, l.Span, grid, l.Span, Epilogue{Bias: bias, ReLU: true}); err != nil {
					b.Fatal(err)
				}
				l.Compact(c, grid, sz.m, l.Span)
			}
			reportGFLOPS(b, sz.m, hw, k)
		})
	}
}

// TestDeinterleave2Rows checks deinterleave2Rows (when it runs: AVX-512,
// or AVX2 for rows of at least 8) against a plain loop, for odd and even
// row lengths, odd phases before and after the even one, and writing
// nothing else.
func TestDeinterleave2Rows(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{1, 7, 8, 9, 14, 15, 16, 17, 28, 29, 31, 33, 56} {
		for _, rows := range []int{1, 3, 14} {
			for _, before := range []bool{false, true} {
				srcStride := 2*n + 3
				dstStride := (n+1)/2 + 5
				src := randSlice(r, (rows-1)*srcStride+n)
				size := 2*rows*dstStride + 8
				even, odd := 4, rows*dstStride
				if before {
					even, odd = rows*dstStride, -rows*dstStride+4
				}
				got := randSlice(r, size)
				want := append([]float32(nil), got...)
				for y := 0; y < rows; y++ {
					for i := 0; i < n; i++ {
						at := even + y*dstStride + i/2
						if i%2 != 0 {
							at += odd
						}
						want[at] = src[y*srcStride+i]
					}
				}
				if !deinterleave2Rows(got, even, odd, dstStride, src, srcStride, rows, n) {
					continue
				}
				bitsEqual(t, fmt.Sprintf("n=%d rows=%d odd before=%v", n, rows, before), got, want)
			}
		}
	}
}

// TestDirectChunks checks DirectConv.Mul bit for bit with one block per
// kernel call against chunks of several (the blocks kernels), with the
// assembly and the Go twins.
func TestDirectChunks(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	was := directChunk
	defer func() { directChunk = was }()
	kinds := []useKernels{{v6: kernel6VGo, v4: kernel4VGo}}
	if hasAVX2FMA {
		kinds = append(kinds, useKernels{v6: kernel6AsmV, v4: kernel4AsmV})
	}
	for _, u := range kinds {
		restore := setKernels(u)
		for _, sh := range []struct{ m, cin, h, w, images int }{{16, 16, 28, 28, 1}, {10, 3, 9, 11, 2}, {7, 2, 5, 40, 1}} {
			s := ConvShape{In: []int{sh.h, sh.w}, Kernel: []int{3, 3}, Strides: []int{1, 1}, Dilations: []int{1, 1}, PadBegin: []int{1, 1}, Out: []int{sh.h, sh.w}}
			d := NewDirectConv(s, sh.cin, sh.images)
			if d == nil || d.width != nr {
				t.Fatalf("%+v: no 16-column plan", sh)
			}
			k := sh.cin * 9
			pa, err := PackA(sh.m, k, randSlice(r, sh.m*k), k, false, 1)
			if err != nil {
				t.Fatal(err)
			}
			img := randSlice(r, sh.cin*sh.images*sh.h*sh.w+r.IntN(40))
			bias := randSlice(r, sh.m)
			add := randSlice(r, sh.m*d.N)
			for _, ep := range []Epilogue{{Bias: bias, ReLU: true}, {Bias: bias, Add: add, ReLU: true}} {
				var want []float32
				for _, chunk := range []int{0, 1000, 1 << 30} {
					directChunk = chunk
					got := make([]float32, sh.m*d.N)
					for q0 := 0; q0 < d.N; q0 += 64 {
						e := ep
						if e.Add != nil {
							e.Add = e.Add[q0:]
						}
						if err := d.Mul(pa, img, q0, min(q0+64, d.N), got[q0:], d.N, e); err != nil {
							t.Fatal(err)
						}
					}
					if want == nil {
						want = got
						continue
					}
					bitsEqual(t, fmt.Sprintf("%+v chunk=%d %+v", sh, chunk, ep), got, want)
				}
			}
		}
		restore()
	}
}

// TestStorePacked checks what the 16-column masked kernels store with
// flagStorePacked against packMaskedVGo, bit for bit, on every block of
// small planes (where the rows of the first and last blocks leave b, so
// that the loads that do not fault run), one block and several per
// call, the assembly and the Go twins, and that storing changes nothing
// of C; a canary after the packed rows stays.
func TestStorePacked(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for _, mk := range []struct {
		name   string
		v6, v4 maskedKernelV
		ok     bool
	}{{"asm16", kernel6AsmV, kernel4AsmV, hasAVX2FMA}, {"go16", kernel6VGo, kernel4VGo, true}} {
		if !mk.ok {
			continue
		}
		for _, sh := range []struct{ cin, h, w, images int }{{3, 5, 7, 1}, {2, 7, 7, 4}, {4, 9, 16, 1}} {
			s := ConvShape{In: []int{sh.h, sh.w}, Kernel: []int{3, 3}, Strides: []int{1, 1}, Dilations: []int{1, 1}, PadBegin: []int{1, 1}, Out: []int{sh.h, sh.w}}
			d := NewDirectConv(s, sh.cin, sh.images)
			if d == nil || d.width != nr {
				t.Skip("no 16-column direct plans on this CPU")
			}
			b := randSlice(r, sh.cin*sh.images*sh.h*sh.w)
			k, per, blocks := len(d.stepsV), d.taps*nr, d.N/nr
			for _, h := range []int{6, 4} {
				kern := map[int]maskedKernelV{6: mk.v6, 4: mk.v4}[h]
				a := randSlice(r, h*k)
				for nb := 1; nb <= 3; nb++ {
					for q := 0; q+nb <= blocks; q++ {
						f := 0
						if q*nr+d.lo < 0 || q*nr+d.hi+nb*nr > len(b) {
							if nb > 1 {
								continue // blocks near the ends go one at a time
							}
							f = flagFaultMasks
						}
						masks := d.vmasks[q*per : (q+nb)*per]
						what := fmt.Sprintf("%s %+v h=%d blocks %d..%d", mk.name, sh, h, q, q+nb)
						want := make([]float32, nb*k*nr)
						packMaskedVGo(k, b, q*nr, d.stepsV, masks, want, nb)
						got := make([]float32, nb*k*nr+1)
						got[nb*k*nr] = 7
						cWant, cGot := make([]float32, h*nb*nr), make([]float32, h*nb*nr)
						kern(k, a, b, q*nr, d.stepsV, cWant, nb*nr, h, nil, f, masks, nil, nb, nil)
						kern(k, a, b, q*nr, d.stepsV, cGot, nb*nr, h, nil, f|flagStorePacked, masks, nil, nb, got[:nb*k*nr])
						for i := range want {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%s: packed element %d = %v, want %v", what, i, got[i], want[i])
							}
						}
						if got[nb*k*nr] != 7 {
							t.Fatalf("%s: stored past the packed rows", what)
						}
						for i := range cWant {
							if math.Float32bits(cGot[i]) != math.Float32bits(cWant[i]) {
								t.Fatalf("%s: C element %d = %v with the store, %v without", what, i, cGot[i], cWant[i])
							}
						}
					}
				}
			}
		}
	}
}
