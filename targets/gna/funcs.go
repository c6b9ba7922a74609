package gna

import (
	"fmt"
	"math"
)

// Activation names the functions GNA computes as PWL, with the ONNX
// operator each stands for.
var Activations = []string{"Sigmoid", "Tanh", "Relu", "PRelu", "Clip", "Log", "Abs", "Exp", "Sign", "Pow"}

// IsActivation reports whether an ONNX op type is computed by GNA's PWL
// unit.
func IsActivation(op string) bool {
	for _, a := range Activations {
		if a == op {
			return true
		}
	}
	return false
}

// NewFunc returns the real function of an activation: params are PRelu's
// slope, Clip's min and max (±Inf when absent) or Pow's exponent.
// Outside a function's real domain (Log of x <= 0) the value is -Inf,
// which saturates; Pow of a negative base to a fractional exponent is 0.
func NewFunc(op string, params []float64) (Func, error) {
	need := func(n int) error {
		if len(params) != n {
			return fmt.Errorf("%s takes %d parameter(s), have %d", op, n, len(params))
		}
		return nil
	}
	switch op {
	case "Sigmoid":
		return Func{Name: op, F: func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }}, need(0)
	case "Tanh":
		return Func{Name: op, F: math.Tanh}, need(0)
	case "Relu":
		return Func{Name: op, F: func(x float64) float64 { return max(x, 0) }, Kinks: []float64{0}}, need(0)
	case "Abs":
		return Func{Name: op, F: math.Abs, Kinks: []float64{0}}, need(0)
	case "Exp":
		return Func{Name: op, F: math.Exp}, need(0)
	case "Log":
		return Func{Name: op, F: func(x float64) float64 {
			if x <= 0 {
				return math.Inf(-1)
			}
			return math.Log(x)
		}, Kinks: []float64{0}}, need(0)
	case "Sign":
		return Func{Name: op, F: func(x float64) float64 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			}
			return 0
		}, Kinks: []float64{0}}, need(0)
	case "PRelu":
		if err := need(1); err != nil {
			return Func{}, err
		}
		a := params[0]
		return Func{Name: op, F: func(x float64) float64 {
			if x < 0 {
				return a * x
			}
			return x
		}, Kinks: []float64{0}}, nil
	case "Clip":
		if err := need(2); err != nil {
			return Func{}, err
		}
		lo, hi := params[0], params[1]
		var kinks []float64
		for _, k := range []float64{lo, hi} {
			if !math.IsInf(k, 0) {
				kinks = append(kinks, k)
			}
		}
		return Func{Name: op, F: func(x float64) float64 { return max(lo, min(hi, x)) }, Kinks: kinks}, nil
	case "Pow":
		if err := need(1); err != nil {
			return Func{}, err
		}
		p := params[0]
		return Func{Name: op, F: func(x float64) float64 {
			v := math.Pow(x, p)
			if v != v {
				return 0
			}
			return v
		}, Kinks: []float64{0}}, nil
	}
	return Func{}, fmt.Errorf("%s is not a GNA activation function", op)
}
