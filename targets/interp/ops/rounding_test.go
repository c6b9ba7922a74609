package ops

import (
	"math"
	"testing"

	"github.com/potgo/pot/targets/interp/tensor"
)

func TestRounding(t *testing.T) {
	xs := []float32{-2.7, -2.5, -2.2, -1.5, -0.5, 0.5, 1.5, 2.2, 2.5, 2.7}
	tests := []struct {
		r    Rounding
		name string
		want []float32
	}{
		{RoundingHalfToEven, "half_to_even", []float32{-3, -2, -2, -2, 0, 0, 2, 2, 2, 3}},
		{RoundingHalfAwayFromZero, "half_away_from_zero", []float32{-3, -3, -2, -2, -1, 1, 2, 2, 3, 3}},
		{RoundingHalfUp, "half_up", []float32{-3, -2, -2, -1, 0, 1, 2, 2, 3, 3}},
		{RoundingTowardZero, "toward_zero", []float32{-2, -2, -2, -1, 0, 0, 1, 2, 2, 2}},
		{RoundingDown, "down", []float32{-3, -3, -3, -2, -1, 0, 1, 2, 2, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if s := tc.r.String(); s != tc.name || !tc.r.Valid() {
				t.Errorf("String() = %q, Valid() = %v", s, tc.r.Valid())
			}
			for i, x := range xs {
				if got := tc.r.Round(x); got != tc.want[i] {
					t.Errorf("Round(%g) = %g, want %g", x, got, tc.want[i])
				}
			}
			if got := tc.r.Round(float32(math.NaN())); got == got {
				t.Errorf("Round(NaN) = %g", got)
			}
			// A large float32 (an integer) stays itself.
			if big := float32(1 << 30); tc.r.Round(big) != big || tc.r.Round(-big) != -big {
				t.Errorf("Round(±2^30) = %g, %g", tc.r.Round(big), tc.r.Round(-big))
			}
		})
	}
	if r := Rounding(9); r.Valid() || r.String() != "Rounding(9)" {
		t.Errorf("Rounding(9): Valid %v, String %q", r.Valid(), r.String())
	}
}

// Each quantizer rounds by its node's Rounding: x/scale of 0.5, 1.5,
// 2.5 and -2.5 (ties) and 2.7, -2.2.
func TestQuantizersRounding(t *testing.T) {
	x := f32s([]int{6}, 0.25, 0.75, 1.25, -1.25, 1.35, -1.1)
	tests := []struct {
		r    Rounding
		want []float32 // levels, before the zero point
	}{
		{RoundingHalfToEven, []float32{0, 2, 2, -2, 3, -2}},
		{RoundingHalfAwayFromZero, []float32{1, 2, 3, -3, 3, -2}},
		{RoundingDown, []float32{0, 1, 2, -3, 2, -3}},
	}
	for _, tc := range tests {
		t.Run(tc.r.String(), func(t *testing.T) {
			want := make([]float64, len(tc.want))
			for i, v := range tc.want {
				want[i] = float64(v) * 0.5
			}
			for _, consts := range [][]bool{nil, {true, true, true, true}} {
				// FakeQuantize, levels 256, zero point 128: values -128..127.
				fq := opCall{domain: DomainPot, op: "FakeQuantize", opset: 1, attrs: []*potv1Attr{aInt("levels", 256)}, consts: consts, rounding: tc.r}
				out := fq.mustRun(t, x, tensor.Scalar(float32(0.5)), tensor.Scalar(float32(128)), tensor.Scalar(float32(0.5)))
				checkTensor(t, "FakeQuantize", out[0], []int{6}, want)
			}
			// QuantizeLinear to int8.
			ql := opCall{op: "QuantizeLinear", opset: 13, rounding: tc.r}
			out := ql.mustRun(t, x, tensor.Scalar(float32(0.5)), tensor.Scalar(int8(0)))
			got := out[0].Data.([]int8)
			for i, v := range tc.want {
				if float32(got[i]) != v {
					t.Errorf("QuantizeLinear: levels %v, want %v", got, tc.want)
					break
				}
			}
		})
	}
}
