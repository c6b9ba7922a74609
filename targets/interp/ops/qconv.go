package ops

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

// QConv and QMatMul (domain ai.pot) are convolution and matrix product
// in integer arithmetic, as int8 CPU kernels compute them: uint8
// activation levels (see qlevels.go) times int8 weights, summed into
// int32 in the arithmetic of attribute isa ("vnni": exact; "avx2":
// adjacent products summed into int16 with saturation, VPMADDUBSW, unless
// the activations are centred: see accumulationModel), plus
// an int32 bias, then either requantized to the levels of the next
// quantizer with a fixed-point multiplier (round half to even) or
// dequantized to float32.
//
// Inputs (all but X constant):
//
//	0 X            uint8 levels: [N, C, H, W] or channels-last (QConv; also
//	               rank 3), [..., K] (QMatMul)
//	1 W            int8: [M, C/group, KH, KW] (QConv), [M, K] (QMatMul)
//	2 B            int32 [M]: bias in accumulator units
//	3 x_zero_point int32 [1], or [C] for a depthwise QConv
//	4 acc_scale    float32 [M]: the real value of one accumulator unit
//	5 y_scale      float32 [1] or [M]  } present: Y is uint8 levels,
//	6 y_zero_point int32 [1] or [M]    } absent: Y is float32
//	7 y_bounds     int32 [2] or [M, 2]: clamp of the levels (a fused
//	               Relu or Clip), within [0, levels-1]
//
// Attributes: the Conv attributes (QConv), isa, x_channels_last,
// y_channels_last (level outputs only; QConv), act (level outputs only):
// "hard_swish" with act_alpha and act_beta (HardSigmoid's, default 0.2
// and 0.5), or "leaky_relu" with act_alpha (LeakyRelu's, default 0.01).
//
// Y = float32(acc + B)·acc_scale, or clamp(RoundHalfEven((acc + B)·m) +
// y_zero_point, y_bounds) with m = acc_scale/y_scale as a 31-bit
// multiplier and a shift; with act, the levels of the hard-swish of the
// float32 value (kernels.QHardSwish), or of its LeakyRelu
// (kernels.QLeakyReLU). acc is Σ (x - x_zero_point)·w,
// the zero point of the activations being folded into the bias (padding
// holds the zero point, so the correction is exact at borders too).
// Depthwise convolutions (group = C, one input channel per group)
// accumulate exactly in both models.

func init() {
	register(DomainPot, "QConv", 1, newQConv)
	register(DomainPot, "QMatMul", 1, newQMatMul)
}

// ISA names of the two accumulation models.
const (
	ISAVNNI = "vnni"
	ISAAVX2 = "avx2"
)

// accumulationModel is the kernels' model of a QConv or QMatMul: the
// model of its isa attribute, except that pot's avx2 arithmetic is exact
// for centred activations. With an activation zero point in [126, 129]
// (symmetric signed activations have 128) and weights in [-127, 127],
// |x - zp|·(|w1| + |w2|) ≤ 129·254 < 2^15: the pair sums of VPMADDUBSW
// cannot saturate once the sign of x - zp is moved onto the weight
// (VPSIGNB), so the layer sums exactly; only uncentred activations (zero
// points far from 128, such as the 0 of unsigned ones) risk the int16
// saturation that POT's saturation fix is about.
func accumulationModel(n *Node, w []int8) (kernels.QModel, error) {
	model, err := QModelOf(n.String("isa", ISAVNNI))
	if err != nil || model != kernels.QSaturating {
		return model, err
	}
	c := n.Const(3)
	if c == nil {
		return model, nil // qConsts reports the missing zero point
	}
	zp, _ := c.Data.([]int32)
	if len(zp) == 0 {
		return model, nil
	}
	for _, z := range zp {
		if z < 126 || z > 129 {
			return model, nil
		}
	}
	for _, v := range w {
		if v == -128 {
			return model, nil
		}
	}
	return kernels.QExact, nil
}

