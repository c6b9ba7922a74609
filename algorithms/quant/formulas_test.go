package quant

import (
	"math"
	"testing"

	"github.com/potgo/pot/proto/potv1"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestLevels(t *testing.T) {
	sym := potv1.QuantizationMode_QUANTIZATION_MODE_SYMMETRIC
	asym := potv1.QuantizationMode_QUANTIZATION_MODE_ASYMMETRIC
	tests := []struct {
		name              string
		opt               *potv1.QuantizationOption
		weights, unsigned bool
		levels, low, high int64
	}{
		{"8-bit symmetric weights: narrow range", &potv1.QuantizationOption{Bits: 8, Mode: sym}, true, false, 255, -127, 127},
		{"4-bit symmetric weights", &potv1.QuantizationOption{Bits: 4, Mode: sym}, true, false, 15, -7, 7},
		{"8-bit asymmetric weights", &potv1.QuantizationOption{Bits: 8, Mode: asym}, true, false, 256, -128, 127},
		{"signed activations", &potv1.QuantizationOption{Bits: 8, Mode: sym}, false, false, 256, -128, 127},
		{"unsigned activations", &potv1.QuantizationOption{Bits: 8, Mode: sym}, false, true, 256, 0, 255},
		{"asymmetric activations", &potv1.QuantizationOption{Bits: 8, Mode: asym}, false, true, 256, 0, 255},
		{"config levels win", &potv1.QuantizationOption{Bits: 16, Mode: sym, HasLevels: true, LevelLow: -32768, LevelHigh: 32767}, false, false, 65536, -32768, 32767},
		{"unsigned data in a signed config range", &potv1.QuantizationOption{Bits: 16, Mode: sym, HasLevels: true, LevelLow: -32768, LevelHigh: 32767}, false, true, 32768, 0, 32767},
	}
	for _, tc := range tests {
		l, lo, hi := Levels(tc.opt, tc.weights, tc.unsigned)
		if l != tc.levels || lo != tc.low || hi != tc.high {
			t.Errorf("%s: got %d [%d, %d], want %d [%d, %d]", tc.name, l, lo, hi, tc.levels, tc.low, tc.high)
		}
	}
}

func TestFixZeroFilters(t *testing.T) {
	// 1% of the largest maximum (2.0) is 0.02: smaller channels rise to it.
	max := []float64{2, 0.001, 0.5, 0}
	FixZeroFiltersSymmetric(max)
	want := []float64{2, 0.02, 0.5, 0.02}
	for i := range max {
		if !near(max[i], want[i]) {
			t.Errorf("symmetric channel %d: %g, want %g", i, max[i], want[i])
		}
	}
	// All-zero weights still get 8e-5.
	z := []float64{0, 0}
	FixZeroFiltersSymmetric(z)
	if z[0] != 8e-5 {
		t.Errorf("zero channel: %g, want 8e-5", z[0])
	}
	// Ranges of at most 8e-4 widen by 8e-4 on each side.
	lo, hi := []float64{0.1, -1}, []float64{0.1005, 1}
	FixZeroFiltersAsymmetric(lo, hi)
	if !near(lo[0], 0.1-8e-4) || !near(hi[0], 0.1005+8e-4) || lo[1] != -1 || hi[1] != 1 {
		t.Errorf("asymmetric: %v %v", lo, hi)
	}
}

func TestTuneRange(t *testing.T) {
	tests := []struct{ a, b float64 }{{-0.3, 1}, {-1, 1}, {-2.7, 0.35}, {0, 5}, {-5, 0}}
	for _, tc := range tests {
		a, b := TuneRange(tc.a, tc.b, 8)
		// Zero falls on a level of the 255-step grid.
		s := (b - a) / 255
		z := -a / s
		if math.Abs(z-math.Round(z)) > 1e-6 {
			t.Errorf("[%g, %g] -> [%g, %g]: zero at level %g", tc.a, tc.b, a, b, z)
		}
		// One border is kept and the range never shrinks (POT keeps the
		// variant with the larger range).
		if (a != tc.a && b != tc.b) || b-a < tc.b-tc.a-1e-12 {
			t.Errorf("[%g, %g] -> [%g, %g]", tc.a, tc.b, a, b)
		}
	}
	// When zero rounds to level 0 without being on it, neither border can
	// move without clipping data: POT leaves the range as it is.
	if a, b := TuneRange(-0.001, 10, 8); a != -0.001 || b != 10 {
		t.Errorf("TuneRange(-0.001, 10) = [%g, %g], want it unchanged", a, b)
	}
	// Hand-computed: [-0.3, 1]: q = round(0.3·255/1.3) = 59; moving a gives
	// a = 59/(59-255)·1 = -0.30102..., moving b gives b = 0.99661...; the
	// first has the larger range.
	a, b := TuneRange(-0.3, 1, 8)
	if !near(a, -59.0/196.0) || b != 1 {
		t.Errorf("TuneRange(-0.3, 1) = [%g, %g], want [%g, 1]", a, b, -59.0/196.0)
	}
}

func TestSymmetricRange(t *testing.T) {
	// Signed activations: [-max·256/254, max] puts zero at level 128 and
	// makes the scale max/127.
	lo, hi := SymmetricRange(1.27, 256, false, false)
	if !near(lo, -1.28) || hi != 1.27 || !near((hi-lo)/255, 0.01) {
		t.Errorf("signed: [%g, %g]", lo, hi)
	}
	if lo, hi := SymmetricRange(3, 256, false, true); lo != 0 || hi != 3 {
		t.Errorf("unsigned: [%g, %g]", lo, hi)
	}
	if lo, hi := SymmetricRange(0.5, 255, true, false); lo != -0.5 || hi != 0.5 {
		t.Errorf("weights: [%g, %g]", lo, hi)
	}
}

func TestUnify(t *testing.T) {
	a := &rawRange{lo: []float64{0}, hi: []float64{2}, unsigned: true}
	b := &rawRange{lo: []float64{-1}, hi: []float64{1.5}, unsigned: false}
	u := unify([]*rawRange{a, b})
	if u.lo[0] != -1 || u.hi[0] != 2 || u.unsigned {
		t.Errorf("unify = %+v", u)
	}
	// The inputs are not modified.
	if a.lo[0] != 0 || a.hi[0] != 2 {
		t.Errorf("unify modified its input: %+v", a)
	}
}

func TestSaturationFixDoublesRanges(t *testing.T) {
	q := &potv1.Quantizer{InputLow: []float32{-0.5, -1}, InputHigh: []float32{0.5, 1}, OutputLow: []float32{-0.5, -1}, OutputHigh: []float32{0.5, 1}}
	applySaturationFix(q)
	if q.InputHigh[0] != 1 || q.InputLow[1] != -2 || q.OutputHigh[1] != 2 {
		t.Errorf("saturation fix: %v %v", q.InputHigh, q.OutputLow)
	}
	// With 255 levels over [-1, 1] the weight 0.5 lands on level ±63.5 → 7
	// effective bits, and dequantizes back near 0.5.
	s := (float64(q.InputHigh[0]) - float64(q.InputLow[0])) / 254
	if lvl := math.Round(0.5 / s); lvl != 64 {
		t.Errorf("level of the largest weight: %g, want 64", lvl)
	}
}

func TestPresetAliases(t *testing.T) {
	for alias, want := range map[string]string{"symmetric": Performance, "asymmetric": Accuracy, "": Performance} {
		p, err := ParseParams([]byte(`{"preset": "` + alias + `"}`))
		if err != nil || p.Preset != want {
			t.Errorf("preset %q: %v %v", alias, p, err)
		}
	}
}

func TestUnifyZeroPoint(t *testing.T) {
	// Channels whose own zero points are 51 and 204 (of 255 steps) share
	// the rounded mean, 128; each range grows to fit around it.
	lo := []float64{-0.2, -0.8}
	hi := []float64{0.8, 0.2}
	UnifyZeroPoint(lo, hi, 256)
	for c := range lo {
		s := (hi[c] - lo[c]) / 255
		if z := -lo[c] / s; math.Abs(z-128) > 1e-9 {
			t.Errorf("channel %d: zero point %g, want 128", c, z)
		}
	}
	if lo[0] > -0.2 || hi[0] < 0.8 || lo[1] > -0.8 || hi[1] < 0.2 {
		t.Errorf("ranges shrank: %v %v", lo, hi)
	}
}
