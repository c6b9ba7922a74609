package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/schema"
)

// described is algorithms known by their descriptions only: no plugin
// runs.
type described map[string]*potv1.AlgorithmDescription

func (d described) describe(_ context.Context, name string) (*potv1.AlgorithmDescription, error) {
	if desc, ok := d[name]; ok {
		return desc, nil
	}
	return nil, fmt.Errorf("algorithm plugin %q not found", name)
}

// describedSession is a session whose algorithms are known by their
// descriptions only (CheckParams starts no plugin for them).
func describedSession(descs ...*potv1.AlgorithmDescription) *Session {
	d := described{}
	for _, desc := range descs {
		d[desc.GetName()] = desc
	}
	return &Session{params: newParamChecker(d)}
}

func TestCheckParams(t *testing.T) {
	search := &potv1.AlgorithmDescription{Name: "Search",
		ParamsSchema: `{"type": "object", "additionalProperties": true, "properties": {
			"maximal_drop": {"type": "number", "minimum": 0}, "base": {"type": "string"}}}`,
		Capabilities: &potv1.AlgorithmCapabilities{PassesParamsTo: "Base", PassesParamsToParam: "base"}}
	base := &potv1.AlgorithmDescription{Name: "Base",
		ParamsSchema: `{"type": "object", "additionalProperties": false, "properties": {
			"preset": {"enum": ["performance", "mixed"]}, "stat_subset_size": {"type": "integer"},
			"weights": {"type": "object", "additionalProperties": false, "properties": {"bits": {"type": "integer"}}}}}`}
	other := &potv1.AlgorithmDescription{Name: "Other",
		ParamsSchema: `{"type": "object", "additionalProperties": false, "properties": {"alpha": {"type": "number"}}}`}
	open := &potv1.AlgorithmDescription{Name: "Open", ParamsSchema: `{"type": "object"}`}
	loopA := &potv1.AlgorithmDescription{Name: "A", ParamsSchema: `{"properties": {"first": {}}}`,
		Capabilities: &potv1.AlgorithmCapabilities{PassesParamsTo: "B"}}
	loopB := &potv1.AlgorithmDescription{Name: "B", ParamsSchema: `{"properties": {"second": {}}, "additionalProperties": false}`,
		Capabilities: &potv1.AlgorithmCapabilities{PassesParamsTo: "A"}}
	s := describedSession(search, base, other, open, loopA, loopB)
	tests := []struct {
		name, algo, params string
		want               []string // problems, as "path: message"
	}{
		{"valid", "Search", `{"maximal_drop": 0.1, "preset": "mixed", "weights": {"bits": 8}}`, nil},
		{"empty", "Search", ``, nil},
		{"own key mistyped", "Search", `{"maximal_dorp": 0.1}`, []string{`maximal_dorp: unknown key; did you mean "maximal_drop"?`}},
		{"passed-on key mistyped", "Search", `{"presett": "mixed"}`, []string{`presett: unknown key; did you mean "preset" (a parameter of Base)?`}},
		{"unknown key far from any", "Search", `{"zebra": 1}`, []string{`zebra: unknown key`}},
		{"own value wrong", "Search", `{"maximal_drop": -1}`, []string{`maximal_drop: at '/maximal_drop': minimum: got -1, want 0`}},
		{"passed-on value wrong", "Search", `{"preset": "fast"}`, []string{`preset: "fast" is not one of "performance", "mixed"`}},
		{"passed-on nested key mistyped", "Search", `{"weights": {"bitz": 8}}`, []string{`weights.bitz: unknown key; did you mean "bits"?`}},
		{"every problem", "Search", `{"maximal_dorp": 1, "presett": 1, "stat_subset_size": "300"}`, []string{
			`maximal_dorp: unknown key; did you mean "maximal_drop"?`,
			`presett: unknown key; did you mean "preset" (a parameter of Base)?`,
			`stat_subset_size: is string, want integer`}},
		{"the base parameter names the receiver", "Search", `{"base": "Other", "alpha": 2}`, nil},
		{"keys of the default receiver go nowhere else", "Search", `{"base": "Other", "preset": "mixed"}`, []string{`preset: unknown key`}},
		{"an algorithm that passes nothing on", "Base", `{"presett": "mixed"}`, []string{`presett: unknown key; did you mean "preset"?`}},
		{"an open receiver takes any key", "Search", `{"base": "Open", "anything": 1}`, nil},
		{"receivers in a loop", "A", `{"first": 1, "second": 2, "zzzzzz": 3}`, []string{`zzzzzz: unknown key`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			problems, err := s.CheckParams(context.Background(), tc.algo, []byte(tc.params))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("problems\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestSchemasCompiledOnce: algorithms publishing the same schema text
// (those taking DefaultQuantization's parameters) share one compiled
// schema; another text compiles apart, and no schema is no schema.
func TestSchemasCompiledOnce(t *testing.T) {
	const same = `{"type": "object", "properties": {"preset": {"type": "string"}}}`
	descs := described{
		"A": {Name: "A", ParamsSchema: same},
		"B": {Name: "B", ParamsSchema: same},
		"C": {Name: "C", ParamsSchema: `{"type": "object"}`},
		"D": {Name: "D"},
	}
	c := newParamChecker(descs)
	got := map[string]any{}
	for _, name := range []string{"A", "B", "C", "D"} {
		sch, err := c.compiled(name, descs[name])
		if err != nil {
			t.Fatal(err)
		}
		got[name] = sch
	}
	if got["A"] == nil || got["A"] != got["B"] {
		t.Errorf("A and B publish one schema but got %p and %p", got["A"], got["B"])
	}
	if got["C"] == nil || got["C"] == got["A"] {
		t.Errorf("C publishes its own schema but got %p (A %p)", got["C"], got["A"])
	}
	if got["D"] != (*schema.Schema)(nil) {
		t.Errorf("D publishes no schema but got %v", got["D"])
	}
	// Each algorithm's still validates against its own text.
	if problems, err := c.check(context.Background(), "B", []byte(`{"preset": 3}`)); err != nil || len(problems) != 1 {
		t.Errorf("B with a number for preset: %v, %v; want one problem", problems, err)
	}
}