// QModelOf maps an isa attribute value to the kernels' model.
func QModelOf(isa string) (kernels.QModel, error) {
	switch isa {
	case ISAVNNI:
		return kernels.QExact, nil
	case ISAAVX2:
		return kernels.QSaturating, nil
	}
	return 0, fmt.Errorf("isa %q is not %q or %q", isa, ISAVNNI, ISAAVX2)
}

// qOutput is the prepared output stage of a QConv or QMatMul.
type qOutput struct {
	req    *kernels.QRequant
	hswish *kernels.QHardSwish
	leaky  *kernels.QLeakyReLU
	deq    *kernels.QDequant
}

// qConsts reads the constant inputs 2..7 of a QConv or QMatMul for M
// channels. colSum, when not nil, folds the per-tensor activation zero
// point into the bias.
func qConsts(n *Node, M int, colSum []int32) (*qOutput, []int32, error) {
	for i := 2; i <= 4; i++ {
		if n.Const(i) == nil {
			return nil, nil, Unsupported(n, "a non-constant input %d is", i)
		}
	}
	b, ok := n.Const(2).Data.([]int32)
	if !ok || len(b) != M {
		return nil, nil, fmt.Errorf("B must be int32 of %d values, have %v", M, n.Const(2))
	}
	xzp, ok := n.Const(3).Data.([]int32)
	if !ok || len(xzp) == 0 {
		return nil, nil, fmt.Errorf("x_zero_point must be int32, have %v", n.Const(3))
	}
	accScale, ok := n.Const(4).Data.([]float32)
	if !ok || len(accScale) != M {
		return nil, nil, fmt.Errorf("acc_scale must be float32 of %d values, have %v", M, n.Const(4))
	}
	bias := append([]int32(nil), b...)
	if colSum != nil {
		if len(xzp) != 1 {
			return nil, nil, fmt.Errorf("%d activation zero points: only depthwise convolutions take one per channel", len(xzp))
		}
		for m := range bias {
			bias[m] -= xzp[0] * colSum[m]
		}
	}
	if !n.HasInput(5) {
		return &qOutput{deq: &kernels.QDequant{Bias: bias, Scale: accScale}}, xzp, nil
	}
	for i := 5; i <= 7; i++ {
		if n.Const(i) == nil {
			return nil, nil, Unsupported(n, "a non-constant input %d is", i)
		}
	}
	ys, ok := n.Const(5).Data.([]float32)
	yz, ok2 := n.Const(6).Data.([]int32)
	yb, ok3 := n.Const(7).Data.([]int32)
	if !ok || !ok2 || !ok3 || (len(ys) != 1 && len(ys) != M) || (len(yz) != 1 && len(yz) != M) || (len(yb) != 2 && len(yb) != 2*M) {
		return nil, nil, fmt.Errorf("y_scale, y_zero_point, y_bounds must be float32 [1|%d], int32 [1|%d], int32 [2|%d×2]", M, M, M)
	}
	real := make([]float64, M)
	zp, lo, hi := make([]int32, M), make([]int32, M), make([]int32, M)
	for m := 0; m < M; m++ {
		real[m] = float64(accScale[m]) / float64(ys[min(m, len(ys)-1)])
		zp[m] = yz[min(m, len(yz)-1)]
		j := 0
		if len(yb) > 2 {
			j = 2 * m
		}
		lo[m], hi[m] = yb[j], yb[j+1]
		if lo[m] < 0 || hi[m] > 255 {
			return nil, nil, fmt.Errorf("y_bounds [%d, %d] outside the uint8 levels", lo[m], hi[m])
		}
	}
	switch act := n.String("act", ""); act {
	case "":
	case "hard_swish":
		yscale := make([]float32, M)
		for m := range yscale {
			yscale[m] = ys[min(m, len(ys)-1)]
		}
		hs, err := kernels.NewQHardSwish(kernels.QHardSwish{Bias: bias, Scale: accScale, YScale: yscale, ZP: zp, Lo: lo, Hi: hi,
			Alpha: n.Float("act_alpha", HardSigmoidAlpha), Beta: n.Float("act_beta", HardSigmoidBeta)}, M)
		if err != nil {
			return nil, nil, err
		}
		return &qOutput{hswish: hs}, xzp, nil
	case "leaky_relu":
		yscale := make([]float32, M)
		for m := range yscale {
			yscale[m] = ys[min(m, len(ys)-1)]
		}
		lr, err := kernels.NewQLeakyReLU(kernels.QLeakyReLU{Bias: bias, Scale: accScale, YScale: yscale, ZP: zp, Lo: lo, Hi: hi,
			Alpha: n.Float("act_alpha", LeakyReluAlpha)}, M)
		if err != nil {
			return nil, nil, err
		}
		return &qOutput{leaky: lr}, xzp, nil
	default:
		return nil, nil, Unsupported(n, "activation %q is", act)
	}
	req, err := kernels.NewQRequant(bias, real, zp, lo, hi)
	if err != nil {
		return nil, nil, err
	}
	return &qOutput{req: req}, xzp, nil
}

