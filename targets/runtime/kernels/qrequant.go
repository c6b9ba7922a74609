package kernels

import (
	"fmt"
	"math"
)

// QuantizeMultiplier turns a positive real multiplier into the fixed-point
// form of integer kernels: real ≈ mult·2^-shift with mult in [2^30, 2^31)
// and a right shift of 1 to 62 bits. Multipliers below 2^-32 become 0
// (every product rounds to zero); those of 2^30 or more are refused.
func QuantizeMultiplier(real float64) (mult, shift int32, err error) {
	if !(real > 0) || math.IsInf(real, 0) {
		return 0, 0, fmt.Errorf("requantization multiplier %g is not positive and finite", real)
	}
	f, e := math.Frexp(real) // real = f·2^e, f in [0.5, 1)
	m := int64(math.RoundToEven(f * (1 << 31)))
	if m == 1<<31 {
		m, e = 1<<30, e+1
	}
	n := 31 - e
	switch {
	case n > 62:
		return 0, 62, nil
	case n < 1:
		return 0, 0, fmt.Errorf("requantization multiplier %g is too large", real)
	}
	return int32(m), int32(n), nil
}

// RoundShift returns RoundHalfEven(v·mult / 2^shift) for a shift of 1 to
// 62 bits.
func RoundShift(v int32, mult, shift int32) int64 {
	p := int64(v) * int64(mult)
	q := p >> uint(shift)
	r := p - q<<uint(shift)
	half := int64(1) << uint(shift-1)
	if r > half || r == half && q&1 == 1 {
		q++
	}
	return q
}

// QRequant maps the int32 accumulators of each output channel c to
// levels of the next quantizer:
//
//	y = clamp(RoundHalfEven((acc + Bias[c])·Mult[c]/2^Shift[c]) + ZP[c], Lo[c], Hi[c])
//
// Lo and Hi also carry a fused Relu or Clip. It is immutable.
type QRequant struct {
	Bias, Mult, Shift, ZP, Lo, Hi []int32
	// vec holds the assembly's parameters, qReqParams int64 per group of
	// 8 channels (channels padded to a multiple of 16).
	vec []int64
}

// qReqParams is the number of int64 parameters per group of 8 channels:
// 13 vectors of 4 lanes (bias as 8 int32, then even/odd lanes of mult,
// shift, 2^62+2^(n-1)-1, zp-2^(62-n), lo and hi).
const qReqParams = 13 * 4

// NewQRequant checks and prepares requantization parameters for
// len(bias) channels: real multipliers, output zero points and clamp
// bounds per channel.
func NewQRequant(bias []int32, real []float64, zp, lo, hi []int32) (*QRequant, error) {
	n := len(bias)
	if len(real) != n || len(zp) != n || len(lo) != n || len(hi) != n {
		return nil, fmt.Errorf("requantization: %d biases, %d multipliers, %d zero points, %d/%d bounds", n, len(real), len(zp), len(lo), len(hi))
	}
	q := &QRequant{Bias: bias, Mult: make([]int32, n), Shift: make([]int32, n), ZP: zp, Lo: lo, Hi: hi}
	for c := range real {
		m, s, err := QuantizeMultiplier(real[c])
		if err != nil {
			return nil, fmt.Errorf("channel %d: %w", c, err)
		}
		q.Mult[c], q.Shift[c] = m, s
		if lo[c] > hi[c] {
			return nil, fmt.Errorf("channel %d: empty output range [%d, %d]", c, lo[c], hi[c])
		}
	}
	q.pack()
	return q, nil
}

// Value is the requantized level of accumulator acc of channel c.
func (q *QRequant) Value(c int, acc int32) int32 {
	v := RoundShift(acc+q.Bias[c], q.Mult[c], q.Shift[c]) + int64(q.ZP[c])
	return int32(min(max(v, int64(q.Lo[c])), int64(q.Hi[c])))
}

// pack lays the parameters out for the assembly: per group of 8
// channels, the bias vector, then even-lane and odd-lane int64 vectors.
// Padding channels get multiplier 0 and bounds [0, 0].
func (q *QRequant) pack() {
	groups := (len(q.Bias) + qNR - 1) / qNR * 2
	q.vec = make([]int64, groups*qReqParams)
	for g := 0; g < groups; g++ {
		p := q.vec[g*qReqParams : (g+1)*qReqParams]
		for l := 0; l < 8; l++ {
			c := g*8 + l
			bias, mult, n, zp, lo, hi := int32(0), int32(0), int32(1), int32(0), int32(0), int32(0)
			if c < len(q.Bias) {
				bias, mult, n, zp, lo, hi = q.Bias[c], q.Mult[c], q.Shift[c], q.ZP[c], q.Lo[c], q.Hi[c]
			}
			// Bias as int32 lanes, two per int64; then per vector v the
			// even lanes (channels 0, 2, 4, 6) and the odd lanes.
			p[l/2] |= int64(uint64(uint32(bias)) << (32 * uint(l%2)))
			at := func(v int) int { return 4 + v*8 + (l%2)*4 + l/2 }
			p[at(0)] = int64(mult)
			p[at(1)] = int64(n)
			p[at(2)] = 1<<62 + 1<<uint(n-1) - 1
			p[at(3)] = int64(zp) - 1<<uint(62-n)
			p[at(4)] = int64(lo)
			p[at(5)] = int64(hi)
		}
	}
}

// StoreTile requantizes rows rows of a tile (channels c0..c0+n-1 of the
// layer, n <= 16, c0 a multiple of 16) into dst: element (r, i) goes to
// dst[off + r*rowStride + i*chanStride].
func (q *QRequant) StoreTile(tile *QTile, rows, c0, n int, dst []uint8, off, rowStride, chanStride int) {
	if chanStride == 1 && n == qNR && qRequantTile(q, tile, rows, c0, dst, off, rowStride) {
		return
	}
	for r := 0; r < rows; r++ {
		t := tile[r*qNR : r*qNR+n]
		o := off + r*rowStride
		for i, acc := range t {
			dst[o+i*chanStride] = uint8(q.Value(c0+i, acc))
		}
	}
}

// qRequantTileGo is the pure-Go twin of the assembly tile requantization
// (16 channels, contiguous).
func qRequantTileGo(q *QRequant, tile *QTile, rows, c0 int, dst []uint8, off, rowStride int) {
	for r := 0; r < rows; r++ {
		d := dst[off+r*rowStride : off+r*rowStride+qNR]
		for i := range d {
			d[i] = uint8(q.Value(c0+i, tile[r*qNR+i]))
		}
	}
}

// QDequant maps the int32 accumulators of each output channel c to
// float32: y = float32(acc + Bias[c])·Scale[c].
type QDequant struct {
	Bias  []int32
	Scale []float32
}

// StoreTile writes rows rows of a tile (channels c0..c0+n-1) to dst as
// float32: element (r, i) goes to dst[off + r*rowStride + i*chanStride].
func (q *QDequant) StoreTile(tile *QTile, rows, c0, n int, dst []float32, off, rowStride, chanStride int) {
	bias, scale := q.Bias[c0:c0+n], q.Scale[c0:c0+n]
	for r := 0; r < rows; r++ {
		t := tile[r*qNR : r*qNR+n]
		o := off + r*rowStride
		for i, acc := range t {
			dst[o+i*chanStride] = float32(acc+bias[i]) * scale[i]
		}
	}
}
