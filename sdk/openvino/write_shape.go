package openvino

// Shapes of the values the writer writes: every IR port has dims, so the
// writer infers the dims of what each operation computes (-1 for a
// dimension that depends on a dynamic input dimension), and the values of
// the small integer tensors that shapes are computed from (Shape, Gather,
// Concat, ... before a Reshape), as far as they are known.

// broadcast is the numpy broadcast of two shapes.
func broadcast(a, b []int64) []int64 {
	if len(a) < len(b) {
		a, b = b, a
	}
	out := append([]int64{}, a...)
	off := len(a) - len(b)
	for i, d := range b {
		o := out[off+i]
		switch {
		case o == 1:
			out[off+i] = d
		case d == 1:
		case o == -1:
			if d > 1 {
				out[off+i] = d
			}
		}
	}
	return out
}

// broadcastParts applies f element by element to the known values of two
// small tensors, one of which may be a single element.
func broadcastParts(a, b []int64, f func(x, y int64) (int64, bool)) []int64 {
	if a == nil || b == nil {
		return nil
	}
	n := max(len(a), len(b))
	if (len(a) != n && len(a) != 1) || (len(b) != n && len(b) != 1) {
		return nil
	}
	out := make([]int64, n)
	for i := range out {
		x, y := a[min(i, len(a)-1)], b[min(i, len(b)-1)]
		out[i] = unk
		if x != unk && y != unk {
			if r, ok := f(x, y); ok {
				out[i] = r
			}
		}
	}
	return out
}

// normAxis maps a negative axis to its positive counterpart.
func normAxis(a int64, rank int) int64 {
	if a < 0 {
		a += int64(rank)
	}
	return a
}

// spatial computes the output size of a sliding window.
func spatial(in, k, s, d, pb, pe int64, autoPad string, ceil bool) int64 {
	if in < 0 {
		return -1
	}
	if s <= 0 {
		s = 1
	}
	if d <= 0 {
		d = 1
	}
	ek := (k-1)*d + 1
	switch autoPad {
	case "SAME_UPPER", "SAME_LOWER":
		return (in + s - 1) / s
	case "VALID":
		pb, pe = 0, 0
	}
	num := in + pb + pe - ek
	if num < 0 {
		return 0
	}
	if ceil {
		o := (num+s-1)/s + 1
		// The last window starts inside the input or its begin padding.
		if (o-1)*s >= in+pb {
			o--
		}
		return o
	}
	return num/s + 1
}

// dimsFromParts turns the known values of a shape tensor into dims (-1
// for unknown values).
func dimsFromParts(p []int64) []int64 {
	out := make([]int64, len(p))
	for i, x := range p {
		out[i] = x
		if x == unk || x < 0 {
			out[i] = -1
		}
	}
	return out
}

// reshapeDims computes the output dims of Reshape: shape values (unk
// unknown), 0 copying the input dim (unless allowZero), -1 inferred.
func reshapeDims(in []int64, shape []int64, allowZero bool) []int64 {
	out := make([]int64, len(shape))
	infer := -1
	for i, s := range shape {
		switch {
		case s == unk:
			out[i] = -1
		case s == 0 && !allowZero:
			out[i] = -1
			if i < len(in) {
				out[i] = in[i]
			}
		case s == -1:
			infer = i
			out[i] = -1
		default:
			out[i] = s
		}
	}
	if infer >= 0 {
		total := int64(1)
		for _, d := range in {
			if d < 0 {
				return out
			}
			total *= d
		}
		rest := int64(1)
		for i, d := range out {
			if i == infer {
				continue
			}
			if d < 0 {
				return out
			}
			rest *= d
		}
		if rest > 0 {
			out[infer] = total / rest
		}
	}
	return out
}

// sliceDim is the length of a slice of a dim of size d.
func sliceDim(d, start, end, step int64) int64 {
	if d < 0 || start == unk || end == unk || step == unk || step == 0 {
		return -1
	}
	clamp := func(x, lo, hi int64) int64 { return max(lo, min(hi, x)) }
	if start < 0 {
		start += d
	}
	if end < 0 {
		end += d
	}
	if step > 0 {
		start, end = clamp(start, 0, d), clamp(end, 0, d)
		if end <= start {
			return 0
		}
		return (end - start + step - 1) / step
	}
	start, end = clamp(start, -1, d-1), clamp(end, -1, d-1)
	if start <= end {
		return 0
	}
	return (start - end - step - 1) / -step
}

func ones(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = 1
	}
	return out
}

func numElements(dims []int64) int64 {
	n := int64(1)
	for _, d := range dims {
		if d < 0 {
			return -1
		}
		n *= d
	}
	return n
}
