package stats

import (
	"fmt"
	"math"
	"slices"

	"github.com/potgo/pot/proto/potv1"
)

// Accumulator aggregates per-sample values of one probe over the samples.
type Accumulator struct {
	agg       potv1.Aggregator
	low, high float64 // outlier quantiles of *_NO_OUTLIERS
	n         int
	channels  int
	run       []float64   // running sum (mean), min or max
	keep      [][]float32 // per-sample values, when the aggregator needs them
}

// NewAccumulator starts an aggregation. low and high are the quantiles
// outside which *_NO_OUTLIERS aggregators drop values (0 means 0.01 and
// 0.99).
func NewAccumulator(agg potv1.Aggregator, low, high float64) (*Accumulator, error) {
	if low == 0 {
		low = 0.01
	}
	if high == 0 {
		high = 0.99
	}
	if !(low >= 0 && low < high && high <= 1) {
		return nil, fmt.Errorf("outlier quantiles [%g, %g] are not within [0, 1] in order", low, high)
	}
	switch agg {
	case potv1.Aggregator_AGGREGATOR_MEAN, potv1.Aggregator_AGGREGATOR_MAX, potv1.Aggregator_AGGREGATOR_MIN,
		potv1.Aggregator_AGGREGATOR_MEDIAN, potv1.Aggregator_AGGREGATOR_MEAN_NO_OUTLIERS,
		potv1.Aggregator_AGGREGATOR_MEDIAN_NO_OUTLIERS, potv1.Aggregator_AGGREGATOR_HL_ESTIMATOR,
		potv1.Aggregator_AGGREGATOR_NONE:
	default:
		return nil, fmt.Errorf("unknown aggregator %v", agg)
	}
	return &Accumulator{agg: agg, low: low, high: high}, nil
}

// Add takes one sample's reduced values (one per channel, or one).
func (a *Accumulator) Add(v []float32) error {
	if a.n == 0 {
		a.channels = len(v)
		a.run = make([]float64, len(v))
		for i, x := range v {
			a.run[i] = float64(x)
		}
	} else {
		if len(v) != a.channels {
			return fmt.Errorf("sample has %d channels, earlier ones %d", len(v), a.channels)
		}
		switch a.agg {
		case potv1.Aggregator_AGGREGATOR_MEAN:
			for i, x := range v {
				a.run[i] += float64(x)
			}
		case potv1.Aggregator_AGGREGATOR_MAX:
			for i, x := range v {
				a.run[i] = math.Max(a.run[i], float64(x))
			}
		case potv1.Aggregator_AGGREGATOR_MIN:
			for i, x := range v {
				a.run[i] = math.Min(a.run[i], float64(x))
			}
		}
	}
	switch a.agg {
	case potv1.Aggregator_AGGREGATOR_MEAN, potv1.Aggregator_AGGREGATOR_MAX, potv1.Aggregator_AGGREGATOR_MIN:
	default:
		a.keep = append(a.keep, append([]float32(nil), v...))
	}
	a.n++
	return nil
}

// Samples is the number of samples added.
func (a *Accumulator) Samples() int { return a.n }

// Result returns the aggregate (one value per channel) and its dims; for
// AGGREGATOR_NONE, all per-sample values with dims [samples, channels].
func (a *Accumulator) Result() ([]float32, []int64, error) {
	if a.n == 0 {
		return nil, nil, fmt.Errorf("no samples")
	}
	c := a.channels
	out := make([]float32, c)
	switch a.agg {
	case potv1.Aggregator_AGGREGATOR_MEAN:
		for i := range out {
			out[i] = float32(a.run[i] / float64(a.n))
		}
	case potv1.Aggregator_AGGREGATOR_MAX, potv1.Aggregator_AGGREGATOR_MIN:
		for i := range out {
			out[i] = float32(a.run[i])
		}
	case potv1.Aggregator_AGGREGATOR_NONE:
		all := make([]float32, 0, a.n*c)
		for _, s := range a.keep {
			all = append(all, s...)
		}
		return all, []int64{int64(a.n), int64(c)}, nil
	default:
		col := make([]float64, a.n)
		for ch := 0; ch < c; ch++ {
			for i, s := range a.keep {
				col[i] = float64(s[ch])
			}
			out[ch] = float32(aggregateColumn(a.agg, col, a.low, a.high))
		}
	}
	return out, []int64{int64(c)}, nil
}

// aggregateColumn aggregates one channel's per-sample values. col is
// reordered.
func aggregateColumn(agg potv1.Aggregator, col []float64, low, high float64) float64 {
	switch agg {
	case potv1.Aggregator_AGGREGATOR_MEDIAN:
		return median(col)
	case potv1.Aggregator_AGGREGATOR_MEAN_NO_OUTLIERS, potv1.Aggregator_AGGREGATOR_MEDIAN_NO_OUTLIERS:
		slices.Sort(col)
		lo, hi := quantile64(col, low), quantile64(col, high)
		kept := col[:0:0]
		for _, x := range col {
			if x >= lo && x <= hi {
				kept = append(kept, x)
			}
		}
		if agg == potv1.Aggregator_AGGREGATOR_MEDIAN_NO_OUTLIERS {
			return median(kept)
		}
		var s float64
		for _, x := range kept {
			s += x
		}
		return s / float64(len(kept))
	case potv1.Aggregator_AGGREGATOR_HL_ESTIMATOR:
		return HodgesLehmann(col)
	}
	panic("unreachable")
}

// HodgesLehmann is the Hodges–Lehmann location estimate: the median of
// the means of all pairs of distinct samples (POT's hl_estimator). A
// single sample is its own estimate.
func HodgesLehmann(v []float64) float64 {
	n := len(v)
	if n == 1 {
		return v[0]
	}
	pairs := make([]float64, 0, n*(n-1)/2)
	for i := 1; i < n; i++ {
		for j := 0; j < i; j++ {
			pairs = append(pairs, v[i]+v[j])
		}
	}
	return 0.5 * median(pairs)
}
