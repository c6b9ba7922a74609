package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

// convCase is one convolution configuration.
type convCase struct {
	n, c, m, group     int
	in, kernel         []int
	strides, dilations []int
	pads               []int
	constW, bias       bool
	threads            int
}

func intsAttr(name string, v []int) *potv1.Attribute {
	a := &potv1.Attribute{Name: name, Type: potv1.Attribute_TYPE_INTS}
	for _, x := range v {
		a.Ints = append(a.Ints, int64(x))
	}
	return a
}

// buildConv compiles a Conv node for the case.
func buildConv(tb testing.TB, cc convCase, w *tensor.Tensor) Kernel {
	tb.Helper()
	p := &potv1.Node{Name: "conv", OpType: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"y"}}
	if cc.bias {
		p.Inputs = append(p.Inputs, "b")
	}
	p.Attributes = append(p.Attributes, &potv1.Attribute{Name: "group", Type: potv1.Attribute_TYPE_INT, I: int64(cc.group)})
	if cc.strides != nil {
		p.Attributes = append(p.Attributes, intsAttr("strides", cc.strides))
	}
	if cc.dilations != nil {
		p.Attributes = append(p.Attributes, intsAttr("dilations", cc.dilations))
	}
	if cc.pads != nil {
		p.Attributes = append(p.Attributes, intsAttr("pads", cc.pads))
	}
	consts := make([]*tensor.Tensor, len(p.Inputs))
	if cc.constW {
		consts[1] = w
	}
	k, err := newConv(NewNode(p, 13, consts))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// refConv is a direct convolution in float64.
func refConv(cc convCase, x, w, b []float32, outSp []int) []float32 {
	nd := len(cc.in)
	cg, mg := cc.c/cc.group, cc.m/cc.group
	strides, dil := onesIfNil(cc.strides, nd), onesIfNil(cc.dilations, nd)
	pads := cc.pads
	if pads == nil {
		pads = make([]int, 2*nd)
	}
	inSize, outSize, taps := tensor.NumElements(cc.in), tensor.NumElements(outSp), tensor.NumElements(cc.kernel)
	inStr, kStr := tensor.Strides(cc.in), tensor.Strides(cc.kernel)
	y := make([]float32, cc.n*cc.m*outSize)
	for n := 0; n < cc.n; n++ {
		for oc := 0; oc < cc.m; oc++ {
			g := oc / mg
			for o := 0; o < outSize; o++ {
				var sum float64
				if b != nil {
					sum = float64(b[oc])
				}
				for ci := 0; ci < cg; ci++ {
					for t := 0; t < taps; t++ {
						off, ok := 0, true
						for d := 0; d < nd; d++ {
							od := o / tensor.Strides(outSp)[d] % outSp[d]
							kd := t / kStr[d] % cc.kernel[d]
							pos := od*strides[d] - pads[d] + kd*dil[d]
							if pos < 0 || pos >= cc.in[d] {
								ok = false
								break
							}
							off += pos * inStr[d]
						}
						if ok {
							sum += float64(x[(n*cc.c+g*cg+ci)*inSize+off]) * float64(w[(oc*cg+ci)*taps+t])
						}
					}
				}
				y[(n*cc.m+oc)*outSize+o] = float32(sum)
			}
		}
	}
	return y
}

func randTensor(r *rand.Rand, shape ...int) *tensor.Tensor {
	d := make([]float32, tensor.NumElements(shape))
	for i := range d {
		d[i] = r.Float32()*2 - 1
	}
	return tensor.From(shape, d)
}

