//go:build amd64 && !noasm

package kernels

//go:noescape
func copyRowsAVX(dst *float32, dstStride int, src *float32, srcStride int, rows int, n int)

// copyRows copies rows rows of n floats from src (rows srcStride apart)
// to dst (rows dstStride apart).
func copyRows(dst []float32, dstStride int, src []float32, srcStride int, rows, n int) {
	if rows <= 0 || n <= 0 {
		return
	}
	// Bounds: the last row must fit in both slices.
	_ = dst[(rows-1)*dstStride+n-1]
	_ = src[(rows-1)*srcStride+n-1]
	if !hasAVX2FMA {
		copyRowsGo(dst, dstStride, src, srcStride, rows, n)
		return
	}
	copyRowsAVX(&dst[0], dstStride, &src[0], srcStride, rows, n)
}

//go:noescape
func depthwiseAVX(w *float32, b *float32, offs *int, taps int, c *float32, n int, bias float32)

// depthwiseVec computes the first n&^7 columns of Depthwise and returns
// how many it did.
func depthwiseVec(w, b []float32, offs []int, n int, c []float32, bias float32) int {
	if !hasAVX2FMA || n < 8 || len(offs) == 0 {
		return 0
	}
	depthwiseAVX(&w[0], &b[0], &offs[0], len(offs), &c[0], n, bias)
	return n &^ 7
}

//go:noescape
func reluAVX(dst *float32, src *float32, n int)

// reluVec handles the first len(dst)&^31 elements of ReLU and returns
// how many it did.
func reluVec(dst, src []float32) int {
	n := len(dst)
	if !hasAVX2FMA || n < 32 {
		return 0
	}
	reluAVX(&dst[0], &src[0], n)
	return n &^ 31
}

//go:noescape
func deinterleave2AVX(even *float32, odd *float32, src *float32, pairs int)

// deinterleave2 splits src into its even and odd elements.
func deinterleave2(even, odd, src []float32) {
	pairs := len(src) / 2
	even, odd = even[:(len(src)+1)/2], odd[:pairs]
	done := 0
	if hasAVX2FMA && pairs >= 8 {
		deinterleave2AVX(&even[0], &odd[0], &src[0], pairs)
		done = pairs &^ 7
	}
	deinterleave2Go(even[done:], odd[done:], src[2*done:])
}

//go:noescape
func depthwiseMaskedZ(w *float32, b *float32, offs *int, taps int, c *float32, n int, bias *float32, masks *uint32, col int, chans int, inStride int, outStride int)

// depthwiseMasked computes DirectConv.Depthwise's n > 0 columns from col
// of chans channels with the AVX-512 kernel and reports true, or reports
// false without AVX-512. masks are those of the blocks from col (a
// multiple of 32); the caller has checked the ranges.
func depthwiseMasked(w, b []float32, inStride, col int, offs []int, n int, c []float32, ld int, bias []float32, chans int, masks []uint32) bool {
	if !hasAVX512 {
		return false
	}
	_ = c[(chans-1)*ld+n-1]
	_ = w[chans*len(offs)-1]
	_ = masks[((n-1)/nrWide+1)*len(offs)-1]
	var bp *float32
	if bias != nil {
		_ = bias[chans-1]
		bp = &bias[0]
	}
	depthwiseMaskedZ(&w[0], &b[0], &offs[0], len(offs), &c[0], n, bp, &masks[0], col, chans, inStride, ld)
	return true
}

//go:noescape
func depthwiseMaskedV(w *float32, b *float32, offs *int, taps int, c *float32, n int, bias *float32, masks *int32, col int, chans int, inStride int, outStride int, safeLo int, safeHi int, blen int)

//go:noescape
func depthwise4V(w *float32, b *float32, offs *int, taps int, c *float32, n int, bias *float32, masks *int32, col int, inStride int, outStride int)

// depthwiseMaskedAVX2 computes DirectConv.Depthwise's n > 0 columns from
// col (a multiple of 16, and n too) of chans channels with the AVX2
// kernels and reports true, or reports false without AVX2 and FMA.
// masks are the vector masks of the blocks from col; lo and hi are the
// least and greatest tap offsets; the caller has checked the ranges.
// Blocks whose rows all lie inside b go four channels at a time
// (depthwise4V), others one channel at a time with their rows checked
// (depthwiseMaskedV). Only the first channel's rows can leave b at its
// start, and only the last's at its end (with inStride > 0, when the
// taps reach less than a plane away): those two go on their own, so that
// the others' blocks are all inside b, when that leaves fewer blocks to
// the one-channel kernel (two channels' blocks rather than every
// channel's blocks at the start: small images of many channels).
func depthwiseMaskedAVX2(w, b []float32, inStride, col int, offs []int, n int, c []float32, ld int, bias []float32, chans int, masks []int32, lo, hi int) bool {
	if !hasAVX2FMA {
		return false
	}
	taps := len(offs)
	_ = c[(chans-1)*ld+n-1]
	_ = w[chans*taps-1]
	_ = masks[n*taps-1]
	if bias != nil {
		_ = bias[chans-1]
	}
	if inStride > 0 && chans >= 3 && 2*(n/nr) < chans*((-lo+nr-1)/nr) {
		depthwiseGroupAVX2(w, b, inStride, col, offs, n, c, ld, bias, 0, 1, masks, lo, hi)
		depthwiseGroupAVX2(w, b, inStride, col, offs, n, c, ld, bias, 1, chans-1, masks, lo, hi)
		depthwiseGroupAVX2(w, b, inStride, col, offs, n, c, ld, bias, chans-1, chans, masks, lo, hi)
		return true
	}
	depthwiseGroupAVX2(w, b, inStride, col, offs, n, c, ld, bias, 0, chans, masks, lo, hi)
	return true
}

