package schema

import (
	"strings"
	"testing"
)

const testSchema = `{
  "type": "object", "additionalProperties": false,
  "$defs": {"tensor": {"type": "object", "additionalProperties": false,
    "properties": {"bits": {"type": "integer"}, "mode": {"enum": ["symmetric", "asymmetric"]}}}},
  "properties": {
    "preset": {"enum": ["performance", "mixed"]},
    "stat_subset_size": {"type": "integer", "minimum": 0},
    "weights": {"$ref": "#/$defs/tensor"}
  }
}`

func TestValidate(t *testing.T) {
	s, err := Compile(testSchema)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		params string
		want   []string // substrings of the error; none = valid
	}{
		{`{"preset": "mixed", "stat_subset_size": 300, "weights": {"bits": 4}}`, nil},
		{``, nil},
		{`{"stat_subsetsize": 300}`, []string{`stat_subsetsize: unknown key; did you mean "stat_subset_size"?`}},
		{`{"weights": {"bitz": 8}}`, []string{`weights.bitz: unknown key; did you mean "bits"?`}},
		{`{"preset": "perfomance"}`, []string{`preset: "perfomance" is not one of`, `did you mean "performance"?`}},
		{`{"stat_subset_size": "300"}`, []string{`stat_subset_size: is string, want integer`}},
		{`{"weights": {"mode": "sym", "bits": 8.5}, "zzz": 1}`, []string{"3 problems", "weights.mode", "weights.bits: is number, want integer", "zzz: unknown key"}},
		{`{`, []string{"not valid JSON"}},
	}
	for _, tc := range tests {
		err := s.Validate([]byte(tc.params))
		if len(tc.want) == 0 {
			if err != nil {
				t.Errorf("%s: %v", tc.params, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: no error", tc.params)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.params, err, w)
			}
		}
	}
}

func TestNearest(t *testing.T) {
	keys := []string{"preset", "stat_subset_size", "weights", "activations"}
	for in, want := range map[string]string{"prest": "preset", "weight": "weights", "activation": "activations", "xyzzy": ""} {
		if got := Nearest(in, keys); got != want {
			t.Errorf("Nearest(%q) = %q, want %q", in, got, want)
		}
	}
}
