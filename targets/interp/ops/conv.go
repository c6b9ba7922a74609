package ops

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

func init() {
	register(DomainONNX, "Conv", 1, newConv)
	register(DomainONNX, "Conv", 11, newConv)
}

// convKernel runs Conv as implicit-GEMM products of the packed weights
// with the input read in place (see kernels.ConvLayout), or as direct
// depthwise sums when each group has one input channel. With AVX-512 (or
// AVX2 and FMA), stride-1 2-D convolutions whose output rows are as wide
// as their input rows read the image itself under masks
// (kernels.DirectConv: no Fill, no Compact), and stride-2 ones that
// halve an image of even size read its four phases the same way (a
// deinterleaving copy, no Compact); small images are stacked several to
// a product when that pays (stackPays), a residual Add (and Relu) fused
// into the kernels' store; with AVX-512, other 2-D products store their
// rows compacted. With AVX2 (AVX-512 or not), "same" 3×3 convolutions of
// one group and at least winogradChannels channels run as Winograd's
// F(4×4, 3×3)
// (kernels.Winograd, kernels.WinogradTile), whose sums differ from the
// direct ones in the last bits.
type convKernel struct {
	attrs spatialAttrs
	group int
	// packed holds the weights of each group, packed at compile time
	// when the weights are constant.
	packed []*kernels.PackedA
	// weights holds constant float32 weights (nil otherwise), for
	// plans that transform them (kernels.Winograd).
	weights []float32
	plan    atomic.Pointer[convPlan]
	pool    sync.Pool // *convScratch
}

// convPlan is the layout for one input shape but the batch size: the
// sessions of a sample-parallel run share the kernel and run chunks of
// different sizes, which must not replace each other's plans (and their
// scratch buffers). x[0] and out[0] are the batch size of the run that
// made the plan; outShape gives the output shape of another one.
type convPlan struct {
	x, w   []int // input and weight shapes it was made for
	out    []int
	inSize int // input elements per channel of an image
	layout *kernels.ConvLayout
	offs   []int // B row offsets of one group's channels
	// direct, when not nil, runs the grouped products on the input
	// itself, or at stride 2 on its phases (no Compact): see
	// kernels.DirectConv.
	direct *kernels.DirectConv
	// dw3, when not nil, runs a 3×3 depthwise convolution (groups of
	// one input channel) of stride 1 or 2 on the input itself: see
	// kernels.Depthwise3x3.
	dw3 *kernels.Depthwise3x3
	// wino, when not nil, runs a "same" 3×3 convolution of one group as
	// Winograd's F(4×4, 3×3), several images at a time: see
	// kernels.Winograd.
	wino *kernels.Winograd
}

// stack is how many images a product holds.
func (p *convPlan) stack() int {
	switch {
	case p.direct != nil:
		return p.direct.Images
	case p.wino != nil:
		return winogradImages
	}
	return 1
}

// winogradImages is how many images a Winograd call takes: its chunks
// of tile rows straddle them.
const winogradImages = 16

// outShape is the output shape for a batch of n images, in buf.
func (p *convPlan) outShape(buf []int, n int) []int {
	buf = append(buf[:0], p.out...)
	buf[0] = n
	return buf
}

// convScratch is the per-goroutine working memory of one Conv node.
type convScratch struct {
	layout *kernels.ConvLayout // the layout buf's zero padding is for
	buf    []float32
	grid   []float32
	// stack holds the input as a DirectConv that reads a filled buffer
	// reads it (stacked images, or an image's stride-2 phases); out the
	// products of stacked images.
	stack, out []float32
	// wino is a Winograd plan's scratch.
	wino []float32
}

