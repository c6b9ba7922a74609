package ops

import (
	"math"
)

// Coordinate transformation and interpolation weights of Resize, one
// axis at a time.

// coordMode is Resize's coordinate_transformation_mode.
type coordMode int

const (
	coordHalfPixel coordMode = iota
	coordHalfPixelSymmetric
	coordPytorchHalfPixel
	coordAlignCorners
	coordAsymmetric
	coordTFHalfPixelForNN
	coordTFCropAndResize
)

var coordModes = map[string]coordMode{
	"half_pixel":           coordHalfPixel,
	"half_pixel_symmetric": coordHalfPixelSymmetric,
	"pytorch_half_pixel":   coordPytorchHalfPixel,
	"align_corners":        coordAlignCorners,
	"asymmetric":           coordAsymmetric,
	"tf_half_pixel_for_nn": coordTFHalfPixelForNN,
	"tf_crop_and_resize":   coordTFCropAndResize,
}

// nearestMode is Resize's nearest_mode; nearestSimple is the rounding of
// Resize-10 and Upsample: floor when upsampling, ceil when downsampling.
type nearestMode int

const (
	nearestRoundPreferFloor nearestMode = iota
	nearestRoundPreferCeil
	nearestFloor
	nearestCeil
	nearestSimple
)

var nearestModes = map[string]nearestMode{
	"round_prefer_floor": nearestRoundPreferFloor,
	"round_prefer_ceil":  nearestRoundPreferCeil,
	"floor":              nearestFloor,
	"ceil":               nearestCeil,
}

// interpMode is Resize's mode.
type interpMode int

const (
	interpNearest interpMode = iota
	interpLinear
	interpCubic
)

// axisResize describes the resizing of one axis: input length in, output
// length out, the scale (output/input, as given or derived from sizes)
// and the region of interest [roiStart, roiEnd] in normalized input
// coordinates (tf_crop_and_resize only).
type axisResize struct {
	in, out          int
	scale            float64
	roiStart, roiEnd float64
}

// original maps output coordinate o to the input coordinate it samples.
// ok is false when tf_crop_and_resize samples outside the input.
func (a axisResize) original(o int, mode coordMode) (x float64, ok bool) {
	fo := float64(o)
	in := float64(a.in)
	// The resized length as the scale implies, which is not an integer
	// when the scale does not divide evenly.
	length := a.scale * in
	switch mode {
	case coordHalfPixelSymmetric:
		adjustment := float64(a.out) / length
		center := in / 2
		return center*(1-adjustment) + (fo+0.5)/a.scale - 0.5, true
	case coordPytorchHalfPixel:
		if a.out <= 1 {
			return 0, true
		}
		return (fo+0.5)/a.scale - 0.5, true
	case coordAlignCorners:
		if length == 1 {
			return 0, true
		}
		return fo * (in - 1) / (length - 1), true
	case coordAsymmetric:
		return fo / a.scale, true
	case coordTFHalfPixelForNN:
		return (fo + 0.5) / a.scale, true
	case coordTFCropAndResize:
		if length == 1 {
			x = (a.roiEnd - a.roiStart) * (in - 1) / 2
		} else {
			x = fo * (a.roiEnd - a.roiStart) * (in - 1) / (length - 1)
		}
		x += a.roiStart * (in - 1)
		return x, x >= 0 && x <= in-1
	}
	return (fo+0.5)/a.scale - 0.5, true
}

// nearestIndex rounds an input coordinate to the sampled index, clamped
// into [0, in).
func (a axisResize) nearestIndex(x float64, mode nearestMode) int {
	f := math.Floor(x)
	var i float64
	switch {
	case x == f:
		i = x
	case mode == nearestFloor:
		i = f
	case mode == nearestCeil:
		i = f + 1
	case mode == nearestSimple:
		if a.scale < 1 {
			i = f + 1
		} else {
			i = f
		}
	case mode == nearestRoundPreferCeil:
		if x-f < 0.5 {
			i = f
		} else {
			i = f + 1
		}
	default:
		if x-f <= 0.5 {
			i = f
		} else {
			i = f + 1
		}
	}
	return int(min(max(i, 0), float64(a.in-1)))
}

