package metrics

import (
	"fmt"
	"slices"
)

// topK is top-k accuracy: the fraction of samples whose label is among the
// k best classes.
type topK struct {
	base
	k int
}

// NewTopK returns the top-k accuracy metric (named "top<k>"): per sample 1
// when the label is among the k best-scored classes (from Outputs, ties
// broken by class index; or among the first k of TopK), else 0.
func NewTopK(k int) Metric {
	return &topK{base: base{name: fmt.Sprintf("top%d", k), higher: true}, k: max(k, 1)}
}

// Add implements Metric.
func (m *topK) Add(b Batch) error {
	if b.N <= 0 {
		return nil
	}
	if err := checkLabels(m.name, b); err != nil {
		return err
	}
	vals := make([]float64, b.N)
	switch {
	case b.Outputs != nil:
		d, err := perSample(m.name+": outputs", b.N, len(b.Outputs))
		if err != nil {
			return err
		}
		for i, l := range b.Labels {
			if l >= d {
				return fmt.Errorf("%s: label %d of sample %d is not one of the %d output classes", m.name, l, i, d)
			}
			if InTopK(b.Outputs[i*d:(i+1)*d], l, m.k) {
				vals[i] = 1
			}
		}
	case b.TopK != nil:
		k, err := perSample(m.name+": top-k indices", b.N, len(b.TopK))
		if err != nil {
			return err
		}
		if k < m.k {
			return fmt.Errorf("%s needs %d class indices per sample, the batch has %d", m.name, m.k, k)
		}
		for i, l := range b.Labels {
			if slices.Contains(b.TopK[i*k:i*k+m.k], l) {
				vals[i] = 1
			}
		}
	default:
		return fmt.Errorf("%s needs the model outputs or top-k indices", m.name)
	}
	m.values = append(m.values, vals...)
	return nil
}

// Value implements Metric: the fraction of correct samples.
func (m *topK) Value() float64 { return m.mean() }

// Reset implements Metric.
func (m *topK) Reset() { m.values = m.values[:0] }

// agreement is annotation-free accuracy: the fraction of samples on which
// the model's top-1 class equals the float model's.
type agreement struct{ base }

// NewAgreement returns the annotation-free agreement metric: per sample 1
// when the top-1 class of Outputs (or TopK) equals the top-1 class of
// Reference (or ReferenceTopK), else 0. Labels are not used.
func NewAgreement() Metric {
	return &agreement{base{name: "agreement", higher: true}}
}

// top1s returns the top-1 class of each of n samples, from scores or,
// when scores is nil, from top-k indices.
func top1s(what string, n int, scores []float32, topk []int) ([]int, error) {
	out := make([]int, n)
	switch {
	case scores != nil:
		d, err := perSample(what+" outputs", n, len(scores))
		if err != nil {
			return nil, err
		}
		for i := range out {
			out[i] = Argmax(scores[i*d : (i+1)*d])
		}
	case topk != nil:
		k, err := perSample(what+" top-k indices", n, len(topk))
		if err != nil {
			return nil, err
		}
		for i := range out {
			out[i] = topk[i*k]
		}
	default:
		return nil, fmt.Errorf("the %s outputs or top-k indices are missing", what)
	}
	return out, nil
}

// Add implements Metric.
func (m *agreement) Add(b Batch) error {
	if b.N <= 0 {
		return nil
	}
	got, err := top1s("model", b.N, b.Outputs, b.TopK)
	if err != nil {
		return fmt.Errorf("agreement: %w", err)
	}
	ref, err := top1s("float reference", b.N, b.Reference, b.ReferenceTopK)
	if err != nil {
		return fmt.Errorf("agreement: %w", err)
	}
	for i := range got {
		v := 0.0
		if got[i] == ref[i] {
			v = 1
		}
		m.values = append(m.values, v)
	}
	return nil
}

// Value implements Metric: the fraction of samples in agreement.
func (m *agreement) Value() float64 { return m.mean() }

// Reset implements Metric.
func (m *agreement) Reset() { m.values = m.values[:0] }
