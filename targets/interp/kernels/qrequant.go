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
// (acc + Bias[c] wraps around in int32, as the hardware's addition
// does). Lo and Hi also carry a fused Relu or Clip. It is immutable.
type QRequant struct {
	Bias, Mult, Shift, ZP, Lo, Hi []int32
	// vec holds the assembly's parameters, qReqGroup int64 per group of
	// 8 channels (channels padded to a multiple of 16).
	vec []int64
	// vec16 holds the 512-bit assembly's parameters, qReqBlock int64
	// per block of 16 channels; nil unless fast and every bound is a
	// uint8 level (the clamped levels are then stored by truncation).
	vec16 []int64
	// vec16a is vec16 for the AVX2 kernels (REQF8): the multipliers of
	// each half block in the order of its in-lane unpacks, channels 0,
	// 1, 4, 5 then 2, 3, 6, 7 (8, 9, 12, 13 then 10, 11, 14, 15).
	vec16a []int64
	// fast: every real multiplier is below 1/2, so that the rounded
	// products fit int32 and the assembly can clamp in 32 bits.
	fast bool
}

// qReqBlock is the number of int64 parameters per block of 16 channels
// in the 512-bit layout: 6 vectors of 64 bytes — bias (16 int32); the
// real multipliers mult·2^-shift as float64, channels 0-7 then 8-15;
// zp, lo and hi (16 int32).
const qReqBlock = 6 * 8

// qReqGroup is the number of int64 parameters per group of 8 channels:
// 11 vectors of 32 bytes — bias (8 int32); multipliers, shifts,
// 2^62+2^(n-1)-1 and zp-2^(62-n) as even-lane then odd-lane int64
// vectors; lo and hi (8 int32).
const qReqGroup = 11 * 4

// NewQRequant checks and prepares requantization parameters for
// len(bias) channels: real multipliers, output zero points and clamp
// bounds per channel.
func NewQRequant(bias []int32, real []float64, zp, lo, hi []int32) (*QRequant, error) {
	n := len(bias)
	if len(real) != n || len(zp) != n || len(lo) != n || len(hi) != n {
		return nil, fmt.Errorf("requantization: %d biases, %d multipliers, %d zero points, %d/%d bounds", n, len(real), len(zp), len(lo), len(hi))
	}
	q := &QRequant{Bias: bias, Mult: make([]int32, n), Shift: make([]int32, n), ZP: zp, Lo: lo, Hi: hi, fast: true}
	u8 := true
	for c := range real {
		m, s, err := QuantizeMultiplier(real[c])
		if err != nil {
			return nil, fmt.Errorf("channel %d: %w", c, err)
		}
		q.Mult[c], q.Shift[c] = m, s
		if lo[c] > hi[c] {
			return nil, fmt.Errorf("channel %d: empty output range [%d, %d]", c, lo[c], hi[c])
		}
		if real[c] >= 0.5 || zp[c] < -1<<20 || zp[c] > 1<<20 {
			q.fast = false
		}
		if lo[c] < 0 || hi[c] > 255 {
			u8 = false
		}
	}
	q.pack()
	if q.fast && u8 {
		q.pack16()
	}
	return q, nil
}

// Value is the requantized level of accumulator acc of channel c.
func (q *QRequant) Value(c int, acc int32) int32 {
	v := RoundShift(acc+q.Bias[c], q.Mult[c], q.Shift[c]) + int64(q.ZP[c])
	return int32(min(max(v, int64(q.Lo[c])), int64(q.Hi[c])))
}

// pack lays the parameters out for the assembly (see qReqGroup).
// Padding channels get multiplier 0 and bounds [0, 0].
func (q *QRequant) pack() {
	groups := (len(q.Bias) + qNR - 1) / qNR * 2
	q.vec = q.lay(groups, 8, 4, qReqGroup)
}

// pack16 lays the parameters out for the 512-bit assembly (see
// qReqBlock): lane l of an int32 vector is channel l of the block.
// Channels past the last are neutral (multiplier 0, bounds [0, 0]).
func (q *QRequant) pack16() {
	blocks := (len(q.Bias) + qNR - 1) / qNR
	q.vec16 = make([]int64, blocks*qReqBlock)
	for c := 0; c < blocks*qNR; c++ {
		p := q.vec16[c/qNR*qReqBlock:]
		l := c % qNR
		lane32 := func(v int, x int32) { p[v*8+l/2] |= int64(uint64(uint32(x)) << (32 * uint(l%2))) }
		if c >= len(q.Bias) {
			continue // all zero
		}
		lane32(0, q.Bias[c])
		p[8+l] = int64(math.Float64bits(math.Ldexp(float64(q.Mult[c]), -int(q.Shift[c]))))
		lane32(3, q.ZP[c])
		lane32(4, q.Lo[c])
		lane32(5, q.Hi[c])
	}
	q.vec16a = append([]int64(nil), q.vec16...)
	for b := 0; b < blocks; b++ {
		m, a := q.vec16[b*qReqBlock+8:b*qReqBlock+24], q.vec16a[b*qReqBlock+8:b*qReqBlock+24]
		for h := 0; h < 2; h++ {
			for i, l := range [8]int{0, 1, 4, 5, 2, 3, 6, 7} {
				a[8*h+i] = m[8*h+l]
			}
		}
	}
}

