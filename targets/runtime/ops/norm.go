package ops

import (
	"fmt"
	"math"

	"github.com/potgo/pot/targets/runtime/tensor"
)

func init() {
	for _, v := range []int64{1, 6, 7, 9, 14, 15} {
		Register(DomainONNX, "BatchNormalization", v, newBatchNorm)
	}
	Register(DomainONNX, "InstanceNormalization", 1, newInstanceNorm)
	Register(DomainONNX, "InstanceNormalization", 6, newInstanceNorm)
}

// floatView returns the values of a float tensor as float64 (a copy)
// for the normalization parameters, which are small.
func floatView(t *tensor.Tensor) ([]float64, error) {
	if !t.DType.IsFloat() {
		return nil, fmt.Errorf("%v is not a float type", t.DType)
	}
	return t.Float64s()
}

// normIO converts a float input to float32 values (copying 16-bit
// floats) and prepares the output; store writes 16-bit results back.
type normIO struct {
	x, y  []float32
	out   *tensor.Tensor
	dtype tensor.DType
}

func newNormIO(x, y *tensor.Tensor, shape []int) (*normIO, error) {
	io := &normIO{out: y, dtype: x.DType}
	switch {
	case x.DType == tensor.Float:
		y.Reset(tensor.Float, shape)
		io.x, io.y = x.F32(), y.F32()
	case isHalf(x.DType), x.DType == tensor.Double:
		if x.DType == tensor.Double {
			d := x.Data.([]float64)
			io.x = make([]float32, len(d))
			for i, v := range d {
				io.x[i] = float32(v)
			}
		} else {
			io.x, _ = asF32(x)
		}
		io.y = make([]float32, tensor.NumElements(shape))
	default:
		return nil, errType("normalization", x.DType)
	}
	return io, nil
}

// store writes results computed in a float32 buffer to a 16-bit or
// double output.
func (io *normIO) store(shape []int) {
	switch {
	case isHalf(io.dtype):
		storeHalf(io.out, io.dtype, shape, io.y)
	case io.dtype == tensor.Double:
		io.out.Reset(tensor.Double, shape)
		d := io.out.Data.([]float64)
		for i, v := range io.y {
			d[i] = float64(v)
		}
	}
}

type batchNorm struct {
	eps, momentum float64
	training      bool
	spatial       bool
	// mul and add fold constant parameters (inference) into y = x·mul + add.
	mul, add []float32
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
func (k *batchNorm) fold(p [][]float64) (mul, add []float32) {
	scale, bias, mean, variance := p[0], p[1], p[2], p[3]
	mul, add = make([]float32, len(scale)), make([]float32, len(scale))
	for i := range mul {
		s := scale[i] / math.Sqrt(variance[i]+k.eps)
		mul[i], add[i] = float32(s), float32(bias[i]-mean[i]*s)
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
	io, err := newNormIO(x, out[0], x.Shape)
	if err != nil {
		return err
	}
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
			params[2], params[3] = k.batchStats(io.x, n, ch, sp, params[2], params[3], out)
		}
		mul, add = k.fold(params)
	}
	if len(mul) != ch {
		return fmt.Errorf("parameters have %d values for %d channels", len(mul), ch)
	}
	ctx.Parallel(n*ch, max(1, 4096/max(sp, 1)), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			m, a := mul[p%ch], add[p%ch]
			src, dst := io.x[p*sp:(p+1)*sp], io.y[p*sp:(p+1)*sp]
			for i, v := range src {
				dst[i] = v*m + a
			}
		}
	})
	io.store(x.Shape)
	return nil
}

// batchStats computes the batch mean and (population) variance for
// training mode and writes the running statistics outputs; it returns
// the batch statistics.
func (k *batchNorm) batchStats(x []float32, n, ch, sp int, runMean, runVar []float64, out []*tensor.Tensor) (mean, variance []float64) {
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
		vals := make([]float32, ch)
		for c := range vals {
			vals[c] = float32(src[c]*k.momentum + stat[c]*(1-k.momentum))
		}
		out[i+1].Reset(tensor.Float, []int{ch})
		copy(out[i+1].F32(), vals)
	}
	return mean, variance
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
	io, err := newNormIO(x, out[0], x.Shape)
	if err != nil {
		return err
	}
	sp := tensor.NumElements(x.Shape[2:])
	ctx.Parallel(x.Shape[0]*c, 1, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			ch := p % c
			normalize(io.x[p*sp:(p+1)*sp], io.y[p*sp:(p+1)*sp], k.eps, func(int) (float64, float64) { return scale[ch], bias[ch] })
		}
	})
	io.store(x.Shape)
	return nil
}

// normalize writes (x - mean)/sqrt(var + eps)·s + b into y, where
// affine(i) gives s and b of element i; it returns the mean and
// 1/sqrt(var + eps).
func normalize(x, y []float32, eps float64, affine func(i int) (s, b float64)) (mean, inv float64) {
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
		y[i] = float32((float64(v)-mean)*inv*s + b)
	}
	return mean, inv
}
