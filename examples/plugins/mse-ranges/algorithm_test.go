package main

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/plugintest"
)

func quantizer(lo, hi float32, levels int64) *potv1.Quantizer {
	return &potv1.Quantizer{Id: "q", Levels: levels, InputLow: []float32{lo}, InputHigh: []float32{hi},
		OutputLow: []float32{lo}, OutputHigh: []float32{hi}}
}

func TestSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// Laplace-like values with a few far outliers: min/max ranges waste
	// levels on the outliers, a clipped range does better.
	heavy := make([]float64, 20000)
	for i := range heavy {
		heavy[i] = rng.ExpFloat64() * 0.1
		if rng.IntN(2) == 0 {
			heavy[i] = -heavy[i]
		}
	}
	heavy[0], heavy[1] = -1, 1
	uniform := make([]float64, 20000)
	for i := range uniform {
		uniform[i] = rng.Float64()*2 - 1
	}
	tests := []struct {
		name       string
		points     []float64
		lo, hi     float32
		levels     int64
		wantBelow1 bool
		wantAbove1 bool
	}{
		{"outliers are clipped", heavy, -1, 1, 16, true, false},
		{"a range that clips is widened", uniform, -0.5, 0.5, 256, false, true},
		{"uniform values keep their range", uniform, -1, 1, 16, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sets := []rangeSet{{q: quantizer(tc.lo, tc.hi, tc.levels), points: tc.points}}
			ratio, best, base := search(sets, 200, 0.05, 2)
			if best > base {
				t.Errorf("best MSE %g above the min/max MSE %g", best, base)
			}
			if tc.wantBelow1 && !(ratio < 0.7 && best < base*0.7) {
				t.Errorf("ratio %g, MSE %g from %g: want a clipped range and a much lower MSE", ratio, best, base)
			}
			if tc.wantAbove1 && !(ratio > 1.5 && best < base/4) {
				t.Errorf("ratio %g, MSE %g from %g: want a widened range", ratio, best, base)
			}
			// For uniform values a slight clipping is optimal.
			if !tc.wantAbove1 && !tc.wantBelow1 && math.Abs(ratio-1) > 0.1 {
				t.Errorf("ratio %g, want about 1", ratio)
			}
		})
	}
}

func TestFakeQuantize(t *testing.T) {
	tests := []struct{ x, want float64 }{
		{0, 0}, {0.26, 0.25}, {-0.74, -0.75}, {5, 1}, {-5, -1}, {0.125, 0}, {0.375, 0.5},
	}
	for _, tc := range tests {
		// 9 levels over [-1, 1]: a step of 0.25; ties round to even levels.
		if got := fakeQuantize(tc.x, -1, 1, 8); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("fakeQuantize(%g) = %g, want %g", tc.x, got, tc.want)
		}
	}
}

func TestSamplePoints(t *testing.T) {
	// Two samples, quantiles at 0, 0.5 and 1.
	q := [][]float32{{0, 10}, {1, 20}, {2, 30}}
	got, err := samplePoints(q, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0.25, 0.75, 1.25, 1.75, 12.5, 17.5, 22.5, 27.5}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-6 {
			t.Fatalf("points %v, want %v", got, want)
		}
	}
	if _, err := samplePoints([][]float32{{1}, {}}, 4); err == nil {
		t.Error("ragged quantiles accepted")
	}
}

// The plugin passes pot's conformance kit, in-process and as a binary,
// against the cpu target with MinMaxQuantization at hand.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds pot's cpu target and MinMaxQuantization")
	}
	root := filepath.Join("..", "..", "..")
	cpu := plugintest.Build(t, filepath.Join(root, "targets", "cmd", "pot-target-cpu"))
	minmax := plugintest.Build(t, filepath.Join(root, "algorithms", "cmd", "pot-algorithm-MinMaxQuantization"))
	opts := []plugintest.Option{plugintest.WithTargetBinary(cpu), plugintest.WithPluginDir(filepath.Dir(minmax)),
		plugintest.WithParams(`{"stat_subset_size": 32, "mse_candidates": 50}`)}
	t.Run("in-process", func(t *testing.T) { plugintest.TestAlgorithm(t, MSERanges{}, opts...) })
	t.Run("binary", func(t *testing.T) {
		plugintest.TestAlgorithmBinary(t, plugintest.Build(t, ".", "pot-algorithm-MSERanges"), opts...)
	})
}
