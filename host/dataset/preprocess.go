package dataset

// normalizer maps raw values to model inputs per channel:
// x = (v·scale − mean[c]) / std[c].
type normalizer struct {
	scale float64
	mean  []float64 // one per channel
	std   []float64 // one per channel
}

// newNormalizer builds the normalizer of descriptor d for data with the
// given number of channels. defaultScale applies when d sets no scale.
// Mean and std must have one value per channel; with broadcast, a single
// value also applies to every channel.
func newNormalizer(d Descriptor, channels int, defaultScale float64, broadcast bool) (normalizer, error) {
	n := normalizer{scale: defaultScale, mean: make([]float64, channels), std: make([]float64, channels)}
	if d.Scale != nil {
		n.scale = *d.Scale
	}
	fill := func(dst, src []float64, key string, def float64) error {
		switch {
		case src == nil:
			for c := range dst {
				dst[c] = def
			}
		case len(src) == len(dst):
			copy(dst, src)
		case broadcast && len(src) == 1:
			for c := range dst {
				dst[c] = src[0]
			}
		default:
			return errorf(ErrDescriptor, "%q has %d values but the data has %d channel%s", key, len(src), len(dst), plural(len(dst)))
		}
		return nil
	}
	if err := fill(n.mean, d.Mean, "mean", 0); err != nil {
		return normalizer{}, err
	}
	if err := fill(n.std, d.Std, "std", 1); err != nil {
		return normalizer{}, err
	}
	return n, nil
}

// apply normalizes raw value v of channel c.
func (n normalizer) apply(c int, v float64) float32 {
	return float32((v*n.scale - n.mean[c]) / n.std[c])
}

// lut returns the normalized value of every byte, per channel.
func (n normalizer) lut() [][256]float32 {
	t := make([][256]float32, len(n.mean))
	for c := range t {
		for v := range t[c] {
			t[c][v] = n.apply(c, float64(v))
		}
	}
	return t
}

// plural returns "s" unless n is 1.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
