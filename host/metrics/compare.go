package metrics

import (
	"fmt"
	"math"
)

// comparison kinds.
const (
	kindSQNR = iota
	kindCosine
	kindMSE
	kindPSNR
)

// compare measures the outputs of the model under evaluation against the
// float model's (Batch.Reference).
type compare struct {
	base
	kind      int
	dataRange float64 // PSNR only; <= 0: the reference's range

	signal, noise  float64 // pooled Σx², Σ(x−y)²
	elems          int     // pooled element count
	refMin, refMax float64 // pooled reference range
}

// NewSQNR returns the SQNR metric in dB (higher is better): per sample
// 10·log10(Σx²/Σ(x−y)²) with x the float reference and y the outputs; the
// aggregate pools the sums over all samples. See MaxDB for zero noise.
func NewSQNR() Metric { return &compare{base: base{name: "sqnr", higher: true}, kind: kindSQNR} }

// NewCosine returns the cosine similarity metric (higher is better): per
// sample Σxy/(‖x‖‖y‖), averaged over samples.
func NewCosine() Metric { return &compare{base: base{name: "cosine", higher: true}, kind: kindCosine} }

// NewMSE returns the mean squared error metric (lower is better): per
// sample the mean of (x−y)²; the aggregate is the mean over all elements.
func NewMSE() Metric { return &compare{base: base{name: "mse"}, kind: kindMSE} }

// NewPSNR returns the PSNR metric in dB (higher is better):
// 10·log10(R²/MSE) with R = dataRange (e.g. 1 or 255). When dataRange is
// <= 0, R is the peak-to-peak range of the reference: per sample, that
// sample's range; for the aggregate, the range over all samples.
func NewPSNR(dataRange float64) Metric {
	return &compare{base: base{name: "psnr", higher: true}, kind: kindPSNR, dataRange: dataRange}
}

// Add implements Metric.
func (m *compare) Add(b Batch) error {
	if b.N <= 0 {
		return nil
	}
	if b.Outputs == nil || b.Reference == nil {
		return fmt.Errorf("%s needs the model outputs and the float reference outputs", m.name)
	}
	if len(b.Outputs) != len(b.Reference) {
		return fmt.Errorf("%s: %d output values but %d reference values", m.name, len(b.Outputs), len(b.Reference))
	}
	d, err := perSample(m.name+": outputs", b.N, len(b.Outputs))
	if err != nil {
		return err
	}
	if m.elems == 0 {
		m.refMin, m.refMax = math.Inf(1), math.Inf(-1)
	}
	for i := range b.N {
		x := b.Reference[i*d : (i+1)*d]
		y := b.Outputs[i*d : (i+1)*d]
		var v float64
		switch m.kind {
		case kindSQNR:
			v = SQNR(x, y)
		case kindCosine:
			v = Cosine(x, y)
		case kindMSE:
			v = MSE(x, y)
		case kindPSNR:
			v = PSNR(x, y, m.dataRange)
		}
		m.values = append(m.values, v)
		sx, se, _ := errorSums(x, y)
		m.signal += sx
		m.noise += se
		lo, hi := minMax(x)
		m.refMin, m.refMax = math.Min(m.refMin, lo), math.Max(m.refMax, hi)
	}
	m.elems += len(b.Outputs)
	return nil
}

// Value implements Metric.
func (m *compare) Value() float64 {
	if len(m.values) == 0 {
		return math.NaN()
	}
	switch m.kind {
	case kindSQNR:
		return db(m.signal, m.noise)
	case kindCosine:
		return m.mean()
	case kindMSE:
		return m.noise / float64(m.elems)
	}
	r := m.dataRange
	if r <= 0 {
		r = m.refMax - m.refMin
	}
	return db(r*r, m.noise/float64(m.elems))
}

// Reset implements Metric.
func (m *compare) Reset() {
	m.values = m.values[:0]
	m.signal, m.noise, m.elems = 0, 0, 0
}
