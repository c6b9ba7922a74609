package ops

import (
	"math"
	"testing"
)

// TestRNNMath bounds the error of the float32 exponential, logistic and
// tanh against float64 math over a dense grid.
func TestRNNMath(t *testing.T) {
	var worstExp, worstSig, worstTanh float64
	const step = 1.0 / 4096
	for xf := -90.0; xf <= 90; xf += step {
		x := float32(xf)
		want := math.Exp(float64(x))
		if got := float64(exp32(x)); xf >= -87.3 && xf <= 88.3 {
			worstExp = max(worstExp, math.Abs(got-want)/want)
		}
		var s, th [1]float32
		sigmoid32(s[:], []float32{x})
		tanh32(th[:], []float32{x})
		ws := 1 / (1 + math.Exp(-float64(x)))
		worstSig = max(worstSig, math.Abs(float64(s[0])-ws)/max(ws, 1e-30))
		wt := math.Tanh(float64(x))
		if wt != 0 {
			worstTanh = max(worstTanh, math.Abs(float64(th[0])-wt)/math.Abs(wt))
		}
	}
	t.Logf("worst relative error: exp %.2g, sigmoid %.2g, tanh %.2g", worstExp, worstSig, worstTanh)
	for name, e := range map[string]float64{"exp": worstExp, "sigmoid": worstSig, "tanh": worstTanh} {
		if e > 1e-6 {
			t.Errorf("%s: relative error %g above 1e-6", name, e)
		}
	}
	if v := exp32(1000); v < 1e38 || math.IsInf(float64(v), 0) {
		t.Errorf("exp32(1000) = %g, want the largest result", v)
	}
	if v := exp32(float32(math.NaN())); v == v {
		t.Errorf("exp32(NaN) = %g", v)
	}
	var s [2]float32
	sigmoid32(s[:], []float32{-200, 200})
	if s[0] < 0 || s[0] > 1e-37 || s[1] != 1 {
		t.Errorf("sigmoid(±200) = %v", s)
	}
}
