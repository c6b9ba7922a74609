package stats

import (
	"fmt"
	"math"
	"slices"

	"github.com/potgo/pot/proto/potv1"
)

// Reduce computes a reducer over one sample. data holds the sample
// (row-major, shape shape). With perChannel, the result has one value per
// index of axis; otherwise one value. q is the quantile of the QUANTILE
// reducers. scratch is reused between calls to avoid allocation.
func Reduce(r potv1.Reducer, q float64, data []float32, shape []int, perChannel bool, axis int, scratch *[]float32) ([]float32, error) {
	if !perChannel {
		v, err := reduceAll(r, q, data, scratch)
		if err != nil {
			return nil, err
		}
		return []float32{v}, nil
	}
	if axis < 0 || axis >= len(shape) {
		return nil, fmt.Errorf("channel axis %d out of range for sample shape %v", axis, shape)
	}
	outer, inner := 1, 1
	for i := 0; i < axis; i++ {
		outer *= shape[i]
	}
	for i := axis + 1; i < len(shape); i++ {
		inner *= shape[i]
	}
	c := shape[axis]
	out := make([]float32, c)
	if inner == 1 && outer == 1 {
		// One value per channel: the statistic of a single value.
		for ch := 0; ch < c; ch++ {
			v, err := reduceAll(r, q, data[ch:ch+1], scratch)
			if err != nil {
				return nil, err
			}
			out[ch] = v
		}
		return out, nil
	}
	// A channel is contiguous when nothing precedes the channel axis (as
	// in NCHW samples); otherwise its pieces are gathered.
	var buf []float32
	if outer > 1 {
		buf = make([]float32, outer*inner)
	}
	for ch := 0; ch < c; ch++ {
		vals := data[ch*inner : (ch+1)*inner]
		if outer > 1 {
			k := 0
			for o := 0; o < outer; o++ {
				base := (o*c + ch) * inner
				k += copy(buf[k:], data[base:base+inner])
			}
			vals = buf
		}
		v, err := reduceAll(r, q, vals, scratch)
		if err != nil {
			return nil, err
		}
		out[ch] = v
	}
	return out, nil
}

func reduceAll(r potv1.Reducer, q float64, data []float32, scratch *[]float32) (float32, error) {
	if len(data) == 0 {
		return 0, fmt.Errorf("statistic of an empty tensor")
	}
	switch r {
	case potv1.Reducer_REDUCER_MIN:
		return extremum(data, false), nil
	case potv1.Reducer_REDUCER_MAX:
		return extremum(data, true), nil
	case potv1.Reducer_REDUCER_ABS_MAX:
		return absMax(data), nil
	case potv1.Reducer_REDUCER_MEAN:
		return mean(data), nil
	case potv1.Reducer_REDUCER_QUANTILE, potv1.Reducer_REDUCER_ABS_QUANTILE:
		if q < 0 || q > 1 || math.IsNaN(q) {
			return 0, fmt.Errorf("quantile %g outside [0, 1]", q)
		}
		buf := append((*scratch)[:0], data...)
		if r == potv1.Reducer_REDUCER_ABS_QUANTILE {
			for i, v := range buf {
				buf[i] = abs(v)
			}
		}
		*scratch = buf
		return float32(Quantile(buf, q)), nil
	}
	return 0, fmt.Errorf("unknown reducer %v", r)
}

// maxFinite is the largest finite float32.
const maxFinite = math.MaxFloat32

// The reductions below run four independent lanes, which is several
// times faster than one (statistics of every activation of every
// calibration sample go through them). A NaN anywhere makes the result
// NaN, as the builtin min and max do.

