package ops

import (
	"fmt"
	"math"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

// Default attribute values of SELU (the float32 values of the constants
// in the ONNX specification).
const (
	seluAlpha = 1.67326319217681884765625
	seluGamma = 1.05070102214813232421875
)

func init() {
	relu := numKernel("Relu", numFunc{
		flt: floatFunc{f: func(x float64) float64 { return reluF64(x) }, f32: reluF32},
		sgn: func(x int64) int64 { return max(x, 0) },
		uns: func(x uint64) uint64 { return x },
	})
	register(DomainONNX, "Relu", 1, func(n *Node) (Kernel, error) { return relu, nil })

	sigmoid := floatKernel("Sigmoid", floatFunc{f: sigmoid64, f32: sigmoidF32})
	register(DomainONNX, "Sigmoid", 1, func(n *Node) (Kernel, error) { return sigmoid, nil })

	tanh := floatKernel("Tanh", floatFunc{f: math.Tanh, f32: tanhF32})
	register(DomainONNX, "Tanh", 1, func(n *Node) (Kernel, error) { return tanh, nil })

	hardSwish := floatKernel("HardSwish", floatFunc{f: hardSwish64, f32: hardSwishF32})
	register(DomainONNX, "HardSwish", 14, func(n *Node) (Kernel, error) { return hardSwish, nil })

	register(DomainONNX, "LeakyRelu", 1, leakyReluFactory)
	register(DomainONNX, "HardSigmoid", 1, hardSigmoidFactory)
	register(DomainONNX, "Elu", 1, eluFactory)
	register(DomainONNX, "Selu", 1, seluFactory)
	register(DomainONNX, "Celu", 12, celuFactory)
	register(DomainONNX, "ThresholdedRelu", 1, thresholdedReluFactory) // experimental before 10
	register(DomainONNX, "Shrink", 9, shrinkFactory)
	register(DomainONNX, "Gelu", 20, geluFactory)
	registerFloat("Softplus", 1, softplus)
	registerFloat("Softsign", 1, func(x float64) float64 { return x / (1 + math.Abs(x)) })
	registerFloat("Mish", 18, func(x float64) float64 { return x * math.Tanh(softplus(x)) })
	register(DomainONNX, "PRelu", 1, func(n *Node) (Kernel, error) { return &prelu6Kernel{}, nil })
	register(DomainONNX, "PRelu", 7, binaryFactory("PRelu", preluTable, false))
}

func reluF64(x float64) float64 {
	if x < 0 {
		return 0
	}
	return x
}

func reluF32(dst, src []float32) { kernels.ReLU(dst, src) }

func sigmoid64(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func sigmoidF32(dst, src []float32) {
	src = src[:len(dst)]
	var buf [expBlock]float64
	for i0 := 0; i0 < len(dst); i0 += expBlock {
		for k, v := range expShifted(&buf, src, 0, i0, min(len(dst), i0+expBlock), 1, true, 0) {
			dst[i0+k] = float32(1 / (1 + v))
		}
	}
}

func tanhF32(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = float32(math.Tanh(float64(x)))
	}
}

func hardSwish64(x float64) float64 { return x * min(1, max(0, x/6+0.5)) }

func hardSwishF32(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		v := x*(1.0/6) + 0.5
		if v < 0 {
			v = 0
		} else if v > 1 {
			v = 1
		}
		dst[i] = x * v
	}
}

// LeakyReluAlpha is LeakyRelu's default alpha (ONNX).
const LeakyReluAlpha = 0.01

func leakyReluFactory(n *Node) (Kernel, error) {
	alpha := n.Float("alpha", LeakyReluAlpha)
	a := float64(alpha)
	return floatKernel("LeakyRelu", floatFunc{
		f: func(x float64) float64 {
			if x < 0 {
				return a * x
			}
			return x
		},
		f32: func(dst, src []float32) { kernels.LeakyReLUF32(dst, src, alpha) },
	}), nil
}

// HardSigmoid's default alpha and beta (ONNX).
const (
	HardSigmoidAlpha = 0.2
	HardSigmoidBeta  = 0.5
)

// HardSigmoidAttrs returns the alpha and beta of a HardSigmoid node.
func HardSigmoidAttrs(p *potv1.Node) (alpha, beta float32) {
	return hardSigmoidAttrs(NewNode(p, 0, nil))
}

func hardSigmoidAttrs(n *Node) (alpha, beta float32) {
	return n.Float("alpha", HardSigmoidAlpha), n.Float("beta", HardSigmoidBeta)
}

func hardSigmoidFactory(n *Node) (Kernel, error) {
	alpha, beta := hardSigmoidAttrs(n)
	a, b := float64(alpha), float64(beta)
	return floatKernel("HardSigmoid", floatFunc{
		f:   func(x float64) float64 { return min(1, max(0, a*x+b)) },
		f32: func(dst, src []float32) { kernels.HardSigmoidF32(dst, src, alpha, beta) },
	}), nil
}