func newConv(n *Node) (Kernel, error) {
	attrs, err := readSpatialAttrs(n)
	if err != nil {
		return nil, err
	}
	k := &convKernel{attrs: attrs, group: int(n.Int("group", 1))}
	if k.group < 1 {
		return nil, fmt.Errorf("group %d must be positive", k.group)
	}
	for i := 0; i < 2 && i < len(n.InputTypes); i++ {
		if dt := n.InputTypes[i]; dt != tensor.Undefined && dt != tensor.Float && !isHalf(dt) {
			return nil, Unsupported(n, "element type %v is", dt)
		}
	}
	if w := n.Const(1); w != nil && (w.DType == tensor.Float || isHalf(w.DType)) {
		if wf, err := asF32(w); err == nil {
			// 16-bit float weights too: a float16 model's convolutions
			// compute in float32 and round their outputs.
			k.weights = wf
			if winogradAttrs(attrs, k.group, w.Shape) {
				// Every plan runs it as Winograd (useWinograd holds for
				// any input shape): the direct packing would go unused.
				return k, nil
			}
		}
		packed, err := packConvWeights(w, k.group)
		if err != nil {
			return nil, err
		}
		k.packed = packed
	}
	return k, nil
}

// winogradAttrs tells from a convolution's attributes and weight shape
// whether useWinograd holds for every input it can take: 3×3 weights of
// one group, stride and dilation 1, padding 1 on every side (explicit,
// or SAME_UPPER or SAME_LOWER, which pad 1 and 1 at stride 1).
func winogradAttrs(a spatialAttrs, group int, ws []int) bool {
	ones := func(v []int) bool { return v == nil || slices.Equal(v, []int{1, 1}) }
	pads := a.autoPad == "SAME_UPPER" || a.autoPad == "SAME_LOWER" || a.autoPad == "NOTSET" && slices.Equal(a.pads, []int{1, 1, 1, 1})
	return len(ws) == 4 && ws[2] == 3 && ws[3] == 3 && (a.kernel == nil || slices.Equal(a.kernel, []int{3, 3})) &&
		ones(a.strides) && ones(a.dilations) && pads &&
		useWinograd(kernels.ConvShape{Kernel: []int{3, 3}, Strides: []int{1, 1}, Dilations: []int{1, 1}, PadBegin: []int{1, 1}, In: []int{1, 1}, Out: []int{1, 1}}, group, ws[1]*group, ws[0])
}

// packConvWeights packs the [M, C/group, k...] weights of each group as
// an (M/group)×(C/group·taps) matrix; nil for depthwise convolutions,
// which use the weights as they are.
func packConvWeights(w *tensor.Tensor, group int) ([]*kernels.PackedA, error) {
	if w.Rank() < 3 {
		return nil, fmt.Errorf("weights of rank %d: want at least 3", w.Rank())
	}
	m, cg := w.Shape[0], w.Shape[1]
	if m%group != 0 {
		return nil, fmt.Errorf("%d output channels do not split into %d groups", m, group)
	}
	if cg == 1 {
		return nil, nil
	}
	mg, kk := m/group, w.Len()/m
	data, err := asF32(w)
	if err != nil {
		return nil, err
	}
	packed := make([]*kernels.PackedA, group)
	for g := range packed {
		pa, err := kernels.PackA(mg, kk, data[g*mg*kk:], kk, false, 1)
		if err != nil {
			return nil, err
		}
		packed[g] = pa
	}
	return packed, nil
}

func (k *convKernel) Run(ctx *Context, in, out []*tensor.Tensor) error {
	return k.runAct(ctx, in, out, Activation{})
}

