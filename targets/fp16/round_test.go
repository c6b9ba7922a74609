package fp16

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/potgo/pot/targets/interp/tensor"
)

func TestRound(t *testing.T) {
	p := func(e int) float64 { return math.Ldexp(1, e) }
	tests := []struct {
		name    string
		in, out float64
	}{
		{"representable", 1.5, 1.5},
		{"tie between 1 and 1+2^-10 goes to the even 1", 1 + p(-11), 1},
		{"tie between 1+2^-10 and 1+2^-9 goes to the even 1+2^-9", 1 + 3*p(-11), 1 + p(-9)},
		{"above the tie rounds up", 1 + p(-11) + p(-20), 1 + p(-10)},
		{"2049 ties to 2048", 2049, 2048},
		{"2051 ties to 2052", 2051, 2052},
		{"0.1", 0.1, 0.0999755859375},
		{"negative", -3.14159, -3.140625},
		{"largest half", 65504, 65504},
		{"65519 rounds down to 65504", 65519, 65504},
		{"65520 overflows", 65520, math.Inf(1)},
		{"-65520 overflows", -65520, math.Inf(-1)},
		{"smallest normal", p(-14), p(-14)},
		{"subnormal tie to zero", p(-25), 0},
		{"subnormal rounds up", 3 * p(-26), p(-24)},
		{"subnormal tie to even 2^-23", 3 * p(-25), p(-23)},
		{"zero", 0, 0},
		{"inf", math.Inf(1), math.Inf(1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Round(float32(tc.in)); float64(got) != tc.out {
				t.Errorf("Round(%g) = %g, want %g", tc.in, got, tc.out)
			}
			v := []float32{float32(tc.in)}
			RoundSlice(v)
			if float64(v[0]) != tc.out {
				t.Errorf("RoundSlice(%g) = %g, want %g", tc.in, v[0], tc.out)
			}
		})
	}
	// The same values eight at a time (the vector path), with -0.
	var in []float32
	for len(in) < 2*len(tests) || len(in)%8 != 0 {
		in = append(in, float32(tests[len(in)%len(tests)].in))
	}
	in[len(in)-1] = float32(math.Copysign(0, -1))
	v := append([]float32(nil), in...)
	RoundSlice(v)
	for i := range v {
		if want := Round(in[i]); math.Float32bits(v[i]) != math.Float32bits(want) {
			t.Errorf("RoundSlice of %d values: element %d (%g) = %g, want %g", len(v), i, in[i], v[i], want)
		}
	}
	if r := Round(float32(math.NaN())); r == r {
		t.Errorf("Round(NaN) = %g", r)
	}
	if r := Round(float32(math.Copysign(0, -1))); math.Float32bits(r) != 1<<31 {
		t.Errorf("Round(-0) lost the sign: %x", math.Float32bits(r))
	}
}

// The fast paths agree with the runtime's float16 conversion on random bit
// patterns of every exponent.
func TestRoundMatchesConversion(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	v := make([]float32, 1<<18)
	for i := range v {
		v[i] = math.Float32frombits(rng.Uint32())
	}
	want := make([]float32, len(v))
	for i, f := range v {
		want[i] = tensor.ToFloat16(f).Float32()
		if got := Round(f); math.Float32bits(got) != math.Float32bits(want[i]) && !(got != got && want[i] != want[i]) {
			t.Fatalf("Round(%g = %#x) = %g, conversion gives %g", f, math.Float32bits(f), got, want[i])
		}
	}
	RoundSlice(v)
	for i := range v {
		if math.Float32bits(v[i]) != math.Float32bits(want[i]) && !(v[i] != v[i] && want[i] != want[i]) {
			t.Fatalf("RoundSlice element %d = %g, want %g", i, v[i], want[i])
		}
	}
}
