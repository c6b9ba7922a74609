package dataset

import (
	"fmt"
	"math"
)

// MaxSampleElements is the most elements of one sample pot builds by
// itself rather than reads (a constant filled to a model input's shape,
// a generated sample): 64 Mi, 256 MiB of float32, far above any model
// input. The shapes come from a model or a flag, which may claim
// anything.
const MaxSampleElements = 1 << 26

// MaxBuildElements is the most elements pot builds at once for all the
// samples of an input (a constant repeated per sample, generated
// samples held in memory): 256 Mi.
const MaxBuildElements = 1 << 28

// BuildSize returns the element count of one sample of shape, checking
// that n such samples stay within MaxSampleElements each and
// MaxBuildElements in all.
func BuildSize(n int, shape []int) (int, error) {
	per := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("sample shape %v has a negative size", shape)
		}
		if d > 0 && per > math.MaxInt/d {
			return 0, fmt.Errorf("sample shape %v has more elements than an int holds", shape)
		}
		per *= d
	}
	switch {
	case per > MaxSampleElements:
		return 0, fmt.Errorf("a sample of shape %v has %d elements, more than the %d pot builds per sample", shape, per, MaxSampleElements)
	case per > 0 && n > MaxBuildElements/per:
		return 0, fmt.Errorf("%d samples of shape %v are more than the %d elements pot builds at once (use fewer samples)", n, shape, MaxBuildElements)
	}
	return per, nil
}
