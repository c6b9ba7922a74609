package metrics

import (
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