// dest prepares y (uint8 levels or float32) and the kernels' output.
func (o *qOutput) dest(y *tensor.Tensor, shape []int, channelsLast bool) kernels.QOut {
	if o.req != nil || o.hswish != nil || o.leaky != nil {
		y.Reset(tensor.Uint8, shape)
		return kernels.QOut{Req: o.req, HSwish: o.hswish, Leaky: o.leaky, U8: y.Data.([]uint8), ChannelsLast: channelsLast}
	}
	y.Reset(tensor.Float, shape)
	return kernels.QOut{Deq: o.deq, F32: y.F32(), ChannelsLast: channelsLast}
}

type qconv struct {
	attrs    spatialAttrs
	xcl, ycl bool
	M, C     int
	kh, kw   int
	rank     int // of X and W: 4 (2-D) or 3 (1-D)
	gemm     *kernels.QConvKernel
	dw       *kernels.QDepthwise
	xzp      []int32
	out      *qOutput
	scratch  sync.Pool
	geo      atomic.Pointer[qGeoCache]
}

type qGeoCache struct {
	h, w int
	g    kernels.QConvGeom
}

func newQConv(n *Node) (Kernel, error) {
	attrs, err := readSpatialAttrs(n)
	if err != nil {
		return nil, err
	}
	wt := n.Const(1)
	if wt == nil {
		return nil, Unsupported(n, "non-constant weights are")
	}
	w, ok := wt.Data.([]int8)
	if !ok || (wt.Rank() != 4 && wt.Rank() != 3) {
		return nil, fmt.Errorf("W must be int8 of rank 3 or 4, have %v", wt)
	}
	model, err := accumulationModel(n, w)
	if err != nil {
		return nil, err
	}
	k := &qconv{attrs: attrs, xcl: n.Int("x_channels_last", 0) != 0, ycl: n.Int("y_channels_last", 0) != 0}
	k.M, k.kh, k.kw, k.rank = wt.Shape[0], 1, wt.Shape[2], wt.Rank()
	if wt.Rank() == 4 {
		k.kh, k.kw = wt.Shape[2], wt.Shape[3]
	}
	if len(attrs.kernel) > 0 && (len(attrs.kernel) != wt.Rank()-2 || attrs.kernel[len(attrs.kernel)-1] != k.kw) {
		return nil, fmt.Errorf("kernel_shape %v does not match weights %v", attrs.kernel, wt.Shape)
	}
	group := int(n.Int("group", 1))
	cg := wt.Shape[1]
	k.C = cg * group
	switch {
	case group == 1:
		if k.gemm, err = kernels.NewQConvKernel(w, k.M, k.C, k.kh, k.kw, model); err != nil {
			return nil, err
		}
		k.out, k.xzp, err = qConsts(n, k.M, k.gemm.B.ColSum)
	case cg == 1 && k.M%group == 0:
		if k.dw, err = kernels.NewQDepthwise(w, group, k.M/group, k.kh, k.kw); err != nil {
			return nil, err
		}
		k.out, k.xzp, err = qConsts(n, k.M, nil)
		if err == nil && len(k.xzp) != 1 && len(k.xzp) != k.C {
			err = fmt.Errorf("%d activation zero points for %d channels", len(k.xzp), k.C)
		}
	default:
		return nil, Unsupported(n, "group %d with %d input channels per group is", group, cg)
	}
	if err != nil {
		return nil, err
	}
	if k.out.deq != nil {
		k.ycl = false
	}
	k.scratch.New = func() any { return new(qconvScratch) }
	return k, nil
}

