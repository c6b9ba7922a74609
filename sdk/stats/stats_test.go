package stats

import (
	"math"
	"testing"

	"github.com/potgo/pot/proto/potv1"
)

func TestReduce(t *testing.T) {
	// One sample of shape [2, 3]: channel 0 = {1, -4, 2}, channel 1 = {0.5, 3, -1}.
	data := []float32{1, -4, 2, 0.5, 3, -1}
	shape := []int{2, 3}
	var scratch []float32
	tests := []struct {
		name       string
		r          potv1.Reducer
		q          float64
		perChannel bool
		want       []float32
	}{
		{"min", potv1.Reducer_REDUCER_MIN, 0, false, []float32{-4}},
		{"max", potv1.Reducer_REDUCER_MAX, 0, false, []float32{3}},
		{"abs_max", potv1.Reducer_REDUCER_ABS_MAX, 0, false, []float32{4}},
		{"mean", potv1.Reducer_REDUCER_MEAN, 0, false, []float32{0.25}},
		{"min per channel", potv1.Reducer_REDUCER_MIN, 0, true, []float32{-4, -1}},
		{"abs_max per channel", potv1.Reducer_REDUCER_ABS_MAX, 0, true, []float32{4, 3}},
		{"mean per channel", potv1.Reducer_REDUCER_MEAN, 0, true, []float32{-1.0 / 3, 2.5 / 3}},
		// sorted: -4 -1 0.5 1 2 3; q=0.5 -> pos 2.5 -> (0.5+1)/2
		{"median quantile", potv1.Reducer_REDUCER_QUANTILE, 0.5, false, []float32{0.75}},
		// q=0.1 -> pos 0.5 -> -4 + 0.5*3
		{"low quantile", potv1.Reducer_REDUCER_QUANTILE, 0.1, false, []float32{-2.5}},
		{"top quantile", potv1.Reducer_REDUCER_QUANTILE, 1, false, []float32{3}},
		// |x| sorted: 0.5 1 1 2 3 4; q=0.9 -> pos 4.5 -> 3.5
		{"abs quantile", potv1.Reducer_REDUCER_ABS_QUANTILE, 0.9, false, []float32{3.5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]float32(nil), data...)
			got, err := Reduce(tc.r, tc.q, in, shape, tc.perChannel, 0, &scratch)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if math.Abs(float64(got[i]-tc.want[i])) > 1e-6 {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
			for i := range in {
				if in[i] != data[i] {
					t.Fatalf("Reduce modified its input")
				}
			}
		})
	}
}

func TestAggregate(t *testing.T) {
	// Per-sample values of one channel over 5 samples.
	samples := []float32{4, 1, 3, 100, 2}
	tests := []struct {
		agg  potv1.Aggregator
		want float64
	}{
		{potv1.Aggregator_AGGREGATOR_MEAN, 22},
		{potv1.Aggregator_AGGREGATOR_MAX, 100},
		{potv1.Aggregator_AGGREGATOR_MIN, 1},
		{potv1.Aggregator_AGGREGATOR_MEDIAN, 3},
		// q(0.01)=1.04, q(0.99)=96.16 over sorted {1,2,3,4,100}: keeps 2,3,4.
		{potv1.Aggregator_AGGREGATOR_MEAN_NO_OUTLIERS, 3},
		{potv1.Aggregator_AGGREGATOR_MEDIAN_NO_OUTLIERS, 3},
		// Pair sums of distinct samples: 5 7 104 6 4 101 3 103 5 102 -> sorted
		// 3 4 5 5 6 7 101 102 103 104: median (6+7)/2 = 6.5, halved 3.25.
		{potv1.Aggregator_AGGREGATOR_HL_ESTIMATOR, 3.25},
	}
	for _, tc := range tests {
		t.Run(tc.agg.String(), func(t *testing.T) {
			a, err := NewAccumulator(tc.agg, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range samples {
				if err := a.Add([]float32{s}); err != nil {
					t.Fatal(err)
				}
			}
			got, dims, err := a.Result()
			if err != nil {
				t.Fatal(err)
			}
			if len(dims) != 1 || dims[0] != 1 || math.Abs(float64(got[0])-tc.want) > 1e-5 {
				t.Fatalf("got %v %v, want %v", got, dims, tc.want)
			}
		})
	}
}

func TestAggregateNoneKeepsSamples(t *testing.T) {
	a, _ := NewAccumulator(potv1.Aggregator_AGGREGATOR_NONE, 0, 0)
	_ = a.Add([]float32{1, 2})
	_ = a.Add([]float32{3, 4})
	got, dims, err := a.Result()
	if err != nil || len(dims) != 2 || dims[0] != 2 || dims[1] != 2 || got[3] != 4 {
		t.Fatalf("got %v %v %v", got, dims, err)
	}
	if err := a.Add([]float32{1}); err == nil {
		t.Fatal("a sample with another channel count was accepted")
	}
}

func TestQuantileMatchesSort(t *testing.T) {
	v := []float32{9, 1, 8, 2, 7, 3, 6, 4, 5, 0}
	for _, q := range []float64{0, 0.001, 0.25, 0.5, 0.77, 0.999, 1} {
		sorted := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
		want := quantile64(sorted, q)
		got := Quantile(append([]float32(nil), v...), q)
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("q=%g: got %g, want %g", q, got, want)
		}
	}
}

