package ops

import "fmt"

// spatialAttrs are the window attributes shared by Conv, ConvTranspose
// and the pooling operators.
type spatialAttrs struct {
	autoPad   string
	kernel    []int // nil: taken from the weights
	strides   []int // nil: ones
	dilations []int // nil: ones
	pads      []int // nil: zeros; begins then ends
	ceil      bool
}

func readSpatialAttrs(n *Node) (spatialAttrs, error) {
	a := spatialAttrs{
		autoPad:   n.String("auto_pad", "NOTSET"),
		kernel:    intsOf(n.Ints("kernel_shape", nil)),
		strides:   intsOf(n.Ints("strides", nil)),
		dilations: intsOf(n.Ints("dilations", nil)),
		pads:      intsOf(n.Ints("pads", nil)),
		ceil:      n.Int("ceil_mode", 0) != 0,
	}
	switch a.autoPad {
	case "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER":
	default:
		return a, Unsupported(n, "auto_pad %q is", a.autoPad)
	}
	for _, attr := range []struct {
		name string
		v    []int
	}{{"kernel_shape", a.kernel}, {"strides", a.strides}, {"dilations", a.dilations}} {
		for _, v := range attr.v {
			if v < 1 {
				return a, fmt.Errorf("%s %v: values must be positive", attr.name, attr.v)
			}
			if v > maxWindow {
				return a, fmt.Errorf("%s %v: values must be at most %d", attr.name, attr.v, maxWindow)
			}
		}
	}
	for _, v := range a.pads {
		if v < 0 {
			return a, Unsupported(n, "negative pads %v are", a.pads)
		}
		if v > maxWindow {
			return a, fmt.Errorf("pads %v: values must be at most %d", a.pads, maxWindow)
		}
	}
	return a, nil
}

// maxWindow bounds the values of window attributes: far above what a
// real model uses (a kernel, stride, dilation or pad of 16 million), low
// enough that window arithmetic on them cannot overflow.
const maxWindow = 1 << 24

func intsOf(v []int64) []int {
	if v == nil {
		return nil
	}
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// window is a resolved sliding window over the spatial dimensions.
type window struct {
	in, kernel, strides, dilations, padBegin, padEnd, out []int
}

// resolve computes the padding and output extent of a window over the
// spatial input dimensions in, for the kernel shape kernel.
func (a spatialAttrs) resolve(in, kernel []int) (window, error) {
	nd := len(in)
	w := window{
		in: in, kernel: kernel,
		strides: onesIfNil(a.strides, nd), dilations: onesIfNil(a.dilations, nd),
		padBegin: make([]int, nd), padEnd: make([]int, nd), out: make([]int, nd),
	}
	if len(kernel) != nd || len(w.strides) != nd || len(w.dilations) != nd {
		return w, fmt.Errorf("window: %d spatial dimensions, but kernel %v, strides %v, dilations %v", nd, kernel, w.strides, w.dilations)
	}
	if a.pads != nil && a.autoPad == "NOTSET" {
		if len(a.pads) != 2*nd {
			return w, fmt.Errorf("window: pads %v for %d spatial dimensions", a.pads, nd)
		}
		copy(w.padBegin, a.pads[:nd])
		copy(w.padEnd, a.pads[nd:])
	}
	for d := 0; d < nd; d++ {
		eff := (kernel[d]-1)*w.dilations[d] + 1
		s := w.strides[d]
		switch a.autoPad {
		case "SAME_UPPER", "SAME_LOWER":
			w.out[d] = (in[d] + s - 1) / s
			total := max(0, (w.out[d]-1)*s+eff-in[d])
			small := total / 2
			if a.autoPad == "SAME_UPPER" {
				w.padBegin[d], w.padEnd[d] = small, total-small
			} else {
				w.padBegin[d], w.padEnd[d] = total-small, small
			}
			continue
		case "VALID":
			w.padBegin[d], w.padEnd[d] = 0, 0
		}
		span := in[d] + w.padBegin[d] + w.padEnd[d] - eff
		if span < 0 {
			return w, fmt.Errorf("window: kernel extent %d exceeds padded input %d in dimension %d", eff, in[d]+w.padBegin[d]+w.padEnd[d], d)
		}
		if a.ceil {
			w.out[d] = (span+s-1)/s + 1
			// The last window must start inside the input or its
			// leading padding.
			if (w.out[d]-1)*s >= in[d]+w.padBegin[d] {
				w.out[d]--
			}
		} else {
			w.out[d] = span/s + 1
		}
	}
	return w, nil
}

func onesIfNil(v []int, n int) []int {
	if v != nil {
		return v
	}
	out := make([]int, n)
	for i := range out {
		out[i] = 1
	}
	return out
}