func eluFactory(n *Node) (Kernel, error) {
	a := float64(n.Float("alpha", 1))
	return floatKernel("Elu", floatFunc{f: func(x float64) float64 {
		if x < 0 {
			return a * (math.Exp(x) - 1)
		}
		return x
	}}), nil
}

func seluFactory(n *Node) (Kernel, error) {
	a, g := float64(n.Float("alpha", seluAlpha)), float64(n.Float("gamma", seluGamma))
	return floatKernel("Selu", floatFunc{f: func(x float64) float64 {
		if x <= 0 {
			return g * (a*math.Exp(x) - a)
		}
		return g * x
	}}), nil
}

func celuFactory(n *Node) (Kernel, error) {
	a := float64(n.Float("alpha", 1))
	if a == 0 {
		return nil, Unsupported(n, "alpha 0 is")
	}
	return floatKernel("Celu", floatFunc{f: func(x float64) float64 {
		return max(0, x) + min(0, a*(math.Exp(x/a)-1))
	}}), nil
}

func thresholdedReluFactory(n *Node) (Kernel, error) {
	a := float64(n.Float("alpha", 1))
	return floatKernel("ThresholdedRelu", floatFunc{f: func(x float64) float64 {
		if x > a {
			return x
		}
		return 0
	}}), nil
}

func shrinkFactory(n *Node) (Kernel, error) {
	lambd, bias := float64(n.Float("lambd", 0.5)), float64(n.Float("bias", 0))
	f := func(x float64) float64 {
		switch {
		case x < -lambd:
			return x + bias
		case x > lambd:
			return x - bias
		}
		return 0
	}
	return numKernel("Shrink", numFunc{
		flt: floatFunc{f: f},
		sgn: func(x int64) int64 { return int64(f(float64(x))) },
		uns: func(x uint64) uint64 { return uint64(f(float64(x))) },
	}), nil
}

func geluFactory(n *Node) (Kernel, error) {
	switch approx := n.String("approximate", "none"); approx {
	case "none":
		return floatKernel("Gelu", floatFunc{f: func(x float64) float64 {
			return 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
		}}), nil
	case "tanh":
		c := math.Sqrt(2 / math.Pi)
		return floatKernel("Gelu", floatFunc{f: func(x float64) float64 {
			return 0.5 * x * (1 + math.Tanh(c*(x+0.044715*x*x*x)))
		}}), nil
	default:
		return nil, Unsupported(n, "approximate %q is", approx)
	}
}

// softplus is log(1 + exp(x)) without overflow for large x.
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// preluTable implements PRelu: x where x >= 0, slope*x elsewhere.
var preluTable = func() *binTable {
	t := &binTable{}
	t[tensor.Float] = implOf(binLoops[float32, float32]{vv: preluVV[float32], vs: preluVS[float32], sv: scalarLoops(prelu[float32]).sv})
	t[tensor.Double] = implOf(scalarLoops(prelu[float64]))
	t[tensor.Int8] = implOf(scalarLoops(prelu[int8]))
	t[tensor.Int16] = implOf(scalarLoops(prelu[int16]))
	t[tensor.Int32] = implOf(scalarLoops(prelu[int32]))
	t[tensor.Int64] = implOf(scalarLoops(prelu[int64]))
	t[tensor.Uint8] = implOf(scalarLoops(prelu[uint8]))
	t[tensor.Uint16] = implOf(scalarLoops(prelu[uint16]))
	t[tensor.Uint32] = implOf(scalarLoops(prelu[uint32]))
	t[tensor.Uint64] = implOf(scalarLoops(prelu[uint64]))
	return t
}()

// prelu6Kernel is PRelu before opset 7, where a 1-D slope of the size of
// dimension 1 holds one slope per channel.
type prelu6Kernel struct{ cache planCache }

// Run implements Kernel.
func (k *prelu6Kernel) Run(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 2); err != nil {
		return err
	}
	x, slope := in[0], in[1]
	if len(x.Shape) >= 2 && len(slope.Shape) == 1 && slope.Shape[0] == x.Shape[1] {
		var err error
		if slope, err = legacyBroadcast(x, slope, 1); err != nil {
			return fmt.Errorf("PRelu: %w", err)
		}
	}
	return preluTable.run(ctx, &k.cache, "PRelu", x, slope, out[0])
}

func prelu[T tensor.Number](x, slope T) T {
	if x < 0 {
		return slope * x
	}
	return x
}

func preluVV[T tensor.Number](dst, x, slope []T) {
	x, slope = x[:len(dst)], slope[:len(dst)]
	for i, v := range x {
		if v < 0 {
			v *= slope[i]
		}
		dst[i] = v
	}
}

func preluVS[T tensor.Number](dst, x []T, slope T) {
	x = x[:len(dst)]
	for i, v := range x {
		if v < 0 {
			v *= slope
		}
		dst[i] = v
	}
}