// lay writes the parameters of groups groups of per channels, size
// int64s each, in vectors of width int64s: per channel l, the int32
// vectors (bias, lo, hi) hold it in lane l, the int64 ones (multiplier,
// shift, rounding, zero point) in lane l/2 of the even or odd vector.
// Channels past the last are neutral (multiplier 0).
func (q *QRequant) lay(groups, per, width, size int) []int64 {
	vec := make([]int64, groups*size)
	for g := 0; g < groups; g++ {
		p := vec[g*size : (g+1)*size]
		for l := 0; l < per; l++ {
			c := g*per + l
			bias, mult, n, zp, lo, hi := int32(0), int32(0), int32(1), int32(0), int32(0), int32(0)
			if c < len(q.Bias) {
				bias, mult, n, zp, lo, hi = q.Bias[c], q.Mult[c], q.Shift[c], q.ZP[c], q.Lo[c], q.Hi[c]
			}
			lane32 := func(v int, x int32) { p[v*width+l/2] |= int64(uint64(uint32(x)) << (32 * uint(l%2))) }
			lane64 := func(v int, x int64) { p[(v+l%2)*width+l/2] = x }
			lane32(0, bias)
			lane64(1, int64(mult))
			lane64(3, int64(n))
			lane64(5, 1<<62+1<<uint(n-1)-1)
			lane64(7, int64(zp)-1<<uint(62-n))
			lane32(9, lo)
			lane32(10, hi)
		}
	}
	return vec
}

// storeRows requantizes rows rows of 16 accumulators (channels c0..c0+n-1
// of the layer) into dst: element (r, i) goes to dst[off + r*rowStride +
// i*chanStride].
func (q *QRequant) storeRows(acc []int32, rows, c0, n int, dst []uint8, off, rowStride, chanStride int) {
	if n == qNR && chanStride == 1 && qReqRowsVec(q, acc, rows, c0, dst[off:], rowStride) {
		return
	}
	if n < qNR && chanStride == 1 && q.storeTail(acc, rows, c0, n, dst, off, rowStride) {
		return
	}
	for r := 0; r < rows; r++ {
		t := acc[r*qNR : r*qNR+n]
		o := off + r*rowStride
		for i, a := range t {
			dst[o+i*chanStride] = uint8(q.Value(c0+i, a))
		}
	}
}

// storeTail is storeRows for a block of fewer than 16 channels (the last
// of a layer whose channels are not a multiple of 16) in channels-last
// rows: the assembly requantizes 16 channels at a time (the parameters
// are padded), into a scratch tile whose first n levels of each row are
// then copied. It reports whether it could.
func (q *QRequant) storeTail(acc []int32, rows, c0, n int, dst []uint8, off, rowStride int) bool {
	const tileRows = 16
	var tile [tileRows * qNR]uint8
	for r0 := 0; r0 < rows; r0 += tileRows {
		k := min(tileRows, rows-r0)
		if !qReqRowsVec(q, acc[r0*qNR:(r0+k)*qNR], k, c0, tile[:], qNR) {
			return false // on the first tile (the choice does not depend on the rows)
		}
		for r := 0; r < k; r++ {
			o := off + (r0+r)*rowStride
			copy(dst[o:o+n], tile[r*qNR:r*qNR+n])
		}
	}
	return true
}

// QDequant maps the int32 accumulators of each output channel c to
// float32: y = float32(acc + Bias[c])·Scale[c].
type QDequant struct {
	Bias  []int32
	Scale []float32
}

// storeRows writes rows rows of 16 accumulators (channels c0..c0+n-1)
// to dst as float32: element (r, i) goes to dst[off + r*rowStride +
// i*chanStride].
func (q *QDequant) storeRows(acc []int32, rows, c0, n int, dst []float32, off, rowStride, chanStride int) {
	bias, scale := q.Bias[c0:c0+n], q.Scale[c0:c0+n]
	r0 := 0
	if n == qNR && rowStride == 1 && chanStride > 1 {
		// Channel-major: blocks of 16 rows (8 on AVX2) transposed in
		// registers.
		r0 = qDeqTVec(acc, rows, bias, scale, dst[off:], chanStride)
	}
	if r0 < rows && rowStride == 1 && chanStride > 1 {
		// Channel-major rows left by the transposing kernel: channel by
		// channel, each a contiguous run of rows (the same values).
		for i := 0; i < n; i++ {
			b, sc := bias[i], scale[i]
			d := dst[off+i*chanStride+r0 : off+i*chanStride+rows]
			for r := range d {
				d[r] = float32(acc[(r0+r)*qNR+i]+b) * sc
			}
		}
		return
	}
	for r := r0; r < rows; r++ {
		t := acc[r*qNR : r*qNR+n]
		o := off + r*rowStride
		for i, a := range t {
			dst[o+i*chanStride] = float32(a+bias[i]) * scale[i]
		}
	}
}