func TestConvMatchesReference(t *testing.T) {
	cases := []convCase{
		{n: 2, c: 3, m: 5, group: 1, in: []int{9, 11}, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true, bias: true},
		{n: 1, c: 16, m: 16, group: 1, in: []int{28, 28}, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true, bias: true},
		// The same below winogradChannels: a direct convolution.
		{n: 1, c: winogradChannels - 1, m: 16, group: 1, in: []int{28, 28}, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true, bias: true},
		{n: 3, c: 16, m: 32, group: 1, in: []int{14, 14}, kernel: []int{3, 3}, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}, constW: true},
		{n: 2, c: 16, m: 32, group: 1, in: []int{14, 14}, kernel: []int{1, 1}, strides: []int{2, 2}, constW: true, bias: true},
		{n: 2, c: 7, m: 13, group: 1, in: []int{10, 12}, kernel: []int{1, 1}, bias: true},
		{n: 1, c: 4, m: 6, group: 2, in: []int{8, 9}, kernel: []int{3, 2}, strides: []int{2, 3}, dilations: []int{2, 1}, pads: []int{0, 1, 2, 3}, constW: true, bias: true},
		{n: 2, c: 8, m: 8, group: 8, in: []int{10, 10}, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true, bias: true},
		{n: 2, c: 4, m: 8, group: 4, in: []int{7, 7}, kernel: []int{3, 3}, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}},
		{n: 2, c: 5, m: 7, group: 1, in: []int{20}, kernel: []int{4}, strides: []int{3}, pads: []int{2, 1}, constW: true},
		{n: 1, c: 3, m: 4, group: 1, in: []int{5, 6, 7}, kernel: []int{2, 3, 2}, strides: []int{1, 2, 1}, dilations: []int{2, 1, 1}, pads: []int{1, 0, 1, 0, 1, 1}, constW: true, bias: true},
		{n: 5, c: 6, m: 10, group: 1, in: []int{6, 6}, kernel: []int{3, 3}, constW: true, threads: 2},
		{n: 1, c: 6, m: 10, group: 1, in: []int{19, 23}, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true, bias: true, threads: 2},
		{n: 1, c: 6, m: 12, group: 6, in: []int{19, 23}, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true, bias: true, threads: 2},
		{n: 1, c: 1, m: 3, group: 1, in: []int{4, 4}, kernel: []int{4, 4}, constW: true},
		{n: 2, c: 3, m: 7, group: 1, in: []int{21, 37}, kernel: []int{3, 3}, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}, constW: true, bias: true},
		{n: 1, c: 2, m: 6, group: 1, in: []int{20, 40}, kernel: []int{3, 3}, strides: []int{1, 2}, pads: []int{0, 0, 1, 1}, constW: true},
		// Small images, stacked several to a product (kernels.DirectConv).
		{n: 19, c: 64, m: 64, group: 1, in: []int{7, 7}, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true, bias: true},
		{n: 19, c: 64, m: 64, group: 1, in: []int{7, 7}, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true, bias: true, threads: 2},
		{n: 9, c: 128, m: 128, group: 2, in: []int{7, 7}, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true, bias: true},
		{n: 5, c: 6, m: 10, group: 1, in: []int{7, 7}, kernel: []int{1, 1}, constW: true, bias: true},
		{n: 7, c: 8, m: 6, group: 2, in: []int{5, 3}, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true, bias: true, threads: 2},
		{n: 3, c: 4, m: 5, group: 1, in: []int{14, 14}, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true},
		// Stride-2 convolutions on the image's phases (kernels.DirectConv):
		// grouped, and stacked over two threads.
		{n: 2, c: 8, m: 12, group: 2, in: []int{10, 12}, kernel: []int{3, 3}, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}, constW: true, bias: true, threads: 2},
		{n: 17, c: 32, m: 64, group: 1, in: []int{14, 14}, kernel: []int{3, 3}, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}, constW: true, bias: true, threads: 2},
		// "Same" 3×3 convolutions of winogradChannels or more
		// (kernels.Winograd): one image over two threads (its chunks of
		// tile rows split), batches over two threads in calls of up to
		// winogradImages images, odd sizes.
		{n: 1, c: 32, m: 40, group: 1, in: []int{15, 9}, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true, bias: true, threads: 2},
		{n: 37, c: 32, m: 32, group: 1, in: []int{14, 14}, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true, bias: true, threads: 2},
		{n: 3, c: 33, m: 32, group: 1, in: []int{5, 30}, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true},
		// 3×3 stride-2 depthwise convolutions (kernels.Depthwise3x3).
		{n: 3, c: 16, m: 16, group: 16, in: []int{28, 28}, kernel: []int{3, 3}, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}, constW: true, bias: true, threads: 2},
		{n: 2, c: 9, m: 9, group: 9, in: []int{7, 10}, kernel: []int{3, 3}, strides: []int{2, 2}, pads: []int{0, 0, 1, 1}, constW: true},
		{n: 1, c: 5, m: 5, group: 5, in: []int{17, 3}, kernel: []int{3, 3}, strides: []int{2, 2}, pads: []int{2, 1, 2, 0}, bias: true},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i, cc := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			x := randTensor(r, append([]int{cc.n, cc.c}, cc.in...)...)
			w := randTensor(r, append([]int{cc.m, cc.c / cc.group}, cc.kernel...)...)
			b := randTensor(r, cc.m)
			k := buildConv(t, cc, w)
			in := []*tensor.Tensor{x, w}
			var bd []float32
			if cc.bias {
				in = append(in, b)
				bd = b.F32()
			}
			ctx := NewContext(max(cc.threads, 1))
			defer ctx.Close()
			y := &tensor.Tensor{}
			for run := 0; run < 2; run++ { // the second run reuses the plan and scratch
				if err := k.Run(ctx, in, []*tensor.Tensor{y}); err != nil {
					t.Fatal(err)
				}
			}
			want := refConv(cc, x.F32(), w.F32(), bd, y.Shape[2:])
			if len(want) != y.Len() {
				t.Fatalf("shape %v: %d values, want %d", y.Shape, y.Len(), len(want))
			}
			tol := convTolerance(k.(*convKernel), cc, x, w, bd, y.Shape[2:])
			for j, v := range y.F32() {
				if math.Abs(float64(v-want[j])) > tol[j] {
					t.Fatalf("y[%d] = %v, want %v", j, v, want[j])
				}
			}
		})
	}
}

