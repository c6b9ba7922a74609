package report

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strings"
)

// chart is an embedded SVG image.
type chart struct {
	Src template.URL
	Alt string
}

func embed(svg []byte, alt string) *chart {
	if len(svg) == 0 {
		return nil
	}
	return &chart{Src: template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(svg)), Alt: alt}
}

type row struct{ Key, Value string }

type page struct {
	R          *Report
	Title      string
	Summary    []row
	SQNR       *chart
	Ranges     *chart
	Trajectory *chart
	Worst      []Layer
	AlgoReport string
	// AlgoTables are the tables of the algorithm report (sdk.ReportTable).
	AlgoTables []Table
	// Chain: the reports of a chain of several algorithms, as text, and
	// their tables.
	Chain []chainView
}

// chainView is one report of a chain and its tables.
type chainView struct {
	ChainReport
	Tables []Table
}

// HTML writes the report as one self-contained page.
func (r *Report) HTML(w io.Writer) error {
	pg := &page{R: r, Title: "pot report: " + filepath.Base(r.Model)}
	pg.Summary = r.summary()
	var err error
	var svg []byte
	if svg, err = sqnrChart(r.Layers); err != nil {
		return err
	}
	pg.SQNR = embed(svg, "bar chart of the SQNR of each layer's output")
	if svg, err = rangeChart(r.Quantizers); err != nil {
		return err
	}
	pg.Ranges = embed(svg, "range of each activation quantizer")
	if svg, err = trajectoryChart(r.Trajectory); err != nil {
		return err
	}
	pg.Trajectory = embed(svg, "metric drop after each accuracy-aware iteration")
	pg.Worst = worst(r.Layers, 5)
	if len(r.AlgorithmReport) > 0 {
		pg.AlgoReport = string(r.AlgorithmReport)
		// Malformed tables are left out: the JSON below still shows them.
		pg.AlgoTables, _ = ParseTables(r.AlgorithmReport)
	}
	for _, c := range r.ChainReports {
		tables, _ := ParseTables(c.Report)
		pg.Chain = append(pg.Chain, chainView{ChainReport: c, Tables: tables})
	}
	return pageTemplate.Execute(w, pg)
}

// worst returns the n quantized layers of lowest SQNR.
func worst(layers []Layer, n int) []Layer {
	var q []Layer
	for _, l := range layers {
		if !l.Float {
			q = append(q, l)
		}
	}
	sort.SliceStable(q, func(i, j int) bool { return q[i].SQNR < q[j].SQNR })
	return q[:min(n, len(q))]
}

func (r *Report) summary() []row {
	rows := []row{{"Model", r.Model}, {"Model size", size(r.ModelBytes)}}
	if r.Output != "" {
		after := size(r.OutputBytes)
		if r.ModelBytes > 0 && r.OutputBytes > 0 {
			after += fmt.Sprintf(" (%.2f× smaller)", float64(r.ModelBytes)/float64(r.OutputBytes))
		}
		rows = append(rows, row{"Quantized model", r.Output}, row{"Quantized size", after})
	}
	target := r.Target
	if r.Device != "" && !strings.EqualFold(r.Device, r.Target) {
		target += " (" + r.Device + ")"
	}
	rows = append(rows, row{"Target", target})
	if r.Algorithm != "" {
		rows = append(rows, row{"Algorithm", r.Algorithm})
	}
	if r.Preset != "" {
		rows = append(rows, row{"Preset", r.Preset})
	}
	rows = append(rows, row{"Quantizers", fmt.Sprintf("%d (%d weights, %d activations)", len(r.Quantizers), r.countWeights(), len(r.Quantizers)-r.countWeights())})
	if m := r.Metric; m != nil {
		dir := "higher is better"
		if !m.HigherBetter {
			dir = "lower is better"
		}
		rows = append(rows,
			row{"Metric", fmt.Sprintf("%s (%s), %d samples", m.Name, dir, m.Samples)},
			row{"Float model", num(m.Float)},
			row{"Quantized model", num(m.Quantized)},
			row{"Drop", num(m.Drop)})
	}
	if t := r.Trajectory; t != nil {
		rows = append(rows, row{"Layers reverted to float", fmt.Sprintf("%d", len(t.Reverted))})
	}
	rows = append(rows, row{"Time", fmt.Sprintf("%.1f s", r.Seconds)}, row{"Created", r.Created.Format("2006-01-02 15:04:05 MST")})
	if r.Tool != "" {
		rows = append(rows, row{"Tool", r.Tool})
	}
	return rows
}

