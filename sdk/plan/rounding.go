package plan

import (
	"math"

	"github.com/potgo/pot/proto/potv1"
)

// Rounder returns the function that rounds a value divided by its scale
// to a level as a target declares it rounds (TargetCapabilities.rounding):
// what an export must use so that the integers it writes are the levels
// the target computed with. Unspecified is half to even, ONNX's rounding.
// x is a float32 quotient (exact in float64), so each equals the target's
// rounding of the float32 value.
func Rounder(r potv1.Rounding) func(float64) float64 {
	switch r {
	case potv1.Rounding_ROUNDING_HALF_AWAY_FROM_ZERO:
		return math.Round
	case potv1.Rounding_ROUNDING_HALF_UP:
		return func(x float64) float64 { return math.Floor(x + 0.5) }
	case potv1.Rounding_ROUNDING_TOWARD_ZERO:
		return math.Trunc
	case potv1.Rounding_ROUNDING_DOWN:
		return math.Floor
	}
	return math.RoundToEven
}
