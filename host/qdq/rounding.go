package qdq

import (
	"math"

	"github.com/potgo/pot/proto/potv1"
)

// Option configures Export.
type Option func(*exporter)

// WithRounding rounds the weights Export stores as integers the way the
// target's quantizers round them (TargetCapabilities.rounding), so that
// the QDQ model holds the levels the target computed with. Unspecified
// is half to even, ONNX's rounding and the default.
func WithRounding(r potv1.Rounding) Option {
	return func(e *exporter) { e.round = rounder(r) }
}

// level rounds a weight divided by its scale to a level; half to even,
// inlined, by default.
func (e *exporter) level(x float64) float64 {
	if e.round == nil {
		return math.RoundToEven(x)
	}
	return e.round(x)
}

// rounder returns the function that rounds x/scale to a level under r,
// nil for half to even (level's default). x is a float32 quotient (exact
// in float64), so each equals the target's rounding of the float32
// value.
func rounder(r potv1.Rounding) func(float64) float64 {
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
	return nil
}
