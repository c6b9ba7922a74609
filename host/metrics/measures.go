package metrics

import "math"

// MaxDB bounds the decibel values of SQNR and PSNR: outputs without any
// noise give MaxDB rather than +Inf (and a zero signal with noise gives
// -MaxDB), so that values stay finite in reports, JSON and averages.
// 200 dB is far beyond what float32 arithmetic can resolve (about 150 dB).
const MaxDB = 200.0

// greater reports whether class j ranks before class i in v: a larger
// value, or an equal value at a smaller index (NaN ranks first, as in
// numpy's argmax).
func greater(v []float32, j, i int) bool {
	a, b := v[j], v[i]
	if a != a { // NaN
		return b == b || j < i
	}
	return a > b || (a == b && j < i)
}

// Argmax returns the index of the largest value of v, the first on ties,
// the first NaN if there is one, and -1 for an empty v.
func Argmax(v []float32) int {
	if len(v) == 0 {
		return -1
	}
	best := 0
	for j := 1; j < len(v); j++ {
		if greater(v, j, best) {
			best = j
		}
	}
	return best
}

// InTopK reports whether class label is among the k best-ranked classes of
// v (ties broken by index, as Argmax). A NaN score for the label never
// counts; a label outside v never counts.
func InTopK(v []float32, label, k int) bool {
	if label < 0 || label >= len(v) || v[label] != v[label] {
		return false
	}
	rank := 0
	for j := range v {
		if j != label && greater(v, j, label) {
			rank++
			if rank >= k {
				return false
			}
		}
	}
	return rank < k
}

// errorSums returns Σx², Σ(x−y)² and Σy² in float64.
func errorSums(x, y []float32) (sx, se, sy float64) {
	for i, a := range x {
		b := float64(y[i])
		d := float64(a) - b
		sx += float64(a) * float64(a)
		se += d * d
		sy += b * b
	}
	return sx, se, sy
}

// db returns 10·log10(num/den) bounded to ±MaxDB: no noise (den = 0) gives
// MaxDB, no signal (num = 0) with noise gives -MaxDB. NaN stays NaN.
func db(num, den float64) float64 {
	if math.IsNaN(num) || math.IsNaN(den) {
		return math.NaN()
	}
	if den == 0 {
		return MaxDB
	}
	if num == 0 {
		return -MaxDB
	}
	return math.Max(-MaxDB, math.Min(MaxDB, 10*math.Log10(num/den)))
}

// SQNR returns the signal-to-quantization-noise ratio in dB of y against
// the reference x: 10·log10(Σx² / Σ(x−y)²), bounded to ±MaxDB (identical
// outputs give MaxDB). x and y must have the same length.
func SQNR(x, y []float32) float64 {
	sx, se, _ := errorSums(x, y)
	return db(sx, se)
}

// Cosine returns the cosine similarity of a and b: Σab / (‖a‖·‖b‖). Two
// all-zero vectors give 1, one all-zero vector 0.
func Cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i, x := range a {
		y := float64(b[i])
		ab += float64(x) * y
		aa += float64(x) * float64(x)
		bb += y * y
	}
	return cosine(ab, aa, bb)
}

// cosine finishes Cosine from its sums.
func cosine(ab, aa, bb float64) float64 {
	switch {
	case aa == 0 && bb == 0:
		return 1
	case aa == 0 || bb == 0:
		return 0
	}
	return math.Max(-1, math.Min(1, ab/(math.Sqrt(aa)*math.Sqrt(bb))))
}

// MSE returns the mean squared error between a and b (0 when empty).
func MSE(a, b []float32) float64 {
	if len(a) == 0 {
		return 0
	}
	_, se, _ := errorSums(a, b)
	return se / float64(len(a))
}

// PSNR returns the peak signal-to-noise ratio in dB of y against the
// reference x: 10·log10(R² / MSE), where R is dataRange, or when dataRange
// is <= 0 the peak-to-peak range of x. Bounded to ±MaxDB like SQNR.
func PSNR(x, y []float32, dataRange float64) float64 {
	if dataRange <= 0 {
		lo, hi := minMax(x)
		dataRange = hi - lo
	}
	return db(dataRange*dataRange, MSE(x, y))
}

// minMax returns the smallest and largest values of v (0, 0 when empty).
func minMax(v []float32) (lo, hi float64) {
	if len(v) == 0 {
		return 0, 0
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo = math.Min(lo, float64(x))
		hi = math.Max(hi, float64(x))
	}
	return lo, hi
}