// depthwiseGroupAVX2 is depthwiseMaskedAVX2 for channels [c0, c1).
func depthwiseGroupAVX2(w, b []float32, inStride, col int, offs []int, n int, c []float32, ld int, bias []float32, c0, c1 int, masks []int32, lo, hi int) {
	taps := len(offs)
	// Block q (a column) has the rows of every channel of the group
	// inside b when c0·inStride+q+lo ≥ 0 and (c1-1)·inStride+q+16+hi ≤
	// len(b): q in [safeLo, safeHi]; those from col are [jlo, jhi).
	safeLo, safeHi := -lo-c0*inStride, len(b)-(c1-1)*inStride-nr-hi
	jlo := min(max(safeLo-col+nr-1, 0)/nr*nr, n)
	jhi := min(max(safeHi-col+nr, 0)/nr*nr, n)
	if jhi <= jlo || c1-c0 < 4 {
		jlo, jhi = n, n
	}
	// run computes blocks [j0, j1) of channels [ch0, ch0+chs) one
	// channel at a time.
	run := func(j0, j1, ch0, chs int) {
		if j0 >= j1 || chs == 0 {
			return
		}
		var bp *float32
		if bias != nil {
			bp = &bias[ch0]
		}
		// The kernel's safe range and bounds are for its own channels,
		// from its b (b[ch0·inStride:]): safeLo/safeHi of the group are
		// at least as strict.
		depthwiseMaskedV(&w[ch0*taps], &b[ch0*inStride], &offs[0], taps, &c[ch0*ld+j0], j1-j0, bp, &masks[j0*taps], col+j0, chs, inStride, ld, safeLo+(c0-ch0)*inStride, safeHi-(ch0+chs-c1)*inStride, len(b)-ch0*inStride)
	}
	run(0, jlo, c0, c1-c0)
	four := c0 + (c1-c0)&^3
	if jlo < jhi {
		for ch := c0; ch < four; ch += 4 {
			var bp *float32
			if bias != nil {
				bp = &bias[ch]
			}
			depthwise4V(&w[ch*taps], &b[ch*inStride], &offs[0], taps, &c[ch*ld+jlo], jhi-jlo, bp, &masks[jlo*taps], col+jlo, inStride, ld)
		}
		run(jlo, jhi, four, c1-four)
	}
	run(jhi, n, c0, c1-c0)
}

//go:noescape
func deinterleave2RowsZ(dst *float32, odd int, dstStride int, src *float32, srcStride int, rows int, n int)

//go:noescape
func deinterleave2RowsAVX2(dst *float32, odd int, dstStride int, src *float32, srcStride int, rows int, n int)

// deinterleave2Rows splits rows rows of n floats of src (srcStride
// apart) into their even elements at buf[even:] and their odd ones at
// buf[even+odd:] (rows dstStride apart; odd may be negative), with
// AVX-512, or with AVX2 when n is at least 8, and reports whether it
// could.
func deinterleave2Rows(buf []float32, even, odd, dstStride int, src []float32, srcStride, rows, n int) bool {
	if !hasAVX512 && (!hasAVX2FMA || n < 8) || rows <= 0 || n <= 0 {
		return false
	}
	last := (rows - 1) * dstStride
	_ = buf[even+last+(n+1)/2-1]
	_ = buf[even]
	if n > 1 {
		_ = buf[even+odd+last+n/2-1]
		_ = buf[even+odd]
	}
	_ = src[(rows-1)*srcStride+n-1]
	if hasAVX512 {
		deinterleave2RowsZ(&buf[even], odd, dstStride, &src[0], srcStride, rows, n)
		return true
	}
	// AVX2: the even part of each row, then an odd row's last element.
	deinterleave2RowsAVX2(&buf[even], odd, dstStride, &src[0], srcStride, rows, n&^1)
	if n%2 != 0 {
		for r := 0; r < rows; r++ {
			buf[even+r*dstStride+n/2] = src[r*srcStride+n-1]
		}
	}
	return true
}
