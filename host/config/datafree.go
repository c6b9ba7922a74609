package config

import (
	"fmt"
	"math/rand/v2"

	"github.com/potgo/pot/host/dataset"
)

// generated is the data set of the data_free engine: standard normal
// samples, the same for a given seed on every run.
type generated struct {
	n     int
	shape []int
	per   int
	seed  uint64
}

// Generate returns n samples of standard normal values for a model input
// of shape input. shape, when given, is the sample shape (with or without
// a leading batch dimension of the input's rank); it is required when the
// input has symbolic sizes past the batch.
func Generate(input, shape []int, n int, seed int64) (dataset.Dataset, error) {
	if n <= 0 {
		return nil, fmt.Errorf("data_free engine: subset_size must be positive, got %d", n)
	}
	var sample []int
	switch {
	case len(shape) > 0:
		sample = shape
		if len(input) > 0 && len(shape) == len(input) {
			sample = shape[1:]
		}
		if err := dataset.CheckShape(sample, "input", input); err != nil {
			return nil, fmt.Errorf("data_free engine: engine.shape %v: %w", shape, err)
		}
	case len(input) > 1:
		sample = input[1:]
		for _, d := range sample {
			if d <= 0 {
				return nil, fmt.Errorf("data_free engine: the model input has shape %s with symbolic sizes; give engine.shape (or --shape)", dataset.FormatShape(input, true))
			}
		}
	default:
		return nil, fmt.Errorf("data_free engine: the model input has shape %s; give engine.shape (or --shape)", dataset.FormatShape(input, true))
	}
	per := 1
	for _, d := range sample {
		if d <= 0 {
			return nil, fmt.Errorf("data_free engine: shape %v has a non-positive size", shape)
		}
		per *= d
	}
	return &generated{n: n, shape: sample, per: per, seed: uint64(seed)}, nil
}

func (g *generated) Len() int           { return g.n }
func (g *generated) SampleShape() []int { return g.shape }
func (g *generated) Labelled() bool     { return false }
func (g *generated) String() string {
	return fmt.Sprintf("%d generated samples of shape %s", g.n, dataset.FormatShape(g.shape, false))
}

// Read implements dataset.Dataset: sample i depends only on the seed and i.
func (g *generated) Read(i int, dst []float32) (int, error) {
	if i < 0 || i >= g.n {
		return -1, fmt.Errorf("sample %d out of range [0, %d)", i, g.n)
	}
	if len(dst) != g.per {
		return -1, fmt.Errorf("buffer of %d values for samples of %d", len(dst), g.per)
	}
	r := rand.New(rand.NewPCG(g.seed, uint64(i)))
	for j := range dst {
		dst[j] = float32(r.NormFloat64())
	}
	return -1, nil
}