// runAct is Run with an activation applied to float32 outputs (act.Kind
// zero: none).
func (k *convKernel) runAct(ctx *Context, in, out []*tensor.Tensor, act Activation) error {
	if err := needInputs(in, 2); err != nil {
		return err
	}
	x, w := in[0], in[1]
	if x.DType != w.DType || x.DType != tensor.Float && !isHalf(x.DType) {
		return fmt.Errorf("input %v and weights %v: want float32 or 16-bit floats of one type", x.DType, w.DType)
	}
	if x.Rank() < 3 || w.Rank() != x.Rank() {
		return fmt.Errorf("input of shape %v and weights of shape %v: want equal ranks of at least 3", x.Shape, w.Shape)
	}
	p, err := k.planFor(x.Shape, w.Shape)
	if err != nil {
		return err
	}
	var bias []float32
	if len(in) > 2 && in[2] != nil {
		b := in[2]
		if b.DType != x.DType || b.Len() != w.Shape[0] {
			return fmt.Errorf("bias of type %v and shape %v: want %d %v values", b.DType, b.Shape, w.Shape[0], x.DType)
		}
		if bias, err = asF32(b); err != nil {
			return err
		}
	}
	packed := k.packed
	if packed == nil && w.Shape[1] != 1 && p.wino == nil {
		// Weights computed at run time: pack them now.
		if packed, err = packConvWeights(w, k.group); err != nil {
			return err
		}
	}
	if isHalf(x.DType) {
		// 16-bit floats: compute in float32, round the result.
		var s halfScratch
		defer s.free()
		xd, _ := s.values(x)
		wd, _ := s.values(w)
		shape := p.outShape(nil, x.Shape[0])
		yd := s.zeros(tensor.NumElements(shape))
		if err := k.run(ctx, p, x.Shape[0], packed, xd, wd, bias, yd, Activation{}); err != nil {
			return err
		}
		storeHalf(out[0], x.DType, shape, yd)
		return nil
	}
	y := out[0]
	var buf [8]int
	y.Reset(tensor.Float, p.outShape(buf[:0], x.Shape[0]))
	return k.run(ctx, p, x.Shape[0], packed, x.F32(), w.F32(), bias, y.F32(), act)
}

// RunActivated runs a float32 convolution and applies act to each
// image's output as soon as it is computed; 16-bit floats are not fused.
func (k *convKernel) RunActivated(ctx *Context, in, out []*tensor.Tensor, act Activation) (bool, error) {
	if len(in) < 2 || in[0] == nil || in[1] == nil || in[0].DType != tensor.Float || in[1].DType != tensor.Float {
		return false, nil
	}
	if a := act.Add; a != nil {
		// The addend must be float32 of the output's shape (no
		// broadcasting), and not the output itself.
		if a.DType != tensor.Float || in[0].Rank() < 3 || in[1].Rank() != in[0].Rank() || a == out[0] {
			return false, nil
		}
		p, err := k.planFor(in[0].Shape, in[1].Shape)
		var buf [8]int
		if err != nil || !slices.Equal(a.Shape, p.outShape(buf[:0], in[0].Shape[0])) {
			return false, nil
		}
	}
	return true, k.runAct(ctx, in, out, act)
}

// run computes the convolution of the batch x of batch images into y,
// then act of each image.
func (k *convKernel) run(ctx *Context, p *convPlan, batch int, packed []*kernels.PackedA, xd, wd, bias, yd []float32, act Activation) error {
	if batch == 0 || len(yd) == 0 {
		return nil
	}
	if ctx.Threads <= 1 || batch < ctx.Threads {
		// One image at a time, its columns split over the threads.
		sc := k.scratch()
		defer k.pool.Put(sc)
		for i := 0; i < batch; i += p.stack() {
			if err := k.images(ctx, p, sc, packed, xd, wd, bias, yd, i, min(p.stack(), batch-i), act); err != nil {
				return err
			}
		}
		return nil
	}
	var firstErr atomic.Pointer[error]
	ctx.Parallel(batch, 1, func(lo, hi int) {
		sc := k.scratch()
		defer k.pool.Put(sc)
		for i := lo; i < hi; i += p.stack() {
			if err := k.images(serialContext, p, sc, packed, xd, wd, bias, yd, i, min(p.stack(), hi-i), act); err != nil {
				e := err // a copy: &err would put err on the heap on every call
				firstErr.CompareAndSwap(nil, &e)
				return
			}
		}
	})
	if e := firstErr.Load(); e != nil {
		return *e
	}
	return nil
}

// filled returns sc.stack sized for d's Fill of channels channels.
func (sc *convScratch) filled(d *kernels.DirectConv, channels int) []float32 {
	if len(sc.stack) != d.BufferSize(channels) {
		sc.stack = make([]float32, d.BufferSize(channels))
	}
	return sc.stack
}

