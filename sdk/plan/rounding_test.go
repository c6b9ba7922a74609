package plan

import (
	"testing"

	"github.com/potgo/pot/proto/potv1"
)

func TestRounder(t *testing.T) {
	xs := []float64{-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 1.25, -1.75}
	tests := []struct {
		r    potv1.Rounding
		want []float64
	}{
		{potv1.Rounding_ROUNDING_UNSPECIFIED, []float64{-2, -2, 0, 0, 2, 2, 1, -2}},
		{potv1.Rounding_ROUNDING_HALF_TO_EVEN, []float64{-2, -2, 0, 0, 2, 2, 1, -2}},
		{potv1.Rounding_ROUNDING_HALF_AWAY_FROM_ZERO, []float64{-3, -2, -1, 1, 2, 3, 1, -2}},
		{potv1.Rounding_ROUNDING_HALF_UP, []float64{-2, -1, 0, 1, 2, 3, 1, -2}},
		{potv1.Rounding_ROUNDING_TOWARD_ZERO, []float64{-2, -1, 0, 0, 1, 2, 1, -1}},
		{potv1.Rounding_ROUNDING_DOWN, []float64{-3, -2, -1, 0, 1, 2, 1, -2}},
	}
	for _, tt := range tests {
		round := Rounder(tt.r)
		for i, x := range xs {
			if got := round(x); got != tt.want[i] {
				t.Errorf("%s: round(%g) = %g, want %g", tt.r, x, got, tt.want[i])
			}
		}
	}
}
