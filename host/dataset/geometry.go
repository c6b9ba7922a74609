package dataset

import (
	"image"
	"math"
)

// geometry is the resize-then-centre-crop applied to every image.
type geometry struct {
	resize         int // shorter side after resizing; 0 = keep
	coverW, coverH int // else resize to the smallest size covering this; 0 = keep
	cropW, cropH   int // centre crop; 0 = none
}

// resizes reports whether the geometry may change an image's size.
func (g geometry) resizes() bool { return g.resize > 0 || g.coverW > 0 }

// crops reports whether the geometry crops.
func (g geometry) crops() bool { return g.cropW > 0 }

// plan returns the resized size of a w×h image and the crop rectangle
// within the resized image. Resizing to a shorter side follows
// torchvision's Resize(int) (the longer side is truncated); the crop is
// centred with offsets rounded half to even, as torchvision's CenterCrop.
func (g geometry) plan(w, h int) (rw, rh int, crop image.Rectangle, err error) {
	rw, rh = w, h
	if w <= 0 || h <= 0 || w > maxImagePixels/h {
		return 0, 0, image.Rectangle{}, errorf(ErrFormat, "image of %d×%d pixels: want at least one, at most %d", w, h, maxImagePixels)
	}
	switch {
	case g.resize > maxImagePixels || g.coverW > maxImagePixels || g.coverH > maxImagePixels:
		return 0, 0, image.Rectangle{}, errorf(ErrFormat, "resizing a %d×%d image to %d (or to cover %d×%d) asks for more than the %d pixels pot reads", w, h, g.resize, g.coverW, g.coverH, maxImagePixels)
	case g.resize > 0:
		if w <= h {
			rw, rh = g.resize, int(int64(g.resize)*int64(h)/int64(w))
		} else {
			rw, rh = int(int64(g.resize)*int64(w)/int64(h)), g.resize
		}
	case g.coverW > 0 && g.coverH > 0 && (w != g.coverW || h != g.coverH):
		s := math.Max(float64(g.coverW)/float64(w), float64(g.coverH)/float64(h))
		rw = max(g.coverW, int(math.Round(float64(w)*s)))
		rh = max(g.coverH, int(math.Round(float64(h)*s)))
	}
	rw, rh = max(rw, 1), max(rh, 1)
	if rw > maxImagePixels/rh {
		return 0, 0, image.Rectangle{}, errorf(ErrFormat, "resizing a %d×%d image gives %d×%d pixels, more than the %d pot reads", w, h, rw, rh, maxImagePixels)
	}
	if g.cropW <= 0 || g.cropH <= 0 {
		return rw, rh, image.Rect(0, 0, rw, rh), nil
	}
	if g.cropW > rw || g.cropH > rh {
		return 0, 0, image.Rectangle{}, errorf(ErrFormat, "crop %d×%d is larger than the image (%d×%d after resizing)", g.cropW, g.cropH, rw, rh)
	}
	left := int(math.RoundToEven(float64(rw-g.cropW) / 2))
	top := int(math.RoundToEven(float64(rh-g.cropH) / 2))
	return rw, rh, image.Rect(left, top, left+g.cropW, top+g.cropH), nil
}