type qconvScratch struct {
	s   kernels.QScratch
	acc []int32
}

// geometry resolves the window for an input of h×w, cached for the last
// size seen (cached geometries are never modified).
func (k *qconv) geometry(h, w int, rank int) (*kernels.QConvGeom, error) {
	if c := k.geo.Load(); c != nil && c.h == h && c.w == w {
		return &c.g, nil
	}
	in, kernel := []int{h, w}, []int{k.kh, k.kw}
	attrs := k.attrs
	if rank == 3 {
		in, kernel = []int{w}, []int{k.kw}
	}
	win, err := attrs.resolve(in, kernel)
	if err != nil {
		return nil, err
	}
	c := &qGeoCache{h: h, w: w, g: kernels.QConvGeom{H: h, W: w, OH: 1, SH: 1, DH: 1}}
	g := &c.g
	if rank == 3 {
		g.OW, g.SW, g.DW, g.PadL, g.PadR = win.out[0], win.strides[0], win.dilations[0], win.padBegin[0], win.padEnd[0]
	} else {
		g.OH, g.OW = win.out[0], win.out[1]
		g.SH, g.SW, g.DH, g.DW = win.strides[0], win.strides[1], win.dilations[0], win.dilations[1]
		g.PadT, g.PadL, g.PadB, g.PadR = win.padBegin[0], win.padBegin[1], win.padEnd[0], win.padEnd[1]
	}
	k.geo.Store(c)
	return g, nil
}

// Run implements Kernel.
func (k *qconv) Run(ctx *Context, in, out []*tensor.Tensor) error {
	if len(in) == 0 || in[0] == nil {
		return fmt.Errorf("X is required")
	}
	xt := in[0]
	x, ok := xt.Data.([]uint8)
	if !ok {
		return fmt.Errorf("X must be uint8 levels, have %v", xt.DType)
	}
	rank := xt.Rank()
	if rank != k.rank {
		return fmt.Errorf("X of shape %v for weights of rank %d", xt.Shape, k.rank)
	}
	shape := xt.Shape
	N, C, spatial := shape[0], shape[1], shape[2:]
	if k.xcl {
		C, spatial = shape[rank-1], shape[1:rank-1]
	}
	if C != k.C {
		return fmt.Errorf("X has %d channels, the weights %d", C, k.C)
	}
	h, w := 1, spatial[len(spatial)-1]
	if rank == 4 {
		h = spatial[0]
	}
	g, err := k.geometry(h, w, rank)
	if err != nil {
		return err
	}
	var oshape [4]int
	os := oshape[:0]
	switch {
	case k.ycl && rank == 4:
		os = append(os, N, g.OH, g.OW, k.M)
	case k.ycl:
		os = append(os, N, g.OW, k.M)
	case rank == 4:
		os = append(os, N, k.M, g.OH, g.OW)
	default:
		os = append(os, N, k.M, g.OW)
	}
	dst := k.out.dest(out[0], os, k.ycl)
	if ctx.Threads <= 1 || N == 1 {
		k.images(g, x, dst, 0, N)
		return nil
	}
	ctx.Parallel(N, 1, func(lo, hi int) { k.images(g, x, dst, lo, hi) })
	return nil
}

