//go:build amd64 && !noasm

package kernels

//go:noescape
func dws1AVX2(w *float32, b *float32, c *float32, bias *float32, chans int, inStride int, ld int, rows *int, oh int, ow int, blocks int, masks *int32, zero *float32, padL int, store *int32, osize int)

//go:noescape
func dws2AVX2(w *float32, b *float32, c *float32, bias *float32, chans int, inStride int, ld int, rows *int, oh int, ow int, blocks int, masks *int32, zero *float32, padL int, store *int32, osize int)

// dw3Available reports whether Depthwise3x3 has its kernels: AVX2 and
// FMA, and no AVX-512 (see NewDepthwise3x3).
func dw3Available() bool { return hasAVX2FMA && !hasAVX512 }

// run computes chans channels whose reads all lie in b (Run has checked
// the ranges).
func (d *Depthwise3x3) run(w, b []float32, inStride int, c []float32, ld int, bias []float32, chans int) {
	kern := dws1AVX2
	if d.stride == 2 {
		kern = dws2AVX2
	}
	kern(&w[0], &b[0], &c[0], &bias[0], chans, inStride, ld, &d.rows[0], d.oh, d.ow, d.blocks, &d.masks[0], &d.zero[2], d.padL, &d.store[0], d.oh*d.ow)
}
