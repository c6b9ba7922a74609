package metrics

import (
	"fmt"
	"math"
)

// Batch is one batch of results given to Metric.Add. N samples; each
// slice holds the samples one after another. A metric uses only the
// fields it needs (see Info) and reports missing ones.
type Batch struct {
	// N is the number of samples in the batch.
	N int
	// Outputs are the outputs of the model under evaluation (e.g. the
	// quantized model): N × D values, logits for classification.
	Outputs []float32
	// TopK are class indices of the model under evaluation, best first:
	// N × K values. Classification metrics use them when Outputs is nil
	// (targets may return top-k indices instead of logits).
	TopK []int
	// Labels are the ground-truth classes, N values.
	Labels []int
	// Reference are the float model's outputs for the same samples, laid
	// out as Outputs.
	Reference []float32
	// ReferenceTopK are the float model's top-k class indices, used by
	// agreement when Reference is nil.
	ReferenceTopK []int
}

// Metric accumulates one measure over batches.
type Metric interface {
	// Name is the registry name, e.g. "top1" or "psnr".
	Name() string
	// HigherBetter reports whether larger values are better.
	HigherBetter() bool
	// Add accumulates a batch. On error nothing is accumulated.
	Add(b Batch) error
	// Value is the aggregate over every sample added so far (NaN before
	// any sample). Accuracy-like metrics and cosine average the
	// per-sample values; SQNR, MSE and PSNR pool the squared errors of
	// all samples.
	Value() float64
	// PerSample returns one value per sample added, in order. Callers
	// must not modify it.
	PerSample() []float64
	// Count is the number of samples added.
	Count() int
	// Reset forgets every sample.
	Reset()
}

// perSample checks a flat per-sample slice and returns its per-sample
// length.
func perSample(field string, n, length int) (int, error) {
	if length == 0 || length%n != 0 {
		return 0, fmt.Errorf("%s holds %d values, not a positive multiple of the batch size %d", field, length, n)
	}
	return length / n, nil
}

// checkLabels checks that a batch carries N non-negative labels.
func checkLabels(name string, b Batch) error {
	if b.Labels == nil {
		return fmt.Errorf("%s needs labels (the data set is unlabelled; use agreement instead)", name)
	}
	if len(b.Labels) != b.N {
		return fmt.Errorf("%s: %d labels for a batch of %d", name, len(b.Labels), b.N)
	}
	for i, l := range b.Labels {
		if l < 0 {
			return fmt.Errorf("%s: sample %d has no label (%d)", name, i, l)
		}
	}
	return nil
}

// base holds the per-sample values and the common methods.
type base struct {
	name   string
	higher bool
	values []float64
}

// Name implements Metric.
func (m *base) Name() string { return m.name }

// HigherBetter implements Metric.
func (m *base) HigherBetter() bool { return m.higher }

// PerSample implements Metric.
func (m *base) PerSample() []float64 { return m.values }

// Count implements Metric.
func (m *base) Count() int { return len(m.values) }

// mean is the average of the per-sample values (NaN when empty).
func (m *base) mean() float64 {
	if len(m.values) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, v := range m.values {
		s += v
	}
	return s / float64(len(m.values))
}
