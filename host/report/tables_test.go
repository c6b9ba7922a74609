package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// adaroundReport is AdaRound's report (RunResponse.report, pot quantize
// --json's "reports") from a real run: pot quantize --algorithm AdaRound
// on LeNet, vpu, 4-bit weights.
func adaroundReport(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "adaround_lenet_vpu_w4.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rowRE finds a table row whose first cell is a name.
func rowRE(name string) *regexp.Regexp {
	return regexp.MustCompile(`<tr><td>` + regexp.QuoteMeta(name) + `</td>((?:<td[^>]*>[^<]*</td>)*)</tr>`)
}

// The per-layer table of a real AdaRound report is in report.html, one
// row per layer with its errors and flipped share as the report has
// them, both as the algorithm report and in a chain.
func TestAlgorithmReportTables(t *testing.T) {
	raw := adaroundReport(t)
	var rep struct {
		Layers []struct {
			Layer                      string
			Nearest, AdaRound, Flipped float64
		}
	}
	if err := json.Unmarshal(raw, &rep); err != nil || len(rep.Layers) == 0 {
		t.Fatalf("fixture: %v, %d layers", err, len(rep.Layers))
	}
	single := &Report{Kind: "quantize", Model: "lenet_mnist.onnx", Target: "vpu", Created: time.Now(), AlgorithmReport: raw}
	chain := &Report{Kind: "quantize", Model: "lenet_mnist.onnx", Target: "vpu", Created: time.Now(), AlgorithmReport: raw,
		ChainReports: []ChainReport{{Algorithm: "DefaultQuantization", Report: json.RawMessage(`{"steps":[]}`)}, {Algorithm: "AdaRound", Report: raw}}}
	for name, r := range map[string]*Report{"single": single, "chain": chain} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := r.HTML(&buf); err != nil {
				t.Fatal(err)
			}
			page := buf.String()
			if !strings.Contains(page, "<h3>AdaRound: per-layer reconstruction error</h3>") {
				t.Error("no per-layer table title")
			}
			if n := strings.Count(page, `<table class="algorithm">`); n != 1 {
				t.Errorf("%d algorithm tables, want 1", n)
			}
			for _, l := range rep.Layers {
				m := rowRE(l.Layer).FindStringSubmatch(page)
				if m == nil {
					t.Errorf("no row for layer %s", l.Layer)
					continue
				}
				cells := regexp.MustCompile(`<td class="num">([^<]*)</td>`).FindAllStringSubmatch(m[1], -1)
				if len(cells) != 3 {
					t.Fatalf("layer %s: cells %q, want 3 numbers", l.Layer, m[1])
				}
				for i, want := range []float64{l.Nearest, l.AdaRound, l.Flipped} {
					got, err := strconv.ParseFloat(cells[i][1], 64)
					if err != nil || !near(got, want) {
						t.Errorf("layer %s cell %d: %q, want %g", l.Layer, i, cells[i][1], want)
					}
				}
				if !(l.AdaRound < l.Nearest) {
					t.Errorf("fixture layer %s: AdaRound %g not below nearest %g", l.Layer, l.AdaRound, l.Nearest)
				}
			}
		})
	}
}

// near: equal to 4 significant digits.
func near(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	m := b
	if m < 0 {
		m = -m
	}
	return d <= 5e-4*m+1e-300
}

// A layer name, title or note from a plugin is text, never markup.
func TestAlgorithmTablesEscape(t *testing.T) {
	hostile := `</td><script>alert("x")</script><img src=x onerror=alert(1)>&amp;`
	tbl := map[string]any{"tables": []any{map[string]any{
		"title": "<b>title</b>", "note": "<i>note</i>", "columns": []string{"<th>layer", "error"},
		"rows": [][]any{{hostile, 0.5}, {"ok", nil, "extra"}}}}}
	raw, _ := json.Marshal(tbl)
	r := &Report{Kind: "quantize", Model: "m.onnx", Target: "cpu", Created: time.Now(), AlgorithmReport: raw}
	var buf bytes.Buffer
	if err := r.HTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, bad := range []string{"<script>", "<img src=x", "<b>title", "<i>note", "<th><th>"} {
		if strings.Contains(page, bad) {
			t.Errorf("page holds unescaped %q", bad)
		}
	}
	for _, good := range []string{"&lt;script&gt;", "&amp;amp;", "&lt;b&gt;title&lt;/b&gt;", `<td class="num">0.5</td>`, "<td>—</td>", "<td>extra</td>"} {
		if !strings.Contains(page, good) {
			t.Errorf("page lacks %q", good)
		}
	}
}

