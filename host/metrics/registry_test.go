package metrics

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
)

// TestRegistry checks names, directions, requirements and defaults.
func TestRegistry(t *testing.T) {
	want := []string{"agreement", "cosine", "mse", "psnr", "sqnr", "top1", "top5"}
	if got := Names(); !slices.Equal(got, want) {
		t.Errorf("Names = %v, want %v", got, want)
	}
	tests := []struct {
		spec          string
		higher        bool
		labels, isRef bool
	}{
		{"top1", true, true, false},
		{"top5", true, true, false},
		{"agreement", true, false, true},
		{"sqnr", true, false, true},
		{"cosine", true, false, true},
		{"mse", false, false, true},
		{"psnr:255", true, false, true},
		{"Accuracy", true, true, false},
	}
	for _, tc := range tests {
		info, ok := Lookup(tc.spec)
		if !ok {
			t.Errorf("Lookup(%q) failed", tc.spec)
			continue
		}
		if info.HigherBetter != tc.higher || info.NeedsLabels != tc.labels || info.NeedsReference != tc.isRef {
			t.Errorf("Lookup(%q) = %+v", tc.spec, info)
		}
		m, err := New(tc.spec)
		if err != nil {
			t.Errorf("New(%q): %v", tc.spec, err)
			continue
		}
		if m.HigherBetter() != tc.higher || m.Name() != info.Name {
			t.Errorf("New(%q): name %q higher %v, want %q %v", tc.spec, m.Name(), m.HigherBetter(), info.Name, tc.higher)
		}
	}
	if Default(true) != "top1" || Default(false) != "agreement" {
		t.Errorf("Default = %q, %q; want top1, agreement", Default(true), Default(false))
	}
	if len(All()) != len(want) {
		t.Errorf("All has %d entries, want %d", len(All()), len(want))
	}
}

// TestRegistryErrors checks unknown names and bad parameters.
func TestRegistryErrors(t *testing.T) {
	tests := []struct {
		spec      string
		fragments []string
	}{
		{"tpo1", []string{`unknown metric "tpo1"`, `did you mean "top1"?`, "agreement, cosine"}},
		{"sqrn", []string{`did you mean "sqnr"?`}},
		{"bleu-score", []string{`unknown metric "bleu-score"`}},
		{"top1:3", []string{`"top1" takes no parameter`}},
		{"psnr:abc", []string{`data range "abc" is not a positive number`}},
		{"psnr:-1", []string{`data range "-1"`}},
	}
	for _, tc := range tests {
		_, err := New(tc.spec)
		if err == nil {
			t.Errorf("New(%q): no error", tc.spec)
			continue
		}
		for _, f := range tc.fragments {
			if !strings.Contains(err.Error(), f) {
				t.Errorf("New(%q) = %v, want %q in it", tc.spec, err, f)
			}
		}
	}
	if err := Register(Info{Name: "top1"}, nil); err == nil {
		t.Error("registering top1 twice: no error")
	}
	if err := Register(Info{Name: "a:b"}, nil); err == nil {
		t.Error("registering a name with a colon: no error")
	}
}

// TestDrop checks the direction of Info.Drop.
func TestDrop(t *testing.T) {
	top1, _ := Lookup("top1")
	mse, _ := Lookup("mse")
	if d := top1.Drop(0.99, 0.97); !approx(d, 0.02) {
		t.Errorf("top1 drop 0.99 → 0.97 = %v, want 0.02", d)
	}
	if d := mse.Drop(0.01, 0.04); !approx(d, 0.03) {
		t.Errorf("mse drop 0.01 → 0.04 = %v, want 0.03", d)
	}
}

// TestRound: values and drops keep the precision of the metric: 1/N for
// a fraction of N samples, six significant digits otherwise, and print
// as short decimals in JSON.
func TestRound(t *testing.T) {
	top1, _ := Lookup("top1")
	sqnr, _ := Lookup("sqnr")
	mse, _ := Lookup("mse")
	nan := math.NaN()
	tests := []struct {
		name     string
		info     Info
		ref, val float64
		samples  int
		drop     string // JSON of RoundDrop
		roundVal string // JSON of Round(val)
	}{
		// 9909 and 9910 of 10000: the float difference is -0.00009999999999998899.
		{"top1 over 10000", top1, 9909.0 / 10000, 9910.0 / 10000, 10000, "-0.0001", "0.991"},
		{"top1 over 1000", top1, 0.991, 0.982, 1000, "0.009", "0.982"},
		{"top1 over 3", top1, 2.0 / 3, 1.0 / 3, 3, "0.3333333333333333", "0.3333333333333333"},
		{"agreement", Info{HigherBetter: true, Fraction: true}, 1, 0.997, 1000, "0.003", "0.997"},
		{"sqnr: decimal place of the larger value", sqnr, 35.1234567, 34.98765432, 100, "0.1358", "34.9877"},
		{"sqnr: the difference of the rounded values", sqnr, 200, 27.52051234, 100, "172.4795", "27.5205"},
		{"sqnr: large values", sqnr, 123456.789, 123450.1, 100, "7", "123450"},
		{"mse: lower is better", mse, 1.234567e-5, 1.3e-5, 100, "6.543e-7", "0.000013"},
		{"no change", sqnr, 20, 20, 100, "0", "20"},
	}
	for _, tc := range tests {
		drop, _ := json.Marshal(tc.info.RoundDrop(tc.ref, tc.val, tc.samples))
		val, _ := json.Marshal(tc.info.Round(tc.val, tc.samples))
		if string(drop) != tc.drop || string(val) != tc.roundVal {
			t.Errorf("%s: drop %s, value %s; want %s and %s", tc.name, drop, val, tc.drop, tc.roundVal)
		}
	}
	if v := sqnr.Round(nan, 10); !math.IsNaN(v) {
		t.Errorf("Round(NaN) = %g", v)
	}
	if v := top1.RoundDrop(math.Inf(1), 0.5, 10); !math.IsInf(v, 1) {
		t.Errorf("RoundDrop(+Inf, 0.5) = %g", v)
	}
}
