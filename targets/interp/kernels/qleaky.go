package kernels

// QLeakyReLU maps the int32 accumulators of each output channel c to
// the levels of the next quantizer through a LeakyRelu computed in
// float32, as a dequantization (QDequant), LeakyRelu and quantization
// (QLevels) would one after another, without the float tensors between
// them:
//
//	y = float32(acc + Bias[c])·Scale[c]
//	v = y·Alpha where y < 0, else y
//	level = clamp(RoundHalfEven(v / YScale[c]) + ZP[c], Lo[c], Hi[c])
//
// Each step is the same float32 operation as the unfused operators', so
// the levels are those of the unfused graph bit for bit. (A LeakyRelu
// between a convolution and its quantizer, as TensorFlow exports have,
// keeps the requantization of QRequant from applying: the activation is
// not a clamp.)
type QLeakyReLU struct {
	Bias       []int32
	Scale      []float32
	Alpha      float32
	YScale     []float32
	ZP, Lo, Hi []int32

	// lo and hi are Lo - ZP and Hi - ZP as float32 (see QHardSwish).
	lo, hi []float32
	// vec holds the parameters per block of 16 channels in the layout
	// of QHardSwish.vec, for the assembly.
	vec []float32
}

// NewQLeakyReLU checks that every per-channel slice has M values and
// the bounds are uint8 levels.
func NewQLeakyReLU(q QLeakyReLU, M int) (*QLeakyReLU, error) {
	var err error
	if q.lo, q.hi, q.vec, err = stageParams("leaky-relu", M, q.Bias, q.Scale, q.YScale, q.ZP, q.Lo, q.Hi); err != nil {
		return nil, err
	}
	return &q, nil
}

// Level is the level of accumulator acc of channel c.
func (q *QLeakyReLU) Level(c int, acc int32) uint8 {
	return leakyLevel(acc+q.Bias[c], q.Scale[c], q.Alpha, q.YScale[c], q.lo[c], q.hi[c], q.ZP[c])
}

// leakyLevel is Level with the parameters of one channel; a is the
// accumulator plus the bias. The explicit float32 conversions keep each
// product rounded on its own (no fused multiply-add), as the unfused
// operators compute it.
func leakyLevel(a int32, scale, alpha, yscale, lo, hi float32, zp int32) uint8 {
	y := float32(float32(a) * scale)
	if y < 0 {
		y = float32(y * alpha)
	}
	v := min(max(y/yscale, lo), hi)
	return uint8(int32(float32(v+roundMagic)-roundMagic) + zp)
}

// storeRows writes rows rows of 16 accumulators (channels c0..c0+n-1) to
// dst as levels: element (r, i) goes to dst[off + r*rowStride +
// i*chanStride], channel by channel.
func (q *QLeakyReLU) storeRows(acc []int32, rows, c0, n int, dst []uint8, off, rowStride, chanStride int) {
	if rows <= 0 {
		return
	}
	_ = acc[(rows-1)*qNR+n-1]
	for i := 0; i < n; i++ {
		c := c0 + i
		bias, scale, yscale, lo, hi, zp := q.Bias[c], q.Scale[c], q.YScale[c], q.lo[c], q.hi[c], q.ZP[c]
		o := off + i*chanStride
		for r := 0; r < rows; r++ {
			dst[o+r*rowStride] = leakyLevel(acc[r*qNR+i]+bias, scale, q.Alpha, yscale, lo, hi, zp)
		}
	}
}
