package plugintest

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/potgo/pot/proto/potv1"
)

// ReferenceProbes are the statistics the suite asks a target for on the
// reference model: per tensor, per-sample min, max, abs-max and mean
// aggregated by mean, min and max, per-channel max and min, and the
// per-sample max without aggregation.
func ReferenceProbes() []*potv1.StatisticProbe {
	type p struct {
		r     potv1.Reducer
		a     potv1.Aggregator
		perCh bool
	}
	kinds := []p{
		{potv1.Reducer_REDUCER_MIN, potv1.Aggregator_AGGREGATOR_MEAN, false},
		{potv1.Reducer_REDUCER_MIN, potv1.Aggregator_AGGREGATOR_MIN, false},
		{potv1.Reducer_REDUCER_MAX, potv1.Aggregator_AGGREGATOR_MAX, false},
		{potv1.Reducer_REDUCER_MAX, potv1.Aggregator_AGGREGATOR_MEAN, false},
		{potv1.Reducer_REDUCER_ABS_MAX, potv1.Aggregator_AGGREGATOR_MEAN, false},
		{potv1.Reducer_REDUCER_MEAN, potv1.Aggregator_AGGREGATOR_MEAN, false},
		{potv1.Reducer_REDUCER_MAX, potv1.Aggregator_AGGREGATOR_NONE, false},
		{potv1.Reducer_REDUCER_MAX, potv1.Aggregator_AGGREGATOR_MAX, true},
		{potv1.Reducer_REDUCER_MIN, potv1.Aggregator_AGGREGATOR_MEAN, true},
	}
	var out []*potv1.StatisticProbe
	for _, tensor := range []string{"X", "mm", "biased", "out"} {
		for _, k := range kinds {
			id := fmt.Sprintf("%s/%s/%s", tensor, k.r, k.a)
			if k.perCh {
				id += "/per-channel"
			}
			out = append(out, &potv1.StatisticProbe{Id: id, Tensor: tensor, Reducer: k.r, Aggregator: k.a, PerChannel: k.perCh, ChannelAxis: 1})
		}
	}
	return out
}

// expected computes a probe on the reference: per sample, the reduction;
// then the aggregation over samples. It returns the values and, for
// AGGREGATOR_NONE, the dims [samples, channels].
func (r *Reference) expected(p *potv1.StatisticProbe) ([]float64, error) {
	vals, ok := r.Values[p.GetTensor()]
	if !ok {
		return nil, fmt.Errorf("no reference tensor %q", p.GetTensor())
	}
	c := r.Channels(p.GetTensor())
	per := make([][]float64, r.N) // per sample: one value, or one per channel
	for s := 0; s < r.N; s++ {
		row := vals[s*c : (s+1)*c]
		if p.GetPerChannel() {
			per[s] = append([]float64(nil), row...) // one element per channel: its own statistic
			if p.GetReducer() == potv1.Reducer_REDUCER_ABS_MAX {
				for i := range per[s] {
					per[s][i] = math.Abs(per[s][i])
				}
			}
			continue
		}
		var v float64
		switch p.GetReducer() {
		case potv1.Reducer_REDUCER_MIN:
			v = slices.Min(row)
		case potv1.Reducer_REDUCER_MAX:
			v = slices.Max(row)
		case potv1.Reducer_REDUCER_ABS_MAX:
			for _, x := range row {
				v = math.Max(v, math.Abs(x))
			}
		case potv1.Reducer_REDUCER_MEAN:
			for _, x := range row {
				v += x
			}
			v /= float64(len(row))
		default:
			return nil, fmt.Errorf("reducer %v has no reference", p.GetReducer())
		}
		per[s] = []float64{v}
	}
	if p.GetAggregator() == potv1.Aggregator_AGGREGATOR_NONE {
		var out []float64
		for _, v := range per {
			out = append(out, v...)
		}
		return out, nil
	}
	out := make([]float64, len(per[0]))
	for ch := range out {
		col := make([]float64, r.N)
		for s := range col {
			col[s] = per[s][ch]
		}
		switch p.GetAggregator() {
		case potv1.Aggregator_AGGREGATOR_MEAN:
			for _, x := range col {
				out[ch] += x
			}
			out[ch] /= float64(len(col))
		case potv1.Aggregator_AGGREGATOR_MIN:
			out[ch] = slices.Min(col)
		case potv1.Aggregator_AGGREGATOR_MAX:
			out[ch] = slices.Max(col)
		default:
			return nil, fmt.Errorf("aggregator %v has no reference", p.GetAggregator())
		}
	}
	return out, nil
}

// scale is the largest magnitude of a reference tensor (at least 1).
func (r *Reference) scale(tensor string) float64 {
	m := 1.0
	for _, v := range r.Values[tensor] {
		m = math.Max(m, math.Abs(v))
	}
	return m
}

// CheckStatistics compares a target's answer to ReferenceProbes with the
// statistics computed here, within tol relative to each tensor's largest
// magnitude.
func CheckStatistics(r *Reference, probes []*potv1.StatisticProbe, resp *potv1.StatisticsResponse, tol float64) error {
	got := map[string]*potv1.StatisticValue{}
	for _, v := range resp.GetValues() {
		got[v.GetProbeId()] = v
	}
	var errs []error
	if resp.GetSamples() != int64(r.N) {
		errs = append(errs, fmt.Errorf("statistics over %d samples, want %d", resp.GetSamples(), r.N))
	}
	for _, p := range probes {
		want, err := r.expected(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		v := got[p.GetId()]
		if v == nil {
			errs = append(errs, fmt.Errorf("probe %q: no value", p.GetId()))
			continue
		}
		if len(v.GetValues()) != len(want) {
			errs = append(errs, fmt.Errorf("probe %q: %d values, want %d", p.GetId(), len(v.GetValues()), len(want)))
			continue
		}
		if p.GetAggregator() == potv1.Aggregator_AGGREGATOR_NONE {
			if d := v.GetDims(); len(d) != 2 || d[0] != int64(r.N) || d[0]*d[1] != int64(len(want)) {
				errs = append(errs, fmt.Errorf("probe %q: dims %v, want [%d, %d]", p.GetId(), d, r.N, len(want)/r.N))
			}
		}
		limit := tol * r.scale(p.GetTensor())
		for i, w := range want {
			if g := float64(v.GetValues()[i]); math.Abs(g-w) > limit || math.IsNaN(g) {
				errs = append(errs, fmt.Errorf("probe %q: value %d is %g, the float reference %g (tolerance %g)", p.GetId(), i, g, w, limit))
				break
			}
		}
	}
	return errors.Join(errs...)
}

// compareValues compares outputs with a reference tensor within tol
// relative to its largest magnitude.
func compareValues(name string, got []float32, want []float64, tol, scale float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i, w := range want {
		if g := float64(got[i]); math.Abs(g-w) > tol*scale || math.IsNaN(g) {
			return fmt.Errorf("%s: value %d is %g, the float reference %g", name, i, g, w)
		}
	}
	return nil
}