// axisTaps are, per output index o, the input indices and weights that
// make up output o: idx[start[o]:start[o+1]] and w likewise. extra[o]
// marks outputs that take the extrapolation value.
type axisTaps struct {
	start []int
	idx   []int
	w     []float64
	extra []bool
}

// identity reports whether the taps copy the axis unchanged.
func (t *axisTaps) identity() bool {
	if len(t.start)-1 != len(t.idx) {
		return false
	}
	for o, i := range t.idx {
		if i != o || t.w[o] != 1 || t.extra[o] {
			return false
		}
	}
	return true
}

// resizeOptions are the attributes of Resize that shape the taps.
type resizeOptions struct {
	mode             interpMode
	coord            coordMode
	nearest          nearestMode
	cubicA           float64
	excludeOutside   bool
	antialias        bool
	extrapolationVal float64
}

// taps computes the interpolation taps of one axis.
func (a axisResize) taps(opt *resizeOptions) axisTaps {
	t := axisTaps{start: make([]int, 0, a.out+1), extra: make([]bool, a.out)}
	var coeffs []float64
	for o := range a.out {
		t.start = append(t.start, len(t.idx))
		x, ok := a.original(o, opt.coord)
		if !ok {
			t.extra[o] = true
			continue
		}
		if opt.mode == interpNearest {
			t.idx = append(t.idx, a.nearestIndex(x, opt.nearest))
			t.w = append(t.w, 1)
			continue
		}
		// base is the greatest index below x (or x-1 at an integer), so
		// that the ratio x-base lies in (0, 1].
		base := math.Ceil(x) - 1
		r := x - base
		first := 0
		coeffs = coeffs[:0]
		if opt.mode == interpLinear {
			first, coeffs = linearCoeffs(coeffs, r, a.scale, opt.antialias)
		} else {
			first, coeffs = cubicCoeffs(coeffs, r, a.scale, opt.cubicA, opt.antialias)
		}
		sum := 0.0
		for k, c := range coeffs {
			i := int(base) + first + k
			if opt.excludeOutside && (i < 0 || i >= a.in) {
				coeffs[k] = 0
				continue
			}
			sum += c
		}
		for k, c := range coeffs {
			i := int(base) + first + k
			if opt.excludeOutside {
				if i < 0 || i >= a.in {
					continue
				}
				if sum != 0 {
					c /= sum
				}
			}
			t.idx = append(t.idx, min(max(i, 0), a.in-1))
			t.w = append(t.w, c)
		}
	}
	t.start = append(t.start, len(t.idx))
	return t
}

// linearCoeffs returns the weights of linear interpolation at ratio r in
// (0, 1] past index base, for the indices base+first, base+first+1, ....
// With antialiasing, downscaling widens the triangle filter by 1/scale.
func linearCoeffs(dst []float64, r, scale float64, antialias bool) (int, []float64) {
	if !antialias || scale >= 1 {
		return 0, append(dst, 1-r, r)
	}
	first := int(math.Floor(-1/scale)) + 1
	n := 2 - 2*first
	sum := 0.0
	for k := range n {
		c := min(max(1-math.Abs((float64(first+k)-r)*scale), 0), 1)
		dst = append(dst, c)
		sum += c
	}
	for k := range dst {
		dst[k] /= sum
	}
	return first, dst
}

// cubicCoeffs is linearCoeffs for the cubic convolution kernel with
// coefficient a.
func cubicCoeffs(dst []float64, r, scale, a float64, antialias bool) (int, []float64) {
	if !antialias || scale >= 1 {
		return -1, append(dst, cubicKernel(1+r, a), cubicKernel(r, a), cubicKernel(1-r, a), cubicKernel(2-r, a))
	}
	first := int(math.Floor(-2/scale)) + 1
	end := 2 - first
	sum := 0.0
	for i := first; i < end; i++ {
		c := cubicKernel(scale*(float64(i)-r), a)
		dst = append(dst, c)
		sum += c
	}
	for k := range dst {
		dst[k] /= sum
	}
	return first, dst
}

// cubicKernel is Keys' cubic convolution kernel.
func cubicKernel(x, a float64) float64 {
	x = math.Abs(x)
	switch {
	case x <= 1:
		return ((a+2)*x-(a+3))*x*x + 1
	case x < 2:
		return ((a*x-5*a)*x+8*a)*x - 4*a
	}
	return 0
}