// winograd returns sc.wino sized for g's Run.
func (sc *convScratch) winograd(g *kernels.Winograd) []float32 {
	if len(sc.wino) < g.ScratchSize() {
		sc.wino = make([]float32, g.ScratchSize())
	}
	return sc.wino
}

func (k *convKernel) scratch() *convScratch {
	if sc, ok := k.pool.Get().(*convScratch); ok {
		return sc
	}
	return &convScratch{}
}

// planFor returns the layout for an input shape, reusing the last one.
func (k *convKernel) planFor(xs, ws []int) (*convPlan, error) {
	if p := k.plan.Load(); p != nil && len(p.x) == len(xs) && slices.Equal(p.x[1:], xs[1:]) && slices.Equal(p.w, ws) {
		return p, nil
	}
	c, m, cg := xs[1], ws[0], ws[1]
	if cg*k.group != c {
		return nil, fmt.Errorf("input has %d channels, weights expect %d×%d groups", c, cg, k.group)
	}
	if m%k.group != 0 {
		return nil, fmt.Errorf("%d output channels do not split into %d groups", m, k.group)
	}
	kernel := ws[2:]
	if k.attrs.kernel != nil && !slices.Equal(k.attrs.kernel, kernel) {
		return nil, fmt.Errorf("kernel_shape %v does not match weights of shape %v", k.attrs.kernel, ws)
	}
	// A copy: the layout keeps the window's input extent, and xs is the
	// input tensor's shape, which later runs overwrite in place.
	win, err := k.attrs.resolve(append([]int(nil), xs[2:]...), kernel)
	if err != nil {
		return nil, err
	}
	layout, err := kernels.NewConvLayout(kernels.ConvShape{In: win.in, Kernel: kernel, Strides: win.strides, Dilations: win.dilations, PadBegin: win.padBegin, Out: win.out})
	if err != nil {
		return nil, err
	}
	p := &convPlan{
		x: append([]int(nil), xs...), w: append([]int(nil), ws...),
		out:    append([]int{xs[0], m}, win.out...),
		inSize: tensor.NumElements(xs[2:]),
		layout: layout,
		offs:   layout.Offsets(nil, cg),
	}
	if cg == 1 && !layout.InPlace {
		// Depthwise sums run on the image itself: 3×3 ones of stride 1
		// or 2 with kernels.Depthwise3x3, others with DirectConv when it
		// has vector kernels for them.
		p.dw3 = kernels.NewDepthwise3x3(layout.Shape)
		if d := kernels.NewDirectConv(layout.Shape, 1, 1); p.dw3 == nil && d != nil && d.DepthwiseVector() {
			p.direct = d
		}
	}
	if useWinograd(layout.Shape, k.group, c, m) && k.weights != nil {
		g, err := kernels.NewWinograd(k.weights, m, c, win.in[0], win.in[1])
		if err != nil {
			return nil, err
		}
		p.wino = g
	}
	if cg != 1 && !layout.InPlace && p.wino == nil {
		// Convolutions that would need Fill run on the image itself
		// (or its phases), small images stacked several to a product
		// when that saves more than copying them in and out costs. At
		// stride 2 the input is copied (split into phases) anyway.
		copied, per := c+m, p.inSize
		if slices.Max(layout.Shape.Strides) > 1 {
			copied, per = m, layout.OutSize()
		}
		if n := stackImages(layout.OutSize(), kernels.DirectWidth()); n > 1 && stackPays(layout.OutSize(), n, kernels.DirectWidth(), m/k.group, cg*layout.Taps(), copied, per) {
			p.direct = kernels.NewDirectConv(layout.Shape, cg, n)
		}
		if p.direct == nil {
			p.direct = kernels.NewDirectConv(layout.Shape, cg, 1)
		}
	}
	k.plan.Store(p)
	return p, nil
}