// extremum returns the smallest (or, with largest, the largest) value.
// The comparisons skip NaNs; the lanes' sums find them (and infinities),
// and the few tensors that have any take the one-lane loop.
func extremum(data []float32, largest bool) float32 {
	if m, ok := extremumVec(data, largest); ok {
		return m
	}
	m0, m1, m2, m3 := data[0], data[0], data[0], data[0]
	var s0, s1, s2, s3 float32
	i := 0
	if largest {
		for ; i+4 <= len(data); i += 4 {
			x := data[i : i+4 : i+4]
			s0, s1, s2, s3 = s0+x[0], s1+x[1], s2+x[2], s3+x[3]
			if x[0] > m0 {
				m0 = x[0]
			}
			if x[1] > m1 {
				m1 = x[1]
			}
			if x[2] > m2 {
				m2 = x[2]
			}
			if x[3] > m3 {
				m3 = x[3]
			}
		}
	} else {
		for ; i+4 <= len(data); i += 4 {
			x := data[i : i+4 : i+4]
			s0, s1, s2, s3 = s0+x[0], s1+x[1], s2+x[2], s3+x[3]
			if x[0] < m0 {
				m0 = x[0]
			}
			if x[1] < m1 {
				m1 = x[1]
			}
			if x[2] < m2 {
				m2 = x[2]
			}
			if x[3] < m3 {
				m3 = x[3]
			}
		}
	}
	if s := float64(s0) + float64(s1) + float64(s2) + float64(s3); math.IsNaN(s) || math.IsInf(s, 0) {
		i = 0
	}
	var m float32
	if largest {
		m = max(m0, m1, m2, m3)
		for _, v := range data[i:] {
			m = max(m, v)
		}
	} else {
		m = min(m0, m1, m2, m3)
		for _, v := range data[i:] {
			m = min(m, v)
		}
	}
	return m
}

// absMax returns the largest magnitude: the largest of the values' bit
// patterns without the sign, which orders non-negative floats as numbers
// and puts NaNs above infinity.
func absMax(data []float32) float32 {
	b0, i := absMaxVec(data)
	var b1, b2, b3 uint32
	for ; i+4 <= len(data); i += 4 {
		x := data[i : i+4 : i+4]
		b0 = max(b0, math.Float32bits(x[0])&^(1<<31))
		b1 = max(b1, math.Float32bits(x[1])&^(1<<31))
		b2 = max(b2, math.Float32bits(x[2])&^(1<<31))
		b3 = max(b3, math.Float32bits(x[3])&^(1<<31))
	}
	for _, v := range data[i:] {
		b0 = max(b0, math.Float32bits(v)&^(1<<31))
	}
	return math.Float32frombits(max(b0, b1, b2, b3))
}

// mean is the mean in float64.
func mean(data []float32) float32 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(data); i += 4 {
		x := data[i : i+4 : i+4]
		s0 += float64(x[0])
		s1 += float64(x[1])
		s2 += float64(x[2])
		s3 += float64(x[3])
	}
	for _, v := range data[i:] {
		s0 += float64(v)
	}
	return float32((s0 + s1 + s2 + s3) / float64(len(data)))
}

func abs(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// Quantile returns the q-quantile of v with linear interpolation between
// order statistics (numpy's default). v is reordered.
func Quantile(v []float32, q float64) float64 {
	n := len(v)
	if n == 1 {
		return float64(v[0])
	}
	pos := q * float64(n-1)
	lo := int(math.Floor(pos))
	if lo >= n-1 {
		return float64(selectK(v, n-1))
	}
	a := float64(selectK(v, lo))
	// After selecting lo, the next order statistic is the minimum above it.
	b := v[lo+1]
	for _, x := range v[lo+2:] {
		b = min(b, x)
	}
	frac := pos - float64(lo)
	return a + frac*(float64(b)-a)
}

// selectK partially orders v so that v[k] is its k-th smallest element,
// with smaller (or equal) ones before and larger (or equal) ones after.
func selectK(v []float32, k int) float32 {
	lo, hi := 0, len(v)-1
	for lo < hi {
		// Median of three pivot.
		mid := lo + (hi-lo)/2
		if v[mid] < v[lo] {
			v[mid], v[lo] = v[lo], v[mid]
		}
		if v[hi] < v[lo] {
			v[hi], v[lo] = v[lo], v[hi]
		}
		if v[hi] < v[mid] {
			v[hi], v[mid] = v[mid], v[hi]
		}
		pivot := v[mid]
		i, j := lo, hi
		for i <= j {
			for v[i] < pivot {
				i++
			}
			for v[j] > pivot {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
}

// median of a float64 slice (numpy semantics: mean of the middle two).
// v is sorted in place.
func median(v []float64) float64 {
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// quantile64 of sorted v, linear interpolation.
func quantile64(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 1 {
		return sorted[0]
	}
	pos := q * float64(n-1)
	lo := int(math.Floor(pos))
	if lo >= n-1 {
		return sorted[n-1]
	}
	return sorted[lo] + (pos-float64(lo))*(sorted[lo+1]-sorted[lo])
}
