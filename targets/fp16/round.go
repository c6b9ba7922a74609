package fp16

import (
	"math"

	"github.com/potgo/pot/targets/interp/tensor"
)

// Round returns f rounded to the nearest IEEE 754 half-precision value
// (ties to even), as a float32. Values of magnitude 65520 and above
// become ±Inf, values below the smallest half subnormal become ±0, NaN
// stays NaN.
func Round(f float32) float32 {
	b := math.Float32bits(f)
	e := (b >> 23) & 0xff
	// Float32 exponents 113..142 are the half normal range 2^-14..2^15:
	// keep 10 of the 23 fraction bits, rounding half to even on the bits
	// dropped; a carry into the exponent is still correct.
	if e >= 113 && e <= 142 {
		b += 0xfff + (b>>13)&1
		b &^= 0x1fff
		if (b>>23)&0xff > 142 {
			return float32(math.Inf(int(1 - 2*int(b>>31))))
		}
		return math.Float32frombits(b)
	}
	return tensor.RoundFloat16(f)
}

// RoundSlice rounds every element of v to half in place, eight at a
// time with F16C (VCVTPS2PH, VCVTPH2PS) where the CPU has it.
func RoundSlice(v []float32) {
	for i := roundVec(v); i < len(v); i++ {
		f := v[i]
		b := math.Float32bits(f)
		if e := (b >> 23) & 0xff; e-113 <= 142-113 {
			b += 0xfff + (b>>13)&1
			b &^= 0x1fff
			if (b>>23)&0xff <= 142 {
				v[i] = math.Float32frombits(b)
				continue
			}
		} else if b&0x7fffffff == 0 {
			continue // ±0
		}
		v[i] = Round(f)
	}
}