// useWinograd tells whether a convolution runs as kernels.Winograd: a
// "same" 3×3 one (stride 1, dilation 1, padding 1) of one group, on a
// CPU with its kernels, of at least winogradChannels input and output
// channels (with fewer its transforms cost about what it saves).
func useWinograd(s kernels.ConvShape, group, c, m int) bool {
	if !kernels.WinogradAvailable() || group != 1 || c < winogradChannels || m < winogradChannels || len(s.Kernel) != 2 {
		return false
	}
	for i := range 2 {
		if s.Kernel[i] != 3 || s.Strides[i] != 1 || s.Dilations[i] != 1 || s.PadBegin[i] != 1 || s.Out[i] != s.In[i] {
			return false
		}
	}
	return true
}

// winogradChannels is the fewest input and output channels a Winograd
// convolution takes. On resnet_fmnist's 16-channel 28×28 layers (batch
// 64, one thread, AVX2 on Zen 3) the direct convolution took 2.88 ms,
// Winograd's F(2×2, 3×3) 2.60, and F(4×4, 3×3), in another sitting,
// 2.11 against F(2×2)'s 2.62; with fewer channels the products are too
// short to pay for the transforms.
const winogradChannels = 16

// FloatSums names how float convolutions sum on this CPU and build:
// "winograd-f4x3" where "same" 3×3 ones of winogradChannels or more run
// as Winograd's F(4×4, 3×3) (AVX2 and FMA; builds before 2026-12-08 ran
// it only without AVX-512, and earlier ones F(2×2, 3×3),
// "winograd-f2x3"), "direct" where every convolution sums
// its products directly. The other float kernels give the same bits on
// every CPU, so two machines compute the same float results exactly
// when they give the same name: targets publish it (the float_sums
// property) and a host refuses remote targets whose name differs from
// its own.
func FloatSums() string {
	if kernels.WinogradAvailable() {
		return "winograd-f4x3"
	}
	return "direct"
}

// stackImages is how many images of per output columns a stacked
// kernels.DirectConv should hold, its products computed in blocks of
// width columns: 1 when one image wastes less than a tenth of its
// blocks, else the fewest (at most 16) whose columns fill their blocks
// but for 3%, or the least wasteful.
func stackImages(per, width int) int {
	waste := func(n int) float64 { return float64((n*per+width-1)/width*width-n*per) / float64(n*per) }
	if per <= 0 || width <= 0 || waste(1) < 0.1 {
		return 1
	}
	best := 1
	for n := 2; n <= 16; n++ {
		if waste(n) < waste(best) {
			best = n
		}
		if waste(n) <= 0.03 {
			return n
		}
	}
	return best
}

// stackPays tells whether stacking n images of per output columns
// (blocks of width columns) saves more multiply-adds (rows of A times depth each column) than
// copying them costs: chans input and output channels of about inSize
// values per image, a copied value costing about 25 multiply-adds (as
// measured on the example CNNs: 7×7 3×3 convolutions stack, 14×14 ones
// and pointwise ones do not).
func stackPays(per, n, width, rows, depth, chans, inSize int) bool {
	pad := func(cols int) int { return (cols+width-1)/width*width - cols }
	saved := float64(pad(per)) - float64(pad(n*per))/float64(n)
	return saved*float64(rows*depth) > 25*float64(chans*inSize)
}

// images computes the convolution of the n images from i0, n at most
// the plan's stack: stacked into one product (see kernels.DirectConv),
// or one image at a time.
func (k *convKernel) images(ctx *Context, p *convPlan, sc *convScratch, packed []*kernels.PackedA, x, w, bias, y []float32, i0, n int, act Activation) error {
	if p.wino != nil {
		return k.winograd(ctx, p, sc, x, bias, y, i0, n, act)
	}
	if p.direct == nil || p.direct.Images == 1 {
		for i := i0; i < i0+n; i++ {
			if err := k.image(ctx, p, sc, packed, x, w, bias, y, i, act); err != nil {
				return err
			}
		}
		return nil
	}
	d := p.direct
	c, m := p.x[1], p.w[0]
	inSize, outSize := p.inSize, p.layout.OutSize()
	stack := sc.filled(d, c)
	for i := 0; i < n; i++ {
		d.Fill(stack, x[(i0+i)*c*inSize:(i0+i+1)*c*inSize], c, i)
	}
	ld := d.Images * outSize
	if len(sc.out) != m*ld {
		sc.out = make([]float32, m*ld)
	}
	// Direct products are grouped: a Relu is the kernels' clamp.
	relu := act.Kind == ActReLU
	if relu {
		act = Activation{}
	}
	if err := k.split(ctx, p, packed, stack, w, bias, sc.out, nil, ld, n*outSize, relu, false); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		img := y[(i0+i)*m*outSize : (i0+i+1)*m*outSize]
		for o := 0; o < m; o++ {
			copy(img[o*outSize:(o+1)*outSize], sc.out[o*ld+i*outSize:])
		}
		var add []float32
		if act.Add != nil {
			add = act.Add.F32()[(i0+i)*m*outSize : (i0+i+1)*m*outSize]
		}
		act.apply(img, add)
	}
	return nil
}