func TestParseTables(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     [][]Cell // rows of the first table
		err      bool
	}{
		{"not JSON", `nope`, nil, false},
		{"no tables", `{"layers": []}`, nil, false},
		{"array report", `[1, 2]`, nil, false},
		{"malformed", `{"tables": {"title": 1}}`, nil, true},
		{"numbers", `{"tables": [{"columns": ["a", "b", "c", "d"], "rows": [[12, 0.000123456, 1234567.0, -2.5e-9]]}]}`,
			[][]Cell{{{"12", true}, {"0.0001235", true}, {"1.235e+06", true}, {"-2.5e-09", true}}}, false},
		{"others", `{"tables": [{"columns": ["a"], "rows": [[true, null, {"k": [1, 2]}]]}]}`,
			[][]Cell{{{"true", false}, {"—", false}, {`{"k":[1,2]}`, false}}}, false},
		{"short row", `{"tables": [{"columns": ["a", "b"], "rows": [["x"]]}]}`, [][]Cell{{{"x", false}, {}}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseTables([]byte(c.in))
			if (err != nil) != c.err {
				t.Fatalf("error %v, want error %v", err, c.err)
			}
			if c.want == nil {
				if len(got) != 0 {
					t.Errorf("got %+v, want no tables", got)
				}
				return
			}
			if len(got) != 1 || len(got[0].Rows) != len(c.want) {
				t.Fatalf("got %+v", got)
			}
			for i, row := range c.want {
				for j, cell := range row {
					if got[0].Rows[i][j] != cell {
						t.Errorf("cell %d,%d: %+v, want %+v", i, j, got[0].Rows[i][j], cell)
					}
				}
			}
		})
	}
}

func TestParseTablesLimits(t *testing.T) {
	rows := make([][]any, maxRows+5)
	for i := range rows {
		rows[i] = []any{strings.Repeat("x", maxCell+10)}
	}
	raw, _ := json.Marshal(map[string]any{"tables": []any{map[string]any{"columns": []string{"a"}, "rows": rows}}})
	got, err := ParseTables(raw)
	if err != nil || len(got) != 1 {
		t.Fatalf("%v, %d tables", err, len(got))
	}
	if len(got[0].Rows) != maxRows || got[0].Omitted != 5 {
		t.Errorf("%d rows, %d omitted; want %d and 5", len(got[0].Rows), got[0].Omitted, maxRows)
	}
	if n := len([]rune(got[0].Rows[0][0].Text)); n != maxCell+1 {
		t.Errorf("cell of %d characters, want %d", n, maxCell+1)
	}
}

func FuzzParseTables(f *testing.F) {
	f.Add([]byte(`{"tables": [{"title": "t", "columns": ["a", "b"], "rows": [["x", 1.5], [null, true]]}]}`))
	f.Add([]byte(`{"tables": [{"rows": [[{"a": 1}, [1, 2], -0, 1e400]]}]}`))
	f.Add([]byte(`{"tables": null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tables, err := ParseTables(b)
		if err != nil {
			return
		}
		if len(tables) > maxTables {
			t.Fatalf("%d tables", len(tables))
		}
		for _, tb := range tables {
			if len(tb.Columns) > maxColumns || len(tb.Rows) > maxRows {
				t.Fatalf("%d columns, %d rows", len(tb.Columns), len(tb.Rows))
			}
			for _, r := range tb.Rows {
				if len(r) != len(tb.Columns) {
					t.Fatalf("row of %d cells, %d columns", len(r), len(tb.Columns))
				}
			}
		}
		r := &Report{Kind: "quantize", Model: "m", Target: "cpu", AlgorithmReport: b}
		var buf bytes.Buffer
		if err := r.HTML(&buf); err != nil {
			t.Fatal(err)
		}
	})
}
