package ops

import (
	"fmt"
	"math"

	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

func init() {
	for _, v := range []int64{1, 6, 7, 9, 14, 15} {
		register(DomainONNX, "BatchNormalization", v, newBatchNorm)
	}
	register(DomainONNX, "InstanceNormalization", 1, newInstanceNorm)
	register(DomainONNX, "InstanceNormalization", 6, newInstanceNorm)
}

// floatView returns the values of a float tensor as float64 (a copy)
// for the normalization parameters, which are small.
func floatView(t *tensor.Tensor) ([]float64, error) {
	if !t.DType.IsFloat() {
		return nil, fmt.Errorf("%v is not a float type", t.DType)
	}
	return t.Float64s()
}

// runFloat resets y to x's type and shape and calls f32 (Float, and
// 16-bit floats through float32 copies) or f64 (Double) on the values.
func runFloat(x, y *tensor.Tensor, f32 func(x, y []float32) error, f64 func(x, y []float64) error) error {
	switch x.DType {
	case tensor.Float:
		y.Reset(tensor.Float, x.Shape)
		return f32(x.F32(), y.F32())
	case tensor.Double:
		y.Reset(tensor.Double, x.Shape)
		return f64(x.Data.([]float64), y.Data.([]float64))
	case tensor.Float16, tensor.BFloat16:
		xf, _ := asF32(x)
		yf := make([]float32, len(xf))
		if err := f32(xf, yf); err != nil {
			return err
		}
		storeHalf(y, x.DType, x.Shape, yf)
		return nil
	}
	return errType("normalization", x.DType)
}

type batchNorm struct {
	eps, momentum float64
	training      bool
	spatial       bool
	// mul and add fold constant parameters (inference) into y = x·mul + add.
	mul, add []float64
}

func newBatchNorm(n *Node) (Kernel, error) {
	k := &batchNorm{eps: float64(n.Float("epsilon", 1e-5)), momentum: float64(n.Float("momentum", 0.9)), spatial: true}
	if n.Opset < 9 {
		k.spatial = n.Int("spatial", 1) != 0
	}
	if n.Opset >= 14 {
		k.training = n.Int("training_mode", 0) != 0
	} else {
		for _, o := range n.Proto.GetOutputs()[1:] {
			if o != "" {
				return nil, Unsupported(n, "training outputs of BatchNormalization-%d are", n.Opset)
			}
		}
	}
	if !k.training && n.Const(1) != nil && n.Const(2) != nil && n.Const(3) != nil && n.Const(4) != nil {
		params, err := k.params([]*tensor.Tensor{nil, n.Const(1), n.Const(2), n.Const(3), n.Const(4)})
		if err != nil {
			return nil, err
		}
		k.mul, k.add = k.fold(params)
	}
	return k, nil
}

// params reads scale, B, mean and variance (inputs 1 to 4).
func (k *batchNorm) params(in []*tensor.Tensor) ([][]float64, error) {
	params := make([][]float64, 4)
	for i := range params {
		v, err := floatView(in[i+1])
		if err != nil {
			return nil, fmt.Errorf("input %d: %w", i+1, err)
		}
		if i > 0 && len(v) != len(params[0]) {
			return nil, fmt.Errorf("input %d has %d values, scale has %d", i+1, len(v), len(params[0]))
		}
		params[i] = v
	}
	return params, nil
}

// fold turns the parameters into y = x·mul + add.
func (k *batchNorm) fold(p [][]float64) (mul, add []float64) {
	scale, bias, mean, variance := p[0], p[1], p[2], p[3]
	mul, add = make([]float64, len(scale)), make([]float64, len(scale))
	for i := range mul {
		mul[i] = scale[i] / math.Sqrt(variance[i]+k.eps)
		add[i] = bias[i] - mean[i]*mul[i]
	}
	return mul, add
}

func (k *batchNorm) Run(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 5); err != nil {
		return err
	}
	x := in[0]
	if x.Rank() < 2 {
		return fmt.Errorf("input of shape %v: want rank 2 or more", x.Shape)
	}
	n, c := x.Shape[0], x.Shape[1]
	inner := tensor.NumElements(x.Shape[2:])
	// With spatial=0 the parameters hold one value per (channel,
	// position); normalize that as channels of size one.
	ch, sp := c, inner
	if !k.spatial {
		ch, sp = c*inner, 1
	}
	f32 := func(xs, ys []float32) error {
		return batchNormApply(ctx, k, in, out, xs, ys, n, ch, sp, kernels.AffineF32)
	}
	f64 := func(xs, ys []float64) error { return batchNormApply(ctx, k, in, out, xs, ys, n, ch, sp, affineSlice) }
	return runFloat(x, out[0], f32, f64)
}

