package quant

import (
	"fmt"
	"math"

	"github.com/potgo/pot/proto/potv1"
)

// Levels returns a configuration's number of levels and storage range,
// as POT's compute_levels: symmetric weights use the narrow range
// [-2^(b-1)+1, 2^(b-1)-1] (2^b - 1 levels); everything else 2^b levels.
// Activations are stored unsigned when asymmetric or when their range
// starts at zero (unsigned = true); weights are stored signed. A config
// that fixes the integer range (level_low, level_high) keeps it, using
// its non-negative part for unsigned activations.
func Levels(o *potv1.QuantizationOption, weights, unsigned bool) (levels, low, high int64) {
	b := int64(o.GetBits())
	sym := o.GetMode() == potv1.QuantizationMode_QUANTIZATION_MODE_SYMMETRIC
	if o.GetHasLevels() {
		lo, hi := o.GetLevelLow(), o.GetLevelHigh()
		if unsigned && !weights && lo < 0 && hi > 0 {
			// A config that fixes a signed integer range (GNA's int16)
			// stores non-negative data in its positive half.
			return hi + 1, 0, hi
		}
		return hi - lo + 1, lo, hi
	}
	switch {
	case weights && sym:
		return 1<<b - 1, -(1 << (b - 1)) + 1, 1<<(b-1) - 1
	case weights:
		return 1 << b, -(1 << (b - 1)), 1<<(b-1) - 1
	case unsigned:
		return 1 << b, 0, 1<<b - 1
	}
	return 1 << b, -(1 << (b - 1)), 1<<(b-1) - 1
}

// FixZeroFiltersSymmetric raises each maximum to at least 1% of the
// largest one (and 8e-5), so that near-zero channels keep a usable scale
// (POT's fix_zero_filters_symmetric).
func FixZeroFiltersSymmetric(max []float64) {
	global := 0.0
	for _, v := range max {
		global = math.Max(global, v)
	}
	floor := math.Max(8e-5, 0.01*global)
	for i, v := range max {
		max[i] = math.Max(v, floor)
	}
}

// FixZeroFiltersAsymmetric widens ranges narrower than 8e-4 by 8e-4 on
// each side (POT's fix_zero_filters_asymmetric).
func FixZeroFiltersAsymmetric(min, max []float64) {
	const minCorrection = 8e-4
	for i := range min {
		if max[i]-min[i] <= minCorrection {
			min[i] -= minCorrection
			max[i] += minCorrection
		}
	}
}

// TuneRange moves one border of an asymmetric range [a, b] (a <= 0 <= b)
// so that zero falls exactly on one of the 2^bits - 1 steps. Of the two
// possible moves (the low border, or the high one) it keeps the one
// giving the larger range, so that no value inside [a, b] is clipped
// (POT's tune_range).
func TuneRange(a, b float64, bits int) (float64, float64) {
	levelHigh := math.Pow(2, float64(bits)) - 1
	if b-a <= 0 {
		return a, b
	}
	s := levelHigh / (b - a)
	q := math.RoundToEven(-a * s)
	ra, rb := a, b
	if q < levelHigh {
		ra = q / (q - levelHigh) * b
	}
	if q > 0 {
		rb = (q - levelHigh) / q * a
	}
	rangeA := b - ra
	rangeB := rb - a
	if rangeA > rangeB {
		return ra, b
	}
	return a, rb
}

// SymmetricRange turns a symmetric maximum into FakeQuantize bounds: [0,
// max] when the data is unsigned, else [-max·levels/(levels-2), max] for
// activations (zero on a level, 256 levels ⇒ scale max/127) and [-max,
// max] for narrow-range weights.
func SymmetricRange(max float64, levels int64, weights, unsigned bool) (lo, hi float64) {
	switch {
	case unsigned:
		return 0, max
	case weights && levels%2 == 1:
		return -max, max
	}
	return -max * float64(levels) / float64(levels-2), max
}

// isQuantile reports whether a reducer takes a quantile.
func isQuantile(r potv1.Reducer) bool {
	return r == potv1.Reducer_REDUCER_QUANTILE || r == potv1.Reducer_REDUCER_ABS_QUANTILE
}

// probe kinds of the default and quantile range estimators.
type estimator struct {
	reducer    potv1.Reducer
	aggregator potv1.Aggregator
	quantile   float64
	perChannel bool
	clip       *float64
}

