package ops

import (
	"fmt"
	"math"
)

// Rounding is how a quantizer rounds a value divided by its scale to an
// integer level. The runtime's quantizers (FakeQuantize, QuantizeLinear,
// DynamicQuantizeLinear) round as their Node's Rounding says, which a
// program sets from its options; the zero value is ONNX's half to even.
type Rounding uint8

// Roundings.
const (
	// RoundingHalfToEven rounds to the nearest integer, ties to even:
	// ONNX's QuantizeLinear, IEEE 754's default.
	RoundingHalfToEven Rounding = iota
	// RoundingHalfAwayFromZero rounds to the nearest integer, ties away
	// from zero (2.5 → 3, -2.5 → -3): C's round, TFLite's reference
	// kernels.
	RoundingHalfAwayFromZero
	// RoundingHalfUp rounds to the nearest integer, ties toward +∞
	// (2.5 → 3, -2.5 → -2): floor(x + 0.5), an add-and-shift in fixed
	// point.
	RoundingHalfUp
	// RoundingTowardZero truncates (2.7 → 2, -2.7 → -2).
	RoundingTowardZero
	// RoundingDown rounds toward -∞ (2.7 → 2, -2.2 → -3): an arithmetic
	// right shift in fixed point.
	RoundingDown
)

var roundingNames = [...]string{"half_to_even", "half_away_from_zero", "half_up", "toward_zero", "down"}

// String is the rounding's name, such as "half_to_even".
func (r Rounding) String() string {
	if int(r) < len(roundingNames) {
		return roundingNames[r]
	}
	return fmt.Sprintf("Rounding(%d)", uint8(r))
}

// Valid reports whether r is one of the roundings above.
func (r Rounding) Valid() bool { return int(r) < len(roundingNames) }

// Round rounds x to an integer; NaN and infinities stay as they are.
func (r Rounding) Round(x float32) float32 {
	f := float64(x)
	switch r {
	case RoundingHalfAwayFromZero:
		f = math.Round(f)
	case RoundingHalfUp:
		f = math.Floor(f + 0.5) // exact: x is a float32
	case RoundingTowardZero:
		f = math.Trunc(f)
	case RoundingDown:
		f = math.Floor(f)
	default:
		f = math.RoundToEven(f)
	}
	return float32(f)
}