// batchNormApply normalizes x (n·ch planes of sp values) into y with
// affine, x·mul + add per channel: affineSlice, or the AVX2 kernel of
// the same rounding for float32.
func batchNormApply[T floatT](ctx *Context, k *batchNorm, in, out []*tensor.Tensor, x, y []T, n, ch, sp int, affine func(dst, src []T, m, a T)) error {
	mul, add := k.mul, k.add
	if mul == nil {
		params, err := k.params(in)
		if err != nil {
			return err
		}
		if len(params[0]) != ch {
			return fmt.Errorf("parameters have %d values for %d channels", len(params[0]), ch)
		}
		if k.training {
			params[2], params[3] = batchStats(k, x, n, ch, sp, params[2], params[3], out, in[3].DType)
		}
		mul, add = k.fold(params)
	}
	if len(mul) != ch {
		return fmt.Errorf("parameters have %d values for %d channels", len(mul), ch)
	}
	ctx.Parallel(n*ch, max(1, 4096/max(sp, 1)), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			affine(y[p*sp:(p+1)*sp], x[p*sp:(p+1)*sp], T(mul[p%ch]), T(add[p%ch]))
		}
	})
	return nil
}

// affineSlice sets dst[i] = src[i]·m + a, the product rounded before the
// sum (never fused).
func affineSlice[T floatT](dst, src []T, m, a T) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = T(v*m) + a
	}
}

// batchStats computes the batch mean and (population) variance for
// training mode and writes the running statistics outputs; it returns
// the batch statistics.
func batchStats[T floatT](k *batchNorm, x []T, n, ch, sp int, runMean, runVar []float64, out []*tensor.Tensor, dtype tensor.DType) (mean, variance []float64) {
	mean, variance = make([]float64, ch), make([]float64, ch)
	count := float64(n * sp)
	for c := 0; c < ch; c++ {
		var s, s2 float64
		for b := 0; b < n; b++ {
			for _, v := range x[(b*ch+c)*sp : (b*ch+c+1)*sp] {
				s += float64(v)
			}
		}
		mean[c] = s / count
		for b := 0; b < n; b++ {
			for _, v := range x[(b*ch+c)*sp : (b*ch+c+1)*sp] {
				d := float64(v) - mean[c]
				s2 += d * d
			}
		}
		variance[c] = s2 / count
	}
	for i, src := range [][]float64{runMean, runVar} {
		if i+1 >= len(out) || out[i+1] == nil {
			continue
		}
		stat := mean
		if i == 1 {
			stat = variance
		}
		vals := make([]float64, ch)
		for c := range vals {
			vals[c] = src[c]*k.momentum + stat[c]*(1-k.momentum)
		}
		storeFloat64s(out[i+1], dtype, []int{ch}, vals)
	}
	return mean, variance
}

// storeFloat64s resets t to a float tensor of type dt holding vals.
func storeFloat64s(t *tensor.Tensor, dt tensor.DType, shape []int, vals []float64) {
	switch dt {
	case tensor.Double:
		t.Reset(dt, shape)
		copy(t.Data.([]float64), vals)
	case tensor.Float16, tensor.BFloat16:
		f := make([]float32, len(vals))
		for i, v := range vals {
			f[i] = float32(v)
		}
		storeHalf(t, dt, shape, f)
	default:
		t.Reset(tensor.Float, shape)
		d := t.F32()
		for i, v := range vals {
			d[i] = float32(v)
		}
	}
}

type instanceNorm struct{ eps float64 }

func newInstanceNorm(n *Node) (Kernel, error) {
	return &instanceNorm{eps: float64(n.Float("epsilon", 1e-5))}, nil
}

func (k *instanceNorm) Run(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 3); err != nil {
		return err
	}
	x := in[0]
	if x.Rank() < 3 {
		return fmt.Errorf("input of shape %v: want rank 3 or more", x.Shape)
	}
	scale, err := floatView(in[1])
	if err != nil {
		return fmt.Errorf("scale: %w", err)
	}
	bias, err := floatView(in[2])
	if err != nil {
		return fmt.Errorf("B: %w", err)
	}
	c := x.Shape[1]
	if len(scale) != c || len(bias) != c {
		return fmt.Errorf("scale and B have %d and %d values for %d channels", len(scale), len(bias), c)
	}
	sp := tensor.NumElements(x.Shape[2:])
	f32 := func(xs, ys []float32) error { instanceNormApply(ctx, xs, ys, c, sp, k.eps, scale, bias); return nil }
	f64 := func(xs, ys []float64) error { instanceNormApply(ctx, xs, ys, c, sp, k.eps, scale, bias); return nil }
	return runFloat(x, out[0], f32, f64)
}

func instanceNormApply[T floatT](ctx *Context, x, y []T, c, sp int, eps float64, scale, bias []float64) {
	ctx.Parallel(len(x)/max(sp, 1), 1, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			ch := p % c
			normalize(x[p*sp:(p+1)*sp], y[p*sp:(p+1)*sp], eps, func(int) (float64, float64) { return scale[ch], bias[ch] })
		}
	})
}

// normalize writes (x - mean)/sqrt(var + eps)·s + b into y, where
// affine(i) gives s and b of element i; it returns the mean and
// 1/sqrt(var + eps).
func normalize[T floatT](x, y []T, eps float64, affine func(i int) (s, b float64)) (mean, inv float64) {
	var sum float64
	for _, v := range x {
		sum += float64(v)
	}
	mean = sum / float64(len(x))
	var ss float64
	for _, v := range x {
		d := float64(v) - mean
		ss += d * d
	}
	inv = 1 / math.Sqrt(ss/float64(len(x))+eps)
	for i, v := range x {
		s, b := affine(i)
		y[i] = T((float64(v)-mean)*inv*s + b)
	}
	return mean, inv
}
