package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Limits on what one algorithm report's tables may put in report.html
// (the report comes from a plugin).
const (
	maxTables  = 32
	maxRows    = 10000
	maxColumns = 64
	maxCell    = 1000 // characters of a cell's text
)

// Table is a table of an algorithm's report, ready to render: the
// convention of sdk.ReportTable (a top-level "tables" list of
// {"title", "note", "columns", "rows"}), the cells as text.
type Table struct {
	Title   string
	Note    string
	Columns []string
	Rows    [][]Cell
	// Omitted rows beyond maxRows.
	Omitted int
}

// Cell is one cell: its text and whether it is a number (right-aligned).
type Cell struct {
	Text string
	Num  bool
}

// ParseTables reads the "tables" of an algorithm's report (see
// sdk.ReportTable). A report that is not a JSON object, or has no
// tables, has none; malformed tables are an error.
func ParseTables(report []byte) ([]Table, error) {
	var doc map[string]json.RawMessage
	if json.Unmarshal(report, &doc) != nil || doc["tables"] == nil {
		return nil, nil
	}
	var raw []struct {
		Title   string              `json:"title"`
		Note    string              `json:"note"`
		Columns []string            `json:"columns"`
		Rows    [][]json.RawMessage `json:"rows"`
	}
	if err := json.Unmarshal(doc["tables"], &raw); err != nil {
		return nil, fmt.Errorf("algorithm report tables: %w", err)
	}
	if len(raw) > maxTables {
		raw = raw[:maxTables]
	}
	out := make([]Table, 0, len(raw))
	for _, r := range raw {
		t := Table{Title: clip(r.Title), Note: clip(r.Note)}
		width := len(r.Columns)
		for _, row := range r.Rows {
			width = max(width, len(row))
		}
		width = min(width, maxColumns)
		for i := 0; i < width; i++ {
			c := ""
			if i < len(r.Columns) {
				c = clip(r.Columns[i])
			}
			t.Columns = append(t.Columns, c)
		}
		rows := r.Rows
		if len(rows) > maxRows {
			t.Omitted = len(rows) - maxRows
			rows = rows[:maxRows]
		}
		for _, row := range rows {
			cells := make([]Cell, width)
			for i := 0; i < width && i < len(row); i++ {
				cells[i] = cell(row[i])
			}
			t.Rows = append(t.Rows, cells)
		}
		out = append(out, t)
	}
	return out, nil
}

// cell formats a JSON value: numbers with 4 significant digits (integers
// whole), strings as they are, null as —, anything else as compact JSON.
func cell(v json.RawMessage) Cell {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return Cell{}
	}
	switch v[0] {
	case 'n':
		return Cell{Text: "—"}
	case '"':
		var s string
		if json.Unmarshal(v, &s) == nil {
			return Cell{Text: clip(s)}
		}
	case 't', 'f':
		return Cell{Text: string(v)}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return Cell{Text: strconv.FormatInt(i, 10), Num: true}
		}
		if f, err := strconv.ParseFloat(string(v), 64); err == nil {
			return Cell{Text: strconv.FormatFloat(f, 'g', 4, 64), Num: true}
		}
	}
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		return Cell{Text: clip(string(v))}
	}
	return Cell{Text: clip(b.String())}
}

// clip bounds a text to maxCell characters.
func clip(s string) string {
	r := []rune(s)
	if len(r) <= maxCell {
		return s
	}
	return string(r[:maxCell]) + "…"
}