// activationEstimators returns POT's range estimators (min side, max
// side) for an activation quantizer configuration and preset ("default"
// or "quantile"), with the user's overrides applied.
func activationEstimators(o *potv1.QuantizationOption, re *RangeEstimator) (min, max estimator, err error) {
	sym := o.GetMode() == potv1.QuantizationMode_QUANTIZATION_MODE_SYMMETRIC
	perCh := o.GetGranularity() == potv1.Granularity_GRANULARITY_PER_CHANNEL
	preset := "default"
	if re != nil && re.Preset != "" {
		preset = re.Preset
	}
	switch {
	case !perCh && sym:
		min = estimator{reducer: potv1.Reducer_REDUCER_MIN, aggregator: potv1.Aggregator_AGGREGATOR_MIN}
		max = estimator{reducer: potv1.Reducer_REDUCER_ABS_MAX, aggregator: potv1.Aggregator_AGGREGATOR_MEAN}
	case !perCh:
		min = estimator{reducer: potv1.Reducer_REDUCER_MIN, aggregator: potv1.Aggregator_AGGREGATOR_MEAN}
		max = estimator{reducer: potv1.Reducer_REDUCER_MAX, aggregator: potv1.Aggregator_AGGREGATOR_MEAN}
	case sym:
		min = estimator{reducer: potv1.Reducer_REDUCER_MIN, aggregator: potv1.Aggregator_AGGREGATOR_MIN}
		max = estimator{reducer: potv1.Reducer_REDUCER_ABS_MAX, aggregator: potv1.Aggregator_AGGREGATOR_MAX, perChannel: true}
	default:
		min = estimator{reducer: potv1.Reducer_REDUCER_MIN, aggregator: potv1.Aggregator_AGGREGATOR_MIN, perChannel: true}
		max = estimator{reducer: potv1.Reducer_REDUCER_MAX, aggregator: potv1.Aggregator_AGGREGATOR_MAX, perChannel: true}
	}
	switch preset {
	case "default":
	case "quantile":
		const outlier = 1e-4
		min.reducer, min.quantile = potv1.Reducer_REDUCER_QUANTILE, outlier
		if sym {
			max.reducer = potv1.Reducer_REDUCER_ABS_QUANTILE
		} else {
			max.reducer = potv1.Reducer_REDUCER_QUANTILE
		}
		max.quantile = 1 - outlier
	default:
		return min, max, fmt.Errorf("range_estimator preset %q is not default or quantile", preset)
	}
	if re != nil {
		if err := override(&min, re.Min, false); err != nil {
			return min, max, fmt.Errorf("range_estimator.min: %w", err)
		}
		if err := override(&max, re.Max, true); err != nil {
			return min, max, fmt.Errorf("range_estimator.max: %w", err)
		}
	}
	return min, max, nil
}

var reducers = map[string]potv1.Reducer{
	"min": potv1.Reducer_REDUCER_MIN, "max": potv1.Reducer_REDUCER_MAX, "abs_max": potv1.Reducer_REDUCER_ABS_MAX,
	"quantile": potv1.Reducer_REDUCER_QUANTILE, "abs_quantile": potv1.Reducer_REDUCER_ABS_QUANTILE,
}

var aggregators = map[string]potv1.Aggregator{
	"mean": potv1.Aggregator_AGGREGATOR_MEAN, "max": potv1.Aggregator_AGGREGATOR_MAX, "min": potv1.Aggregator_AGGREGATOR_MIN,
	"median": potv1.Aggregator_AGGREGATOR_MEDIAN, "mean_no_outliers": potv1.Aggregator_AGGREGATOR_MEAN_NO_OUTLIERS,
	"median_no_outliers": potv1.Aggregator_AGGREGATOR_MEDIAN_NO_OUTLIERS, "hl_estimator": potv1.Aggregator_AGGREGATOR_HL_ESTIMATOR,
}

func override(e *estimator, u *Estimator, isMax bool) error {
	if u == nil {
		return nil
	}
	if u.Type != "" {
		r, ok := reducers[u.Type]
		if !ok {
			return fmt.Errorf("type %q is not one of min, max, abs_max, quantile, abs_quantile", u.Type)
		}
		e.reducer = r
		if isQuantile(r) && e.quantile == 0 {
			e.quantile = 1e-4
			if isMax {
				e.quantile = 1 - 1e-4
			}
		}
	}
	if u.Aggregator != "" {
		a, ok := aggregators[u.Aggregator]
		if !ok {
			return fmt.Errorf("aggregator %q is not one of mean, max, min, median, mean_no_outliers, median_no_outliers, hl_estimator", u.Aggregator)
		}
		e.aggregator = a
	}
	if u.OutlierProb != nil {
		p := *u.OutlierProb
		if p < 0 || p >= 0.5 {
			return fmt.Errorf("outlier_prob %g is not in [0, 0.5)", p)
		}
		e.quantile = p
		if isMax {
			e.quantile = 1 - p
		}
	}
	switch u.Granularity {
	case "":
	case "pertensor":
		e.perChannel = false
	case "perchannel":
		e.perChannel = true
	default:
		return fmt.Errorf("granularity %q is not pertensor or perchannel", u.Granularity)
	}
	e.clip = u.ClippingValue
	return nil
}

// UnifyZeroPoint gives per-channel asymmetric ranges one shared zero
// point, as devices with a per-tensor zero point need (POT's
// tune_range_unify_zp, for VPU's unified_zeropoint weights): the zero
// point is the channels' average, rounded, and each channel's step grows
// just enough for its range to fit around it.
func UnifyZeroPoint(lo, hi []float64, levels int64) {
	steps := float64(levels - 1)
	var sum float64
	for i := range lo {
		s := (hi[i] - lo[i]) / steps
		if s > 0 {
			sum += -lo[i] / s
		}
	}
	z := math.Round(sum / float64(len(lo)))
	z = math.Max(1, math.Min(steps-1, z))
	for i := range lo {
		s := math.Max(-lo[i]/z, hi[i]/(steps-z))
		if s <= 0 {
			continue
		}
		lo[i], hi[i] = -z*s, (steps-z)*s
	}
}
