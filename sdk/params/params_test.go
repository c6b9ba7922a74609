package params_test

import (
	"slices"
	"testing"

	"github.com/potgo/pot/sdk/params"
)

const ownSchema = `{"type": "object", "additionalProperties": true,
  "properties": {"maximal_drop": {"type": "number"}, "workers": {"type": "integer"}}}`

func TestSplit(t *testing.T) {
	tests := []struct {
		name, raw, own, rest string
	}{
		{"both", `{"preset": "mixed", "maximal_drop": 0.01, "weights": {"bits": 8}, "workers": 2}`,
			`{"maximal_drop":0.01,"workers":2}`, `{"preset":"mixed","weights":{"bits":8}}`},
		{"only own", `{"maximal_drop": 0}`, `{"maximal_drop":0}`, `{}`},
		{"only passed on", `{"preset": "mixed"}`, `{}`, `{"preset":"mixed"}`},
		{"empty", ``, `{}`, `{}`},
		{"typo stays with the rest", `{"maximal_dorp": 1}`, `{}`, `{"maximal_dorp":1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			own, rest, err := params.Split([]byte(tc.raw), ownSchema)
			if err != nil {
				t.Fatal(err)
			}
			if string(own) != tc.own || string(rest) != tc.rest {
				t.Errorf("Split = %s, %s; want %s, %s", own, rest, tc.own, tc.rest)
			}
		})
	}
	if _, _, err := params.Split([]byte(`[1]`), ownSchema); err == nil {
		t.Error("Split of an array: no error")
	}
	if _, _, err := params.Split([]byte(`{}`), `not json`); err == nil {
		t.Error("Split with a bad schema: no error")
	}
}

func TestProperties(t *testing.T) {
	tests := []struct {
		name, schema string
		names        []string
		open         bool
	}{
		{"open", ownSchema, []string{"maximal_drop", "workers"}, true},
		{"closed", `{"additionalProperties": false, "properties": {"b": {}, "a": {}}}`, []string{"a", "b"}, false},
		{"additional schema", `{"additionalProperties": {"type": "number"}}`, nil, true},
		{"none", ``, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			names, open, err := params.Properties(tc.schema)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(names, tc.names) || open != tc.open {
				t.Errorf("Properties = %q, %v; want %q, %v", names, open, tc.names, tc.open)
			}
		})
	}
}