// convBench are the convolutions of the example CNNs (resnet_fmnist,
// mobilenet_fmnist) at batch 64.
var convBench = []struct {
	name string
	cc   convCase
}{
	{"resnet_16x16x28x28", convCase{n: 64, c: 16, m: 16, group: 1, in: []int{28, 28}, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true, bias: true}},
	{"resnet_16to32_s2", convCase{n: 64, c: 16, m: 32, group: 1, in: []int{28, 28}, kernel: []int{3, 3}, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}, constW: true, bias: true}},
	{"resnet_32x32x14x14", convCase{n: 64, c: 32, m: 32, group: 1, in: []int{14, 14}, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true, bias: true}},
	{"resnet_64x64x7x7", convCase{n: 64, c: 64, m: 64, group: 1, in: []int{7, 7}, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true, bias: true}},
	{"resnet_1x1_s2", convCase{n: 64, c: 32, m: 64, group: 1, in: []int{14, 14}, kernel: []int{1, 1}, strides: []int{2, 2}, constW: true, bias: true}},
	{"mobilenet_1x1_96to24", convCase{n: 64, c: 96, m: 24, group: 1, in: []int{14, 14}, kernel: []int{1, 1}, constW: true, bias: true}},
	{"mobilenet_dw_64_s2", convCase{n: 64, c: 64, m: 64, group: 64, in: []int{28, 28}, kernel: []int{3, 3}, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}, constW: true, bias: true}},
	{"mobilenet_dw_96", convCase{n: 64, c: 96, m: 96, group: 96, in: []int{14, 14}, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true, bias: true}},
}

// convTolerance is how far each output of k may be from refConv's: 1e-4,
// or, where k runs as Winograd's F(4×4, 3×3), whose transforms scale
// values by up to 8 and round more (TestWinogradMatchesReference), 64
// float32 roundings of the magnitude of the output's terms, the
// convolution of |x| by |w| (plus |b|).
func convTolerance(k *convKernel, cc convCase, x, w *tensor.Tensor, b []float32, outSp []int) []float64 {
	abs := func(v []float32) []float32 {
		if v == nil {
			return nil
		}
		a := make([]float32, len(v))
		for i, e := range v {
			a[i] = float32(math.Abs(float64(e)))
		}
		return a
	}
	n := cc.n * cc.m * tensor.NumElements(outSp)
	tol := make([]float64, n)
	for i := range tol {
		tol[i] = 1e-4
	}
	if k.plan.Load().wino == nil {
		return tol
	}
	for i, m := range refConv(cc, abs(x.F32()), abs(w.F32()), abs(b), outSp) {
		tol[i] = max(tol[i], 64*float64(m)/(1<<23))
	}
	return tol
}

