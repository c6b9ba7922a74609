package sdk

import (
	"encoding/json"
	"math"
	"testing"
)

func TestReportTable(t *testing.T) {
	tb := NewReportTable("errors", "layer", "before", "after")
	tb.Add("conv1", 0.12, math.NaN())
	tb.Add("conv2", float32(math.Inf(1)), 3)
	rep := struct {
		Tables []ReportTable `json:"tables"`
	}{Tables: []ReportTable{*tb}}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatalf("a table with NaN and Inf must marshal: %v", err)
	}
	got := ReportTables(string(b))
	if len(got) != 1 || got[0].Title != "errors" || len(got[0].Rows) != 2 {
		t.Fatalf("round trip of %s: %+v", b, got)
	}
	if r := got[0].Rows; r[0][0] != "conv1" || r[0][1] != 0.12 || r[0][2] != nil || r[1][1] != nil || r[1][2] != 3.0 {
		t.Errorf("rows %v", r)
	}
	if empty, _ := json.Marshal(NewReportTable("t", "a")); string(empty) != `{"title":"t","columns":["a"],"rows":[]}` {
		t.Errorf("empty table %s", empty)
	}
	for _, bad := range []string{"", "nope", `{"tables": 3}`, `[1]`} {
		if got := ReportTables(bad); got != nil {
			t.Errorf("ReportTables(%q) = %v, want none", bad, got)
		}
	}
}
