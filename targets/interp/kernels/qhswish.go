package kernels

import (
	"fmt"
	"math"
)

// QHardSwish maps the int32 accumulators of each output channel c to
// the levels of the next quantizer through a hard-swish computed in
// float32, as a dequantization, HardSigmoid, Mul and quantization would
// one after another, without the float tensors between them:
//
//	y = float32(acc + Bias[c])·Scale[c]
//	h = y·min(1, max(0, Alpha·y + Beta))
//	level = clamp(RoundHalfEven(h / YScale[c]) + ZP[c], Lo[c], Hi[c])
//
// int8 CPU runtimes fuse such an activation into the convolution's
// output stage the same way (a post-op of the requantization).
type QHardSwish struct {
	Bias        []int32
	Scale       []float32
	Alpha, Beta float32
	YScale      []float32
	ZP, Lo, Hi  []int32

	// lo and hi are Lo - ZP and Hi - ZP as float32: h / YScale clamps
	// to them before rounding, which keeps the rounding in float32.
	lo, hi []float32
	// vec holds, per block of 16 channels, the 16 values of Bias, Scale,
	// YScale, lo, hi and ZP (the int32 ones by their bits) for the
	// assembly; channels past M repeat the last one's.
	vec []float32
}

// qHSwishBlock is the number of parameters of one 16-channel block.
const qHSwishBlock = 6 * qNR

// NewQHardSwish checks that every per-channel slice has M values and the
// bounds are uint8 levels.
func NewQHardSwish(q QHardSwish, M int) (*QHardSwish, error) {
	var err error
	if q.lo, q.hi, q.vec, err = stageParams("hard-swish", M, q.Bias, q.Scale, q.YScale, q.ZP, q.Lo, q.Hi); err != nil {
		return nil, err
	}
	return &q, nil
}

// stageParams checks the per-channel parameters of a float output stage
// of M channels (what names it in errors): every slice has M values,
// the bounds are uint8 levels and the scales positive. It returns lo -
// zp and hi - zp as float32 and the parameters per block of 16 channels
// for the assembly (see QHardSwish.vec).
func stageParams(what string, M int, bias []int32, scale, yScale []float32, zp, lo, hi []int32) (flo, fhi, vec []float32, err error) {
	for _, n := range []int{len(bias), len(scale), len(yScale), len(zp), len(lo), len(hi)} {
		if n != M {
			return nil, nil, nil, fmt.Errorf("%s output stage: per-channel values of lengths %d, %d, %d, %d, %d, %d for %d channels",
				what, len(bias), len(scale), len(yScale), len(zp), len(lo), len(hi), M)
		}
	}
	flo, fhi = make([]float32, M), make([]float32, M)
	for c := 0; c < M; c++ {
		if lo[c] < 0 || hi[c] > 255 || lo[c] > hi[c] {
			return nil, nil, nil, fmt.Errorf("%s output stage: channel %d: bounds [%d, %d] are not uint8 levels", what, c, lo[c], hi[c])
		}
		if !(yScale[c] > 0) {
			return nil, nil, nil, fmt.Errorf("%s output stage: channel %d: scale %g is not positive", what, c, yScale[c])
		}
		flo[c], fhi[c] = float32(lo[c]-zp[c]), float32(hi[c]-zp[c])
	}
	blocks := (M + qNR - 1) / qNR
	vec = make([]float32, blocks*qHSwishBlock)
	for c := 0; c < blocks*qNR; c++ {
		m := min(c, M-1)
		p := vec[c/qNR*qHSwishBlock+c%qNR:]
		p[0] = math.Float32frombits(uint32(bias[m]))
		p[qNR] = scale[m]
		p[2*qNR] = yScale[m]
		p[3*qNR] = flo[m]
		p[4*qNR] = fhi[m]
		p[5*qNR] = math.Float32frombits(uint32(zp[m]))
	}
	return flo, fhi, vec, nil
}

// roundMagic is 1.5·2^23: float32(v + roundMagic) - roundMagic rounds v
// to an integer, half to even, for |v| < 2^22.
const roundMagic = 12582912

// Level is the level of accumulator acc of channel c.
func (q *QHardSwish) Level(c int, acc int32) uint8 {
	return hswishLevel(acc+q.Bias[c], q.Scale[c], q.Alpha, q.Beta, q.YScale[c], q.lo[c], q.hi[c], q.ZP[c])
}

// hswishLevel is Level with the parameters of one channel; a is the
// accumulator plus the bias.
func hswishLevel(a int32, scale, alpha, beta, yscale, lo, hi float32, zp int32) uint8 {
	y := float32(a) * scale
	// min and max compile without branches, which the signs of the
	// values would mispredict.
	s := min(max(float32(alpha*y)+beta, 0), 1)
	v := min(max(float32(y*s)/yscale, lo), hi)
	return uint8(int32(float32(v+roundMagic)-roundMagic) + zp)
}

// storeRows writes rows rows of 16 accumulators (channels c0..c0+n-1) to
// dst as levels: element (r, i) goes to dst[off + r*rowStride +
// i*chanStride]. Whole blocks of 16 channels-last channels run in
// assembly; otherwise it goes channel by channel, with that channel's
// parameters at hand.
func (q *QHardSwish) storeRows(acc []int32, rows, c0, n int, dst []uint8, off, rowStride, chanStride int) {
	if rows <= 0 {
		return
	}
	if n == qNR && chanStride == 1 && qHSwishVec(q, acc, rows, c0, dst[off:], rowStride) {
		return
	}
	_ = acc[(rows-1)*qNR+n-1]
	for i := 0; i < n; i++ {
		c := c0 + i
		bias, scale, yscale, lo, hi, zp := q.Bias[c], q.Scale[c], q.YScale[c], q.lo[c], q.hi[c], q.ZP[c]
		o := off + i*chanStride
		for r := 0; r < rows; r++ {
			dst[o+r*rowStride] = hswishLevel(acc[r*qNR+i]+bias, scale, q.Alpha, q.Beta, yscale, lo, hi, zp)
		}
	}
}