// BenchmarkConv reports the useful GFLOP/s (2·MACs of the convolution,
// not counting padding work) of the Conv operator on one thread with the
// assembly and the pure-Go micro-kernels, and of an explicit im2col +
// gonum blas32.Gemm for reference (2-D convolutions without groups).
func BenchmarkConv(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, bc := range convBench {
		cc := bc.cc
		x := randTensor(r, append([]int{cc.n, cc.c}, cc.in...)...)
		w := randTensor(r, append([]int{cc.m, cc.c / cc.group}, cc.kernel...)...)
		bias := randTensor(r, cc.m)
		k := buildConv(b, cc, w)
		y := &tensor.Tensor{}
		in := []*tensor.Tensor{x, w, bias}
		ctx := NewContext(1)
		if err := k.Run(ctx, in, []*tensor.Tensor{y}); err != nil {
			b.Fatal(err)
		}
		macs := float64(y.Len()) * float64(cc.c/cc.group*tensor.NumElements(cc.kernel))
		report := func(b *testing.B) { b.ReportMetric(2*macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s") }
		for _, asm := range []bool{true, false} {
			name := "pot/" + bc.name
			if !asm {
				name = "purego/" + bc.name
			}
			b.Run(name, func(b *testing.B) {
				defer kernels.UseAssembly(kernels.UseAssembly(asm))
				for b.Loop() {
					if err := k.Run(ctx, in, []*tensor.Tensor{y}); err != nil {
						b.Fatal(err)
					}
				}
				report(b)
			})
		}
		if cc.group != 1 || len(cc.in) != 2 {
			continue
		}
		b.Run("gonum_im2col/"+bc.name, func(b *testing.B) {
			oh, ow := y.Shape[2], y.Shape[3]
			kk := cc.c * tensor.NumElements(cc.kernel)
			cols := make([]float32, kk*oh*ow)
			out := make([]float32, cc.m*oh*ow)
			gw := blas32.General{Rows: cc.m, Cols: kk, Stride: kk, Data: w.F32()}
			gc := blas32.General{Rows: kk, Cols: oh * ow, Stride: oh * ow, Data: cols}
			gy := blas32.General{Rows: cc.m, Cols: oh * ow, Stride: oh * ow, Data: out}
			for b.Loop() {
				for i := 0; i < cc.n; i++ {
					im2col(cols, x.F32()[i*cc.c*cc.in[0]*cc.in[1]:], cc, oh, ow)
					for oc := 0; oc < cc.m; oc++ {
						row := out[oc*oh*ow : (oc+1)*oh*ow]
						for j := range row {
							row[j] = bias.F32()[oc]
						}
					}
					blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, gw, gc, 1, gy)
				}
			}
			report(b)
		})
	}
}

// im2col writes the (c·kh·kw)×(oh·ow) patch matrix of one image.
func im2col(dst, x []float32, cc convCase, oh, ow int) {
	h, w := cc.in[0], cc.in[1]
	kh, kw := cc.kernel[0], cc.kernel[1]
	s := onesIfNil(cc.strides, 2)
	pads := cc.pads
	if pads == nil {
		pads = make([]int, 4)
	}
	row := 0
	for c := 0; c < cc.c; c++ {
		for ky := 0; ky < kh; ky++ {
			for kx := 0; kx < kw; kx++ {
				d := dst[row*oh*ow : (row+1)*oh*ow]
				for oy := 0; oy < oh; oy++ {
					iy := oy*s[0] - pads[0] + ky
					for ox := 0; ox < ow; ox++ {
						ix := ox*s[1] - pads[1] + kx
						v := float32(0)
						if iy >= 0 && iy < h && ix >= 0 && ix < w {
							v = x[(c*h+iy)*w+ix]
						}
						d[oy*ow+ox] = v
					}
				}
				row++
			}
		}
	}
}

// TestConvFloat16 runs a half-precision convolution (computed in float32,
// rounded once) against the reference on the rounded inputs.
func TestConvFloat16(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	cc := convCase{n: 2, c: 4, m: 6, group: 1, in: []int{7, 9}, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, bias: true}
	half := func(x *tensor.Tensor) (*tensor.Tensor, []float32) {
		h := make([]tensor.Float16Bits, x.Len())
		f := make([]float32, x.Len())
		for i, v := range x.F32() {
			h[i] = tensor.ToFloat16(v)
			f[i] = h[i].Float32()
		}
		return tensor.From(x.Shape, h), f
	}
	for _, constW := range []bool{false, true} {
		x, xf := half(randTensor(r, append([]int{cc.n, cc.c}, cc.in...)...))
		w, wf := half(randTensor(r, append([]int{cc.m, cc.c}, cc.kernel...)...))
		b, bf := half(randTensor(r, cc.m))
		cc.constW = constW
		k := buildConv(t, cc, w)
		y := &tensor.Tensor{}
		if err := k.Run(NewContext(1), []*tensor.Tensor{x, w, b}, []*tensor.Tensor{y}); err != nil {
			t.Fatal(err)
		}
		if y.DType != tensor.Float16 {
			t.Fatalf("output type %v, want float16", y.DType)
		}
		want := refConv(cc, xf, wf, bf, y.Shape[2:])
		for i, v := range y.Data.([]tensor.Float16Bits) {
			if math.Abs(float64(v.Float32()-want[i])) > 2e-3*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("constW=%v: y[%d] = %v, want %v", constW, i, v.Float32(), want[i])
			}
		}
	}
}

