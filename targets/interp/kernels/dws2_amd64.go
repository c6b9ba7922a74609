//go:build amd64 && !noasm

package kernels

//go:noescape
func dws2AVX2(w *float32, b *float32, c *float32, bias *float32, chans int, inStride int, ld int, rows *int, oh int, ow int, blocks int, masks *int32, zero *float32, padL int, store *int32, osize int)

// dws2Available reports whether DepthwiseS2 has its kernel: AVX2 and
// FMA, and no AVX-512 (see NewDepthwiseS2).
func dws2Available() bool { return hasAVX2FMA && !hasAVX512 }

// run computes chans channels whose reads all lie in b (Run has checked
// the ranges).
func (d *DepthwiseS2) run(w, b []float32, inStride int, c []float32, ld int, bias []float32, chans int) {
	dws2AVX2(&w[0], &b[0], &c[0], &bias[0], chans, inStride, ld, &d.rows[0], d.oh, d.ow, d.blocks, &d.masks[0], &d.zero[2], d.padL, &d.store[0], d.oh*d.ow)
}
