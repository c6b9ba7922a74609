package config

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/potgo/pot/host/dataset"
	"github.com/potgo/pot/host/feed"
	"github.com/potgo/pot/proto/potv1"
)

// generated is the data set of the data_free engine for a model with one
// input to generate: standard normal samples, the same for a given seed
// on every run.
type generated struct {
	n     int
	shape []int
	per   int
	seed  uint64
}

// Generate returns n generated samples for the inputs of a model that no
// constant feeds: standard normal values for float inputs. shape, when
// given, is the sample shape (with or without a leading batch dimension
// of the input's rank) of a model with one such input; shapes gives them
// by input name. A shape is required where an input has symbolic sizes
// past the batch. Integer inputs cannot be generated: they need a
// constant.
func Generate(inputs []feed.Input, shape []int, shapes map[string][]int, consts map[string]dataset.Constant, n int, seed int64) (dataset.Dataset, error) {
	if n <= 0 {
		return nil, fmt.Errorf("data_free engine: subset_size must be positive, got %d", n)
	}
	var gen []feed.Input
	for _, in := range inputs {
		if _, ok := consts[in.Name]; !ok {
			gen = append(gen, in)
		}
	}
	for name := range shapes {
		if !slices.ContainsFunc(gen, func(in feed.Input) bool { return in.Name == name }) {
			return nil, fmt.Errorf("data_free engine: shape of %q: the model has no input of that name to generate (its inputs: %s)%s",
				name, strings.Join(feed.Names(inputs), ", "), dataset.Suggest(name, feed.Names(inputs)))
		}
	}
	switch {
	case len(gen) == 0:
		return nil, fmt.Errorf("data_free engine: every model input is given a constant: nothing to generate")
	case len(shape) > 0 && len(gen) > 1:
		return nil, fmt.Errorf("data_free engine: the model has %d inputs to generate (%s): give a shape per input (--shape NAME=DIMS, or engine.shape as an object of input names)",
			len(gen), strings.Join(feed.Names(gen), ", "))
	}
	var arrays []dataset.Array
	for _, in := range gen {
		want := shapes[in.Name]
		if len(gen) == 1 && want == nil {
			want = shape
		}
		if in.DType != potv1.DataType_DATA_TYPE_FLOAT && in.DType != potv1.DataType_DATA_TYPE_DOUBLE {
			return nil, fmt.Errorf("data_free engine: input %s holds %s values, which pot does not generate: give its value (--constant %s=VALUE, or engine.constants)",
				in, strings.ToLower(strings.TrimPrefix(in.DType.String(), "DATA_TYPE_")), in.Name)
		}
		sample, err := sampleShape(in, want)
		if err != nil {
			return nil, err
		}
		if len(gen) == 1 {
			// Generated one sample at a time: only a sample is built.
			per, err := dataset.BuildSize(1, sample)
			if err != nil {
				return nil, fmt.Errorf("data_free engine: input %q: %w", in.Name, err)
			}
			return &generated{n: n, shape: sample, per: per, seed: uint64(seed)}, nil
		}
		per, err := dataset.BuildSize(n, sample)
		if err != nil {
			return nil, fmt.Errorf("data_free engine: input %q: %w", in.Name, err)
		}
		data := make([]float32, n*per)
		for i := 0; i < n; i++ {
			fillNormal(data[i*per:(i+1)*per], uint64(seed)+uint64(len(arrays))<<32, uint64(i))
		}
		arrays = append(arrays, dataset.Array{Name: in.Name, Shape: append([]int{n}, sample...), Data: data})
	}
	return dataset.NewNamed(fmt.Sprintf("%d generated samples", n), arrays, nil)
}

// sampleShape is the generated sample shape of an input: shape when
// given (with the input's rank it is fed whole, with one dimension less
// it is batched; a leading 1 where the input's first dimension is
// symbolic is the batch, left out so that samples batch), else the
// input's own dimensions past the batch.
func sampleShape(in feed.Input, shape []int) ([]int, error) {
	for _, d := range shape {
		if d <= 0 {
			return nil, fmt.Errorf("data_free engine: shape %v of input %q has a non-positive size", shape, in.Name)
		}
	}
	if len(shape) > 0 {
		if in.Shape != nil && len(shape) != len(in.Shape) && len(shape) != len(in.Shape)-1 {
			return nil, fmt.Errorf("data_free engine: shape %v does not fit input %s (give its shape, or its shape without the batch)", shape, in)
		}
		if in.Shape != nil {
			want := in.Shape
			if len(shape) < len(in.Shape) {
				want = in.Shape[1:]
			}
			for i, d := range want {
				if d > 0 && d != shape[i] {
					return nil, fmt.Errorf("data_free engine: shape %v does not fit input %s", shape, in)
				}
			}
		}
		if len(shape) == len(in.Shape) && len(shape) > 0 && in.Shape[0] <= 0 && shape[0] == 1 {
			return shape[1:], nil
		}
		return shape, nil
	}
	if len(in.Shape) < 1 {
		return nil, fmt.Errorf("data_free engine: the model input %s has no shape to generate; give one (--shape, or engine.shape)", in)
	}
	sample := in.Shape[1:]
	if slices.ContainsFunc(sample, func(d int) bool { return d <= 0 }) {
		return nil, fmt.Errorf("data_free engine: the model input %s has symbolic sizes; give its shape (--shape %s=DIMS, or engine.shape)", in, in.Name)
	}
	return sample, nil
}

// fillNormal writes standard normal values that depend only on the seed
// and the sample.
func fillNormal(dst []float32, seed, sample uint64) {
	r := rand.New(rand.NewPCG(seed, sample))
	for j := range dst {
		dst[j] = float32(r.NormFloat64())
	}
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
	fillNormal(dst, g.seed, uint64(i))
	return -1, nil
}
