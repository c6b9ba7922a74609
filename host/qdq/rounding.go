package qdq

import (
	"math"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/plan"
)

// Option configures Export.
type Option func(*exporter)

// WithRounding rounds the weights Export stores as integers the way the
// target's quantizers round them (TargetCapabilities.rounding), so that
// the QDQ model holds the levels the target computed with. Unspecified
// is half to even, ONNX's rounding and the default.
func WithRounding(r potv1.Rounding) Option {
	return func(e *exporter) { e.round = plan.Rounder(r) }
}

// level rounds a weight divided by its scale to a level; half to even,
// inlined, by default.
func (e *exporter) level(x float64) float64 {
	if e.round == nil {
		return math.RoundToEven(x)
	}
	return e.round(x)
}