// winograd computes the convolution of the n images from i0 with the
// plan's Winograd, its chunks of tile rows split over ctx's threads; a
// Relu, or a residual Add (then Relu), joins the store.
func (k *convKernel) winograd(ctx *Context, p *convPlan, sc *convScratch, x, bias, y []float32, i0, n int, act Activation) error {
	g := p.wino
	c, m := p.x[1], p.w[0]
	in, out := c*p.inSize, m*p.layout.OutSize()
	xs, ys := x[i0*in:(i0+n)*in], y[i0*out:(i0+n)*out]
	ep := kernels.Epilogue{Bias: bias}
	switch act.Kind {
	case ActReLU:
		ep.ReLU, act = true, Activation{}
	case ActAdd, ActAddReLU:
		ep.Add, ep.ReLU = act.Add.F32()[i0*out:(i0+n)*out], act.Kind == ActAddReLU
		act = Activation{}
	}
	chunks := g.Chunks(n)
	if ctx.Threads <= 1 || chunks == 1 {
		if err := g.Run(xs, n, 0, chunks, ys, ep, sc.winograd(g)); err != nil {
			return err
		}
	} else {
		var firstErr atomic.Pointer[error]
		ctx.Parallel(chunks, 1, func(lo, hi int) {
			sc := k.scratch()
			defer k.pool.Put(sc)
			if err := g.Run(xs, n, lo, hi, ys, ep, sc.winograd(g)); err != nil {
				e := err // a copy: &err would put err on the heap on every call
				firstErr.CompareAndSwap(nil, &e)
			}
		})
		if e := firstErr.Load(); e != nil {
			return *e
		}
	}
	if act.Kind != 0 {
		act.apply(ys, nil)
	}
	return nil
}

// split computes product columns [0, span) of one image (or stack of
// images) into dst, splitting them over ctx's threads.
func (k *convKernel) split(ctx *Context, p *convPlan, packed []*kernels.PackedA, b, w, bias, dst, add []float32, ld, span int, relu, compact bool) error {
	if ctx.Threads <= 1 {
		return k.columns(p, packed, b, w, bias, dst, add, ld, 0, span, relu, compact)
	}
	const block = 64 // columns per task, a multiple of the micro-kernels' 16 and 32
	var firstErr atomic.Pointer[error]
	ctx.Parallel((span+block-1)/block, 1, func(lo, hi int) {
		if err := k.columns(p, packed, b, w, bias, dst, add, ld, lo*block, min(hi*block, span), relu, compact); err != nil {
			e := err // a copy: &err would put err on the heap on every call
			firstErr.CompareAndSwap(nil, &e)
		}
	})
	if e := firstErr.Load(); e != nil {
		return *e
	}
	return nil
}