// images convolves images lo..hi-1 of the batch x into dst.
func (k *qconv) images(g *kernels.QConvGeom, x []uint8, dst kernels.QOut, lo, hi int) {
	inSize, outSize := k.C*g.H*g.W, k.M*g.OH*g.OW
	sc := k.scratch.Get().(*qconvScratch)
	defer k.scratch.Put(sc)
	for i := lo; i < hi; i++ {
		o := dst
		if o.U8 != nil {
			o.U8 = o.U8[i*outSize : (i+1)*outSize]
		} else {
			o.F32 = o.F32[i*outSize : (i+1)*outSize]
		}
		img := x[i*inSize : (i+1)*inSize]
		if k.gemm != nil {
			k.gemm.RunImage(g, img, k.xcl, uint8(k.xzp[0]), &sc.s, &o)
			continue
		}
		k.dw.RunImage(g, img, k.xcl, k.xzp, &sc.acc, &o)
	}
}

type qmatmul struct {
	b   *kernels.QPackedB
	xzp []int32
	out *qOutput
	sc  sync.Pool
}

func newQMatMul(n *Node) (Kernel, error) {
	wt := n.Const(1)
	if wt == nil {
		return nil, Unsupported(n, "non-constant weights are")
	}
	w, ok := wt.Data.([]int8)
	if !ok || wt.Rank() != 2 {
		return nil, fmt.Errorf("W must be int8 [M, K], have %v", wt)
	}
	model, err := accumulationModel(n, w)
	if err != nil {
		return nil, err
	}
	M, K := wt.Shape[0], wt.Shape[1]
	k := &qmatmul{}
	if k.b, err = kernels.PackQB(w, M, K, K, model); err != nil {
		return nil, err
	}
	if k.out, k.xzp, err = qConsts(n, M, k.b.ColSum); err != nil {
		return nil, err
	}
	k.sc.New = func() any { return new(kernels.QScratch) }
	return k, nil
}

// Run implements Kernel.
func (k *qmatmul) Run(ctx *Context, in, out []*tensor.Tensor) error {
	if len(in) == 0 || in[0] == nil {
		return fmt.Errorf("X is required")
	}
	xt := in[0]
	x, ok := xt.Data.([]uint8)
	if !ok {
		return fmt.Errorf("X must be uint8 levels, have %v", xt.DType)
	}
	if xt.Rank() < 1 || xt.Shape[xt.Rank()-1] != k.b.K {
		return fmt.Errorf("X of shape %v for %d×%d weights", xt.Shape, k.b.M, k.b.K)
	}
	rows := xt.Len() / k.b.K
	var oshape [8]int
	os := append(oshape[:0], xt.Shape[:xt.Rank()-1]...)
	os = append(os, k.b.M)
	dst := k.out.dest(out[0], os, true)
	const grain = 64
	parts := (rows + grain - 1) / grain
	if ctx.Threads <= 1 || parts == 1 {
		k.rows(x, dst, 0, rows)
		return nil
	}
	ctx.Parallel(parts, 1, func(lo, hi int) { k.rows(x, dst, lo*grain, min(hi*grain, rows)) })
	return nil
}

// rows multiplies rows r0..r1-1 of x into dst.
func (k *qmatmul) rows(x []uint8, dst kernels.QOut, r0, r1 int) {
	s := k.sc.Get().(*kernels.QScratch)
	defer k.sc.Put(s)
	o := dst
	if o.U8 != nil {
		o.U8 = o.U8[r0*k.b.M : r1*k.b.M]
	} else {
		o.F32 = o.F32[r0*k.b.M : r1*k.b.M]
	}
	kernels.QMatMul(k.b, x[r0*k.b.K:r1*k.b.K], r1-r0, s, &o)
}
