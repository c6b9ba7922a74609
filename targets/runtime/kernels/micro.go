package kernels

// Tile geometry of the micro-kernels: a tile has up to mrMax rows and
// exactly nr columns; A is packed in panels of 6 or 4 rows.
const (
	nr    = 16
	mrMax = 6
)

// Flags of a micro-kernel call, applied in this order after the dot
// products: add the existing C, add a per-row bias, clamp at zero.
const (
	flagAccumulate = 1 << iota
	flagBias
	flagReLU
)

// microKernel computes one tile: for r < mr and j < 16,
//
//	t = sum over p < k of a[p*h+r] * b[offs[p]+j]
//	t += c[r*ldc+j]  (flagAccumulate)
//	t += bias[r]     (flagBias)
//	t = max(t, 0)    (flagReLU)
//	c[r*ldc+j] = t
//
// where h is the panel height of the kernel (6 or 4) and mr <= h. The
// caller guarantees that every b[offs[p] : offs[p]+16] and every c row
// of the tile is in range.
type microKernel func(k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags int)

// kernelGo is the pure-Go micro-kernel for panels of height h.
func kernelGo(h, k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags int) {
	var acc [mrMax][nr]float32
	for p := 0; p < k; p++ {
		bp := (*[nr]float32)(b[offs[p] : offs[p]+nr])
		ap := a[p*h : p*h+h]
		for r := 0; r < mr; r++ {
			av := ap[r]
			row := &acc[r]
			for j := range row {
				row[j] += av * bp[j]
			}
		}
	}
	for r := 0; r < mr; r++ {
		row := &acc[r]
		dst := (*[nr]float32)(c[r*ldc : r*ldc+nr])
		if flags&flagAccumulate != 0 {
			for j := range row {
				row[j] += dst[j]
			}
		}
		if flags&flagBias != 0 {
			bv := bias[r]
			for j := range row {
				row[j] += bv
			}
		}
		if flags&flagReLU != 0 {
			for j := range row {
				row[j] = max(row[j], 0)
			}
		}
		*dst = *row
	}
}

func kernel6Go(k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags int) {
	kernelGo(6, k, a, b, offs, c, ldc, mr, bias, flags)
}

func kernel4Go(k int, a, b []float32, offs []int, c []float32, ldc, mr int, bias []float32, flags int) {
	kernelGo(4, k, a, b, offs, c, ldc, mr, bias, flags)
}