// TestConvPlanAcrossBatchSizes runs one Conv node (as the sessions of a
// sample-parallel run share it) on batches of 8, 3 and 8 images, from
// two goroutines at once, and wants each image's output bits of the
// batch of 8 both times, and one plan and scratch buffer throughout: the
// plan does not depend on the batch size.
func TestConvPlanAcrossBatchSizes(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, cc := range []convCase{
		{n: 8, c: 16, m: 32, group: 1, in: []int{14, 14}, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true, bias: true},
		{n: 8, c: 12, m: 12, group: 12, in: []int{9, 9}, kernel: []int{3, 3}, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}, constW: true, bias: true},
		{n: 8, c: 64, m: 64, group: 1, in: []int{7, 7}, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true, bias: true},
	} {
		x := randTensor(r, append([]int{cc.n, cc.c}, cc.in...)...)
		w := randTensor(r, append([]int{cc.m, cc.c / cc.group}, cc.kernel...)...)
		b := randTensor(r, cc.m)
		k := buildConv(t, cc, w)
		ctx := NewContext(1)
		defer ctx.Close()
		want := &tensor.Tensor{}
		if err := k.Run(ctx, []*tensor.Tensor{x, w, b}, []*tensor.Tensor{want}); err != nil {
			t.Fatal(err)
		}
		plan := k.(*convKernel).plan.Load()
		per := want.Len() / cc.n
		errs := make(chan error, 2)
		for g := range 2 {
			go func() {
				y := &tensor.Tensor{}
				for _, rows := range [][2]int{{0, 8}, {g, g + 3}, {0, 8}, {5 - g, 8 - g}} {
					var part tensor.Tensor
					part.ViewRows(x, rows[0], rows[1])
					if err := k.Run(ctx, []*tensor.Tensor{&part, w, b}, []*tensor.Tensor{y}); err != nil {
						errs <- err
						return
					}
					if y.Shape[0] != rows[1]-rows[0] {
						errs <- fmt.Errorf("rows %v: output of shape %v", rows, y.Shape)
						return
					}
					got, ref := y.F32(), want.F32()[rows[0]*per:rows[1]*per]
					for i := range ref {
						if math.Float32bits(got[i]) != math.Float32bits(ref[i]) {
							errs <- fmt.Errorf("rows %v: y[%d] = %v, want %v (batch of 8)", rows, i, got[i], ref[i])
							return
						}
					}
				}
				errs <- nil
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if k.(*convKernel).plan.Load() != plan {
			t.Errorf("group %d: a batch of another size replaced the plan", cc.group)
		}
	}
}

// TestConvWinogradEpilogue checks that a residual Add and Relu fused
// into a Winograd convolution's store (RunActivated) give the bits of
// the convolution followed by the unfused Add and Relu, for a batch of
// several Winograd calls (images past the first call read their part
// of the addend), on one thread and two.
func TestConvWinogradEpilogue(t *testing.T) {
	cc := convCase{n: 37, c: 32, m: 32, group: 1, in: []int{9, 14}, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true, bias: true}
	r := rand.New(rand.NewPCG(3, 4))
	x := randTensor(r, cc.n, cc.c, 9, 14)
	w := randTensor(r, cc.m, cc.c, 3, 3)
	b := randTensor(r, cc.m)
	add := randTensor(r, cc.n, cc.m, 9, 14)
	for _, threads := range []int{1, 2} {
		k := buildConv(t, cc, w)
		ctx := NewContext(threads)
		defer ctx.Close()
		in := []*tensor.Tensor{x, w, b}
		plain, fused := &tensor.Tensor{}, &tensor.Tensor{}
		if err := k.Run(ctx, in, []*tensor.Tensor{plain}); err != nil {
			t.Fatal(err)
		}
		if p := k.(*convKernel).plan.Load(); kernels.WinogradAvailable() && p.wino == nil {
			t.Fatal("the convolution does not run as Winograd")
		}
		ok, err := k.(ActivationFuser).RunActivated(ctx, in, []*tensor.Tensor{fused}, Activation{Kind: ActAddReLU, Add: add})
		if err != nil || !ok {
			t.Fatalf("RunActivated: %v, %v", ok, err)
		}
		for i, v := range plain.F32() {
			want := v + add.F32()[i]
			if want < 0 {
				want = 0
			}
			if got := fused.F32()[i]; math.Float32bits(got) != math.Float32bits(want) {
				t.Fatalf("%d threads: element %d is %v, want %v", threads, i, got, want)
			}
		}
	}
}

// TestConvWinogradPacking checks that a convolution whose attributes make
// every plan Winograd (winogradAttrs) keeps no direct packing, that its
// plans are Winograd for images of several sizes, and that the others
// keep theirs; each against the float64 reference.
func TestConvWinogradPacking(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i, tc := range []struct {
		cc      convCase
		autoPad string
		wino    bool
	}{
		{convCase{n: 2, c: 32, m: 32, group: 1, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true}, "", true},
		{convCase{n: 2, c: 32, m: 32, group: 1, kernel: []int{3, 3}, constW: true}, "SAME_UPPER", true},
		{convCase{n: 2, c: 32, m: 32, group: 1, kernel: []int{3, 3}, strides: []int{1, 1}, dilations: []int{1, 1}, pads: []int{1, 1, 1, 1}, constW: true}, "", true},
		{convCase{n: 2, c: 32, m: 32, group: 1, kernel: []int{3, 3}, pads: []int{1, 1, 0, 0}, constW: true}, "", false},
		{convCase{n: 2, c: 32, m: 32, group: 1, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, strides: []int{2, 2}, constW: true}, "", false},
		{convCase{n: 2, c: winogradChannels / 2, m: 32, group: 1, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true}, "", false},
		{convCase{n: 2, c: winogradChannels, m: winogradChannels, group: 1, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true}, "", true},
		{convCase{n: 2, c: 32, m: 32, group: 2, kernel: []int{3, 3}, pads: []int{1, 1, 1, 1}, constW: true}, "", false},
	} {
		cc := tc.cc
		w := randTensor(r, cc.m, cc.c/cc.group, 3, 3)
		var k *convKernel
		if tc.autoPad != "" {
			node := &potv1.Node{Name: "conv", OpType: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"y"},
				Attributes: []*potv1.Attribute{{Name: "auto_pad", Type: potv1.Attribute_TYPE_STRING, S: []byte(tc.autoPad)}}}
			kk, err := newConv(NewNode(node, 13, []*tensor.Tensor{nil, w}))
			if err != nil {
				t.Fatal(err)
			}
			k = kk.(*convKernel)
			cc.pads = []int{1, 1, 1, 1} // what SAME_UPPER gives at stride 1
		} else {
			k = buildConv(t, cc, w).(*convKernel)
		}
		wino := tc.wino && kernels.WinogradAvailable()
		if (k.packed == nil) != wino {
			t.Errorf("case %d: direct packing kept %v, want %v", i, k.packed != nil, !wino)
		}
		ctx := NewContext(1)
		for _, in := range [][]int{{9, 14}, {5, 5}} {
			cc.in = in
			x := randTensor(r, append([]int{cc.n, cc.c}, in...)...)
			y := &tensor.Tensor{}
			if err := k.Run(ctx, []*tensor.Tensor{x, w}, []*tensor.Tensor{y}); err != nil {
				t.Fatalf("case %d, %v: %v", i, in, err)
			}
			if p := k.plan.Load(); (p.wino != nil) != wino {
				t.Errorf("case %d, %v: Winograd plan %v, want %v", i, in, p.wino != nil, wino)
			}
			want := refConv(cc, x.F32(), w.F32(), nil, y.Shape[2:])
			tol := convTolerance(k, cc, x, w, nil, y.Shape[2:])
			for j, v := range y.F32() {
				if math.Abs(float64(v-want[j])) > tol[j] {
					t.Fatalf("case %d, %v: y[%d] = %v, want %v", i, in, j, v, want[j])
				}
			}
		}
		ctx.Close()
	}
}