// image computes the convolution of image i, splitting its columns
// over ctx's threads.
func (k *convKernel) image(ctx *Context, p *convPlan, sc *convScratch, packed []*kernels.PackedA, x, w, bias, y []float32, i int, act Activation) error {
	l := p.layout
	c, m := p.x[1], p.w[0]
	inSize, outSize := p.inSize, l.OutSize()
	if p.dw3 != nil {
		if err := k.depthwise3x3(ctx, p.dw3, x[i*c*inSize:(i+1)*c*inSize], w, bias, y[i*m*outSize:(i+1)*m*outSize], inSize, outSize, m); err != nil {
			return err
		}
	} else {
		var err error
		if act, err = k.product(ctx, p, sc, packed, x, w, bias, y, i, act); err != nil {
			return err
		}
	}
	var rest []float32
	if act.Add != nil {
		rest = act.Add.F32()[i*m*outSize : (i+1)*m*outSize]
	}
	act.apply(y[i*m*outSize:(i+1)*m*outSize], rest)
	return nil
}

// product computes the convolution of image i (every path but
// Depthwise3x3's) and returns the part of act still to apply: a Relu or
// residual Add the micro-kernels fused into their stores is done.
func (k *convKernel) product(ctx *Context, p *convPlan, sc *convScratch, packed []*kernels.PackedA, x, w, bias, y []float32, i int, act Activation) (Activation, error) {
	l := p.layout
	c, m := p.x[1], p.w[0]
	inSize, outSize := p.inSize, l.OutSize()
	var b []float32
	switch {
	case p.direct != nil && p.direct.NeedsFill():
		b = sc.filled(p.direct, c)
		p.direct.Fill(b, x[i*c*inSize:(i+1)*c*inSize], c, 0)
	case l.InPlace || p.direct != nil:
		b = x[i*c*inSize:]
	default:
		if sc.layout != l {
			sc.buf = make([]float32, l.BufferSize(c))
			sc.layout = l
		}
		l.Fill(sc.buf, x[i*c*inSize:(i+1)*c*inSize], c)
		b = sc.buf
	}
	dst, ld := y[i*m*outSize:(i+1)*m*outSize], outSize
	// Grouped products of 2-D convolutions store their rows compacted
	// (kernels.ColumnRows) where the micro-kernels do it; depthwise sums,
	// other ranks and CPUs without AVX-512 go through grid space and
	// Compact.
	compact := !l.Dense && len(l.Shape.Out) == 2 && c/k.group != 1 && p.direct == nil && kernels.CompactsRows()
	span := l.Span
	if p.direct != nil {
		span = p.direct.N // dense product columns
	} else if !l.Dense && !compact {
		if cap(sc.grid) < m*l.Span {
			sc.grid = make([]float32, m*l.Span)
		}
		dst, ld = sc.grid[:m*l.Span], l.Span
	}
	// A Relu after a grouped product is the micro-kernels' clamp (the
	// same values: max(x, 0) of the biased sum), and so is a residual
	// Add (then Relu) after a direct one: the addend is added to the
	// biased sum before the clamp, as the unfused Add and Relu do.
	relu := act.Kind == ActReLU && p.x[1]/k.group != 1
	var add []float32
	if p.direct != nil && p.x[1]/k.group != 1 && (act.Kind == ActAdd || act.Kind == ActAddReLU) {
		add = act.Add.F32()[i*m*outSize : (i+1)*m*outSize]
		relu = act.Kind == ActAddReLU
		act = Activation{}
	}
	if relu {
		act = Activation{}
	}
	if err := k.split(ctx, p, packed, b, w, bias, dst, add, ld, span, relu, compact); err != nil {
		return act, err
	}
	if !l.Dense && !compact && p.direct == nil {
		l.Compact(y[i*m*outSize:(i+1)*m*outSize], dst, m, ld)
	}
	return act, nil
}

// depthwise3x3 computes the m output channels of one image with d,
// splitting them over ctx's threads: each group's mg = m/group outputs
// read its one input channel.
func (k *convKernel) depthwise3x3(ctx *Context, d *kernels.Depthwise3x3, x, w, bias, y []float32, inSize, outSize, m int) error {
	if ctx.Threads <= 1 {
		// No closure for one thread: it, and what it captures, would
		// be allocated on every call.
		return k.depthwiseChannels(d, x, w, bias, y, inSize, outSize, m, 0, m)
	}
	var firstErr atomic.Pointer[error]
	ctx.Parallel(m, 8, func(lo, hi int) {
		if err := k.depthwiseChannels(d, x, w, bias, y, inSize, outSize, m, lo, hi); err != nil {
			e := err // a copy: &err would put err on the heap on every call
			firstErr.CompareAndSwap(nil, &e)
		}
	})
	if e := firstErr.Load(); e != nil {
		return *e
	}
	return nil
}