// TestReduceAllMatchesDefinition checks the four-lane reductions against
// one-lane loops on every length up to 19 (each tail), with the extreme
// value in every position, and with infinities and NaNs.
func TestReduceAllMatchesDefinition(t *testing.T) {
	def := map[potv1.Reducer]func([]float32) float64{
		potv1.Reducer_REDUCER_MIN: func(v []float32) float64 {
			m := v[0]
			for _, x := range v {
				m = min(m, x)
			}
			return float64(m)
		},
		potv1.Reducer_REDUCER_MAX: func(v []float32) float64 {
			m := v[0]
			for _, x := range v {
				m = max(m, x)
			}
			return float64(m)
		},
		potv1.Reducer_REDUCER_ABS_MAX: func(v []float32) float64 {
			var m float64
			for _, x := range v {
				m = max(m, math.Abs(float64(x)))
			}
			return m
		},
		potv1.Reducer_REDUCER_MEAN: func(v []float32) float64 {
			var s float64
			for _, x := range v {
				s += float64(x)
			}
			return float64(float32(s / float64(len(v))))
		},
	}
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	for n := 1; n <= 19; n++ {
		for pos := 0; pos < n; pos++ {
			for _, special := range []float32{-9, 9, inf, -inf, nan} {
				v := make([]float32, n)
				for i := range v {
					v[i] = float32(math.Sin(float64(3*i + n)))
				}
				v[pos] = special
				for r, f := range def {
					got, err := reduceAll(r, 0, v, nil)
					if err != nil {
						t.Fatal(err)
					}
					want := f(v)
					if math.IsNaN(want) != math.IsNaN(float64(got)) || !math.IsNaN(want) && float64(got) != want {
						t.Errorf("%v of %v: %g, want %g", r, v, got, want)
					}
				}
			}
		}
	}
}

// TestReduceChannelsNotFirst reduces along the last axis, whose channels
// are gathered from every row.
func TestReduceChannelsNotFirst(t *testing.T) {
	// Shape [2, 3], channels on axis 1: {1, 0.5}, {-4, 3}, {2, -1}.
	data := []float32{1, -4, 2, 0.5, 3, -1}
	var scratch []float32
	for _, tc := range []struct {
		r    potv1.Reducer
		want []float32
	}{
		{potv1.Reducer_REDUCER_MIN, []float32{0.5, -4, -1}},
		{potv1.Reducer_REDUCER_MAX, []float32{1, 3, 2}},
		{potv1.Reducer_REDUCER_MEAN, []float32{0.75, -0.5, 0.5}},
	} {
		got, err := Reduce(tc.r, 0, data, []int{2, 3}, true, 1, &scratch)
		if err != nil {
			t.Fatal(err)
		}
		for i := range tc.want {
			if got[i] != tc.want[i] {
				t.Errorf("%v: %v, want %v", tc.r, got, tc.want)
				break
			}
		}
	}
}