func (r *Report) countWeights() int {
	n := 0
	for _, q := range r.Quantizers {
		if q.Weights {
			n++
		}
	}
	return n
}

func size(b int64) string {
	switch {
	case b <= 0:
		return "—"
	case b < 1<<10:
		return fmt.Sprintf("%d B", b)
	case b < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	case b < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30))
}

func num(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.4f", v)
}

var funcs = template.FuncMap{
	"num": num,
	"db":  func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"join": func(s []string) string {
		if len(s) == 0 {
			return "—"
		}
		return strings.Join(s, ", ")
	},
}

var pageTemplate = template.Must(template.New("report").Funcs(funcs).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; } h3 { font-size: 1em; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f4f4f4; }
img { max-width: 100%; height: auto; display: block; margin: 0.5em 0; }
.note { color: #555; font-size: 0.9em; }
pre { background: #f8f8f8; padding: 0.6em; overflow: auto; font-size: 0.8em; }
tr.float td { color: #888; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>

<section id="summary">
<h2>Summary</h2>
<table>
{{range .Summary}}<tr><th scope="row">{{.Key}}</th><td>{{.Value}}</td></tr>
{{end}}</table>
</section>

{{if .R.Layers}}<section id="layers">
<h2>Per-layer error</h2>
<p class="note">Each layer's output in the quantized model is compared with the same output in the float model on
{{.R.LayerSamples}} calibration samples. SQNR is 10·log10(Σ float² / Σ (float − quantized)²) in dB: every 6 dB is
about one bit of precision; above 30 dB is rarely a problem, below 15 dB a layer is a likely cause of an accuracy
drop (and a candidate for <code>ignored</code> or for the accuracy-aware algorithm). Errors add up along the network,
so the SQNR usually falls with depth; a sudden fall marks a sensitive layer.</p>
{{with .Worst}}<p>Lowest SQNR: {{range $i, $l := .}}{{if $i}}, {{end}}<code>{{$l.Node}}</code> ({{db $l.SQNR}} dB){{end}}.</p>{{end}}
{{with .SQNR}}<img src="{{.Src}}" alt="{{.Alt}}">{{end}}
<table>
<tr><th>#</th><th>node</th><th>op</th><th>SQNR (dB)</th><th>cosine</th><th>quantized input</th></tr>
{{range $i, $l := .R.Layers}}<tr{{if $l.Float}} class="float"{{end}}><td class="num">{{$i}}</td><td>{{$l.Node}}</td><td>{{$l.OpType}}</td><td class="num">{{db $l.SQNR}}</td><td class="num">{{num $l.Cosine}}</td><td>{{if $l.Float}}kept in float{{else if $l.Quantized}}yes{{else}}no{{end}}</td></tr>
{{end}}</table>
</section>{{end}}

{{if .R.Quantizers}}<section id="quantizers">
<h2>Quantizers</h2>
<p class="note">The range [low, high] each quantizer maps onto its integer levels. A range much wider than the values
that matter wastes levels; per-channel weight ranges are summarized by their smallest low and largest high.</p>
{{with .Ranges}}<img src="{{.Src}}" alt="{{.Alt}}">{{end}}
<table>
<tr><th>id</th><th>quantizes</th><th>kind</th><th>bits</th><th>mode</th><th>granularity</th><th>low</th><th>high</th></tr>
{{range .R.Quantizers}}<tr><td>{{.ID}}</td><td>{{.Label}}</td><td>{{if .Weights}}weights{{else}}activations{{end}}</td><td class="num">{{.Bits}}</td><td>{{.Mode}}</td><td>{{.Granularity}}{{if gt .Channels 1}} ({{.Channels}}){{end}}</td><td class="num">{{num .Low}}</td><td class="num">{{num .High}}</td></tr>
{{end}}</table>
</section>{{end}}

{{with .R.Trajectory}}{{if .Trials}}<section id="tuning">
<h2>Hyperparameter search</h2>
<p class="note">Before reverting layers, the base algorithm ran again with other parameters (tune_hyperparams), each trial
scored on the ranking subset (the samples the starting plan hurts most). Trial 0 is the starting plan; a trial is kept when
it lowers the best subset drop so far. The best is measured on the full set and the search goes on from it only if its drop
there is lower.</p>
<table>
<tr><th>trial</th><th>step</th><th>parameters changed</th><th>subset metric</th><th>subset drop</th><th>kept</th><th>full-set drop</th><th>adopted</th></tr>
{{range .Trials}}<tr><td class="num">{{.Trial}}</td><td>{{.Step}}</td><td><code>{{.Params}}</code></td><td class="num">{{num .Metric}}</td><td class="num">{{num .Drop}}</td><td>{{if .Kept}}yes{{end}}</td><td class="num">{{if .FullMeasured}}{{num .FullDrop}}{{end}}</td><td>{{if .FullMeasured}}{{if .Adopted}}yes{{else}}no{{end}}{{end}}</td></tr>
{{end}}</table>
</section>

{{end}}{{end}}{{with .R.Trajectory}}<section id="trajectory">
<h2>Accuracy-aware trajectory</h2>
<p class="note">The float model scored {{num .Baseline}}. Default quantization dropped it by {{num .DefaultDrop}};
each iteration then put the most harmful layers back in float until the drop was within budget. Final drop:
{{num .FinalDrop}}, {{len .Reverted}} layer(s) in float: {{join .Reverted}}.</p>
{{with $.Trajectory}}<img src="{{.Src}}" alt="{{.Alt}}">{{end}}
<table>
<tr><th>iteration</th><th>metric</th><th>drop</th><th>reverted in this iteration</th></tr>
<tr><td class="num">0</td><td class="num">—</td><td class="num">{{num .DefaultDrop}}</td><td>(default quantization)</td></tr>
{{range .Iterations}}<tr><td class="num">{{.Iteration}}</td><td class="num">{{num .Metric}}</td><td class="num">{{num .Drop}}</td><td>{{join .Reverted}}</td></tr>
{{end}}</table>
</section>{{end}}

{{if .Chain}}<section id="algorithm">
<h2>Algorithm reports</h2>
{{range .Chain}}{{template "tables" .Tables}}<details><summary>What {{.Algorithm}} reported (JSON)</summary><pre>{{printf "%s" .Report}}</pre></details>
{{end}}</section>{{else}}{{with .AlgoReport}}<section id="algorithm">
<h2>Algorithm report</h2>
{{template "tables" $.AlgoTables}}<details><summary>What the algorithm reported (JSON)</summary><pre>{{.}}</pre></details>
</section>{{end}}{{end}}
</body>
</html>
{{define "tables"}}{{range .}}{{with .Title}}<h3>{{.}}</h3>
{{end}}{{with .Note}}<p class="note">{{.}}</p>
{{end}}<table class="algorithm">
<tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td{{if .Num}} class="num"{{end}}>{{.Text}}</td>{{end}}</tr>
{{end}}</table>
{{if .Omitted}}<p class="note">{{.Omitted}} more rows in report.json.</p>
{{end}}{{end}}{{end}}`))
