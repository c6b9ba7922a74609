package sdk

import (
	"encoding/json"
	"math"
)

// ReportTable is a table of an algorithm's report. An algorithm whose
// report (RunResponse.report, a JSON object) has a top-level key
// "tables", a list of ReportTable, gets each shown as an HTML table in
// report.html, under its report (pot quantize --json and report.json
// keep the report as it is):
//
//	{"tables": [{"title": "Per-layer error", "columns": ["layer", "before", "after"],
//	  "rows": [["conv1", 0.12, 0.03]]}], ...}
//
// A cell is a string, a number (shown with 4 significant digits), a
// boolean or null (shown as —). Everything is escaped. The host knows no
// algorithm by name: the convention is the only contract.
type ReportTable struct {
	Title string `json:"title"`
	// Note is an optional sentence under the title (units, how to read).
	Note    string   `json:"note,omitempty"`
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
}

// NewReportTable returns an empty table (Rows is [] in JSON).
func NewReportTable(title string, columns ...string) *ReportTable {
	return &ReportTable{Title: title, Columns: columns, Rows: [][]any{}}
}

// Add appends a row. A float that JSON cannot hold (NaN, ±Inf) becomes
// null, so that the report still marshals.
func (t *ReportTable) Add(cells ...any) {
	row := make([]any, len(cells))
	for i, c := range cells {
		switch v := c.(type) {
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				c = nil
			}
		case float32:
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				c = nil
			}
		}
		row[i] = c
	}
	t.Rows = append(t.Rows, row)
}

// ReportTables returns the tables of a report (its "tables"), for an
// algorithm that runs another one and shows the other's tables with its
// own. A report without tables or that is not JSON has none.
func ReportTables(report string) []ReportTable {
	var r struct {
		Tables []ReportTable `json:"tables"`
	}
	if json.Unmarshal([]byte(report), &r) != nil {
		return nil
	}
	return r.Tables
}