// depthwiseChannels computes output channels [lo, hi) of depthwise3x3.
func (k *convKernel) depthwiseChannels(d *kernels.Depthwise3x3, x, w, bias, y []float32, inSize, outSize, m, lo, hi int) error {
	mg := m / k.group
	for lo < hi {
		// Channels [lo, end) share an input (mg > 1) or have one each,
		// inSize apart.
		end, in, inStride := hi, x[lo/mg*inSize:], inSize
		if mg > 1 {
			end, inStride = min(hi, (lo/mg+1)*mg), 0
		}
		var bl []float32
		if bias != nil {
			bl = bias[lo:end]
		}
		if err := d.Run(w[9*lo:9*end], in, inStride, y[lo*outSize:], outSize, bl, end-lo); err != nil {
			return err
		}
		lo = end
	}
	return nil
}

// columns computes grid-space columns [q0, q1) of every output channel
// of one image whose input buffer is b, into dst (rows ld apart),
// clamped at zero when relu (grouped products only: depthwise outputs
// are left as they are). When compact (grouped products of a 2-D
// layout only), dst is the output itself: each row's grid columns are
// stored compacted (kernels.ColumnRows). add, when not nil, is a
// residual addend laid out as dst, added before the clamp (direct
// grouped products only).
func (k *convKernel) columns(p *convPlan, packed []*kernels.PackedA, b, w, bias, dst, add []float32, ld, q0, q1 int, relu, compact bool) error {
	l := p.layout
	m, cg := p.w[0], p.x[1]/k.group
	mg := m / k.group
	taps := l.Taps()
	n := q1 - q0
	if cg == 1 && mg == 1 && p.direct != nil {
		// A depthwise convolution: every channel in one call.
		if err := p.direct.Depthwise(w, b, p.inSize, q0, q1, dst[q0:], ld, bias, m); err != nil {
			return err
		}
		return nil
	}
	for g := 0; g < k.group; g++ {
		if cg == 1 && p.direct != nil {
			// One call for the group's outputs, which read one input.
			var gb []float32
			if bias != nil {
				gb = bias[g*mg : (g+1)*mg]
			}
			if err := p.direct.Depthwise(w[g*mg*taps:], b[g*p.inSize:], 0, q0, q1, dst[g*mg*ld+q0:], ld, gb, mg); err != nil {
				return err
			}
			continue
		}
		if cg == 1 {
			bg := b[g*l.ChanStride+q0:]
			for j := 0; j < mg; j++ {
				oc := g*mg + j
				var bv float32
				if bias != nil {
					bv = bias[oc]
				}
				kernels.Depthwise(w[oc*taps:(oc+1)*taps], bg, p.offs, n, dst[oc*ld+q0:], bv)
			}
			continue
		}
		var gb []float32
		if bias != nil {
			gb = bias[g*mg : (g+1)*mg]
		}
		ep, at := kernels.Epilogue{Bias: gb, ReLU: relu}, q0
		if p.direct != nil {
			if add != nil {
				ep.Add = add[g*mg*ld+q0:]
			}
			if err := p.direct.Mul(packed[g], b[g*p.direct.BufferSize(cg):], q0, q1, dst[g*mg*ld+q0:], ld, ep); err != nil {
				return err
			}
			continue
		}
		if compact {
			ep.Rows = kernels.ColumnRows{Stride: l.GridStride[0], Width: l.Shape.Out[1], Col0: q0}
			at = ep.Rows.Pos(q0)
		}
		if err := packed[g].MulOffsets(b[g*cg*l.ChanStride+q0:], p.offs, n, dst[g*mg*ld+at:], ld, ep); err != nil {
			return err
		}
	}
	return nil
}
