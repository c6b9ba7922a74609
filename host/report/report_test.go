package report

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	stdhtml "html"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/potgo/pot/host/report/htmlcheck"
	"github.com/potgo/pot/proto/potv1"
)

func sample() *Report {
	budget := 0.01
	return &Report{
		Kind: "quantize", Tool: "pot test", Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Model: "models/lenet.onnx", ModelBytes: 469617, Output: "out/lenet_int8.onnx", OutputBytes: 130000,
		Target: "cpu", Device: "CPU", Preset: "performance", Algorithm: "AccuracyAwareQuantization", Seconds: 12.5,
		Metric: &Metric{Name: "top1", Float: 0.988, Quantized: 0.985, Drop: 0.003, Samples: 1000, HigherBetter: true},
		Layers: []Layer{
			{Node: "/c1/Conv", OpType: "Conv", Tensor: "a", SQNR: 38.2, Cosine: 0.9999, Quantized: true},
			{Node: "/r1/Relu", OpType: "Relu", Tensor: "b", SQNR: 36.1, Cosine: 0.9998},
			{Node: "/f1/Gemm <&>", OpType: "Gemm", Tensor: "c", SQNR: 12.5, Cosine: 0.97, Quantized: true},
			{Node: "/f2/Gemm", OpType: "Gemm", Tensor: "d", SQNR: 200, Cosine: 1, Float: true},
		},
		LayerSamples: 32,
		Quantizers: []Quantizer{
			{ID: "q0", Tensor: "input", Bits: 8, Levels: 256, Mode: "symmetric", Granularity: "pertensor", Channels: 1, Low: -0.42, High: 2.8},
			{ID: "q1", Node: "/c1/Conv", Input: 1, Weights: true, Bits: 8, Levels: 255, Mode: "symmetric", Granularity: "perchannel", Channels: 6, Low: -0.5, High: 0.5},
			{ID: "q2", Tensor: "b", Bits: 8, Levels: 256, Mode: "asymmetric", Granularity: "pertensor", Channels: 1, Low: 0, High: 7.5},
		},
		Trajectory: &Trajectory{Baseline: 0.988, DefaultDrop: 0.03, FinalDrop: 0.003, Reverted: []string{"/f2/Gemm"},
			Iterations: []Iteration{{Iteration: 1, Reverted: []string{"/f1/Gemm"}, Drop: 0.02, Metric: 0.968},
				{Iteration: 2, Reverted: []string{"/f2/Gemm"}, Drop: 0.003, Metric: 0.985}},
			MaximalDrop: &budget},
		AlgorithmReport: json.RawMessage(`{"baseline":0.988}`),
	}
}

func TestWriteJSONAndHTML(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "report")
	r := sample()
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Metric.Drop != 0.003 || len(back.Layers) != 4 || back.Layers[2].SQNR != 12.5 || len(back.Trajectory.Iterations) != 2 || *back.Trajectory.MaximalDrop != 0.01 {
		t.Errorf("report.json does not round trip: %s", b)
	}
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	for _, want := range []string{
		`<section id="summary">`, `<section id="layers">`, `<section id="quantizers">`, `<section id="trajectory">`,
		"458.6 KiB", "3.61× smaller", "0.9880", "0.9850", "0.0030", "12.5 s",
		"Lowest SQNR: <code>/f1/Gemm &lt;&amp;&gt;</code> (12.5 dB)", // escaped, and the float layer is not listed
		"kept in float", "input", "/c1/Conv:1",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if strings.Contains(html, "<&>") {
		t.Error("node name not escaped")
	}
	// Self-contained: no script, nothing fetched.
	if regexp.MustCompile(`(?i)<script|src="http|href="http|url\(http`).MatchString(html) {
		t.Error("report.html refers to outside resources or has scripts")
	}
	var imgs [][]string
	for _, m := range regexp.MustCompile(`<img src="([^"]+)"`).FindAllStringSubmatch(html, -1) {
		src := stdhtml.UnescapeString(m[1])
		if data, ok := strings.CutPrefix(src, "data:image/svg+xml;base64,"); ok {
			imgs = append(imgs, []string{src, data})
		}
	}
	if len(imgs) != 3 {
		t.Fatalf("%d embedded charts, want 3", len(imgs))
	}
	for i, m := range imgs {
		svg, err := base64.StdEncoding.DecodeString(m[1])
		if err != nil {
			t.Fatalf("chart %d: %v", i, err)
		}
		if err := wellFormed(svg); err != nil {
			t.Errorf("chart %d is not well-formed SVG: %v", i, err)
		}
		if !bytes.Contains(svg, []byte("<svg")) {
			t.Errorf("chart %d is not SVG", i)
		}
	}
	// The SQNR chart names the layers; the range chart skips weights.
	sq, _ := base64.StdEncoding.DecodeString(imgs[0][1])
	rg, _ := base64.StdEncoding.DecodeString(imgs[1][1])
	if !bytes.Contains(sq, []byte("/c1/Conv (Conv)")) || !bytes.Contains(rg, []byte(">b<")) || bytes.Contains(rg, []byte("/c1/Conv:1")) {
		t.Error("chart labels are wrong")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("report folder holds %v, want only report.json and report.html", entries)
	}
}

func wellFormed(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func TestMinimalReportHasNoEmptySections(t *testing.T) {
	r := &Report{Kind: "analyze", Model: "m.onnx", Target: "cpu", Created: time.Now()}
	var buf bytes.Buffer
	if err := r.HTML(&buf); err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{`id="layers"`, `id="quantizers"`, `id="trajectory"`, "<img"} {
		if strings.Contains(buf.String(), absent) {
			t.Errorf("empty report has %s", absent)
		}
	}
}

func TestChartsSurviveOddValues(t *testing.T) {
	r := sample()
	r.Layers[0].SQNR = math.NaN()
	r.Layers[1].SQNR = math.Inf(1)
	r.Quantizers[0].Low, r.Quantizers[0].High = 1, 1 // empty range
	r.Trajectory.Iterations = nil
	var buf bytes.Buffer
	if err := r.HTML(&buf); err != nil {
		t.Fatal(err)
	}
}

func TestReportOpensInChromium(t *testing.T) {
	browser := htmlcheck.Find()
	if browser == "" {
		t.Skip("no Chromium installed (apt-get install chromium); skipping the browser check of report.html")
	}
	dir := t.TempDir()
	if err := sample().Write(dir); err != nil {
		t.Fatal(err)
	}
	res, err := htmlcheck.Load(context.Background(), browser, filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Console) > 0 {
		t.Errorf("console messages: %q", res.Console)
	}
	if n := strings.Count(res.DOM, "<img"); n != 3 {
		t.Errorf("browser DOM has %d images, want 3", n)
	}
}

func TestTrajectoryOf(t *testing.T) {
	if tr := TrajectoryOf(nil); tr != nil {
		t.Errorf("TrajectoryOf(nil) = %+v, want nil", tr)
	}
	s := &potv1.SearchResult{Baseline: 0.9, MaxDrop: 0.01, DefaultDrop: 0.05, FinalDrop: 0.008, Reverted: []string{"a", "b"},
		Iterations: []*potv1.SearchIteration{{Iteration: 1, Reverted: []string{"a"}, Drop: 0.02, Metric: 0.88, Accepted: true},
			{Iteration: 2, Reverted: []string{"b"}, Drop: 0.008, Metric: 0.892, Reranked: true}}}
	b, err := json.Marshal(TrajectoryOf(s))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"baseline":0.9,"default_drop":0.05,"final_drop":0.008,"reverted":["a","b"],"iterations":[` +
		`{"iteration":1,"reverted":["a"],"drop":0.02,"metric":0.88,"accepted":true,"reranked":false},` +
		`{"iteration":2,"reverted":["b"],"drop":0.008,"metric":0.892,"accepted":false,"reranked":true}],"maximal_drop":0.01}`
	if string(b) != want {
		t.Errorf("trajectory\n%s\nwant\n%s", b, want)
	}
	// A search that met its budget at once: empty lists, a zero budget.
	b, _ = json.Marshal(TrajectoryOf(&potv1.SearchResult{Baseline: 0.9}))
	if want := `{"baseline":0.9,"default_drop":0,"final_drop":0,"reverted":[],"iterations":[],"maximal_drop":0}`; string(b) != want {
		t.Errorf("trajectory %s, want %s", b, want)
	}
}

func TestQuantizersSummary(t *testing.T) {
	p := &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{
		{Id: "w", Location: &potv1.Location{Node: "conv", Input: 1}, Weights: true, Bits: 8, Levels: 255,
			Mode: potv1.QuantizationMode_QUANTIZATION_MODE_SYMMETRIC, Granularity: potv1.Granularity_GRANULARITY_PER_CHANNEL,
			InputLow: []float32{-1, -3, -2}, InputHigh: []float32{1, 3, 2}},
		{Id: "a", Location: &potv1.Location{Tensor: "x"}, Bits: 8, Levels: 256,
			Mode: potv1.QuantizationMode_QUANTIZATION_MODE_ASYMMETRIC, Granularity: potv1.Granularity_GRANULARITY_PER_TENSOR,
			InputLow: []float32{-0.5}, InputHigh: []float32{4}},
	}}
	qs := Quantizers(p)
	if len(qs) != 2 {
		t.Fatal(qs)
	}
	if q := qs[0]; q.Low != -3 || q.High != 3 || q.Channels != 3 || q.Granularity != "perchannel" || q.Label() != "conv:1" || !q.Weights {
		t.Errorf("weights quantizer = %+v", q)
	}
	if q := qs[1]; q.Low != -0.5 || q.High != 4 || q.Mode != "asymmetric" || q.Label() != "x" {
		t.Errorf("activation quantizer = %+v", q)
	}
}

// fakeInferer returns, per tensor, fixed float and quantized values.
type fakeInferer struct {
	float, quant map[string][]float32
	missing      map[string]bool // tensors the target does not have
	calls        int
}

func (f *fakeInferer) Infer(_ context.Context, req *potv1.InferRequest) (*potv1.InferResponse, error) {
	f.calls++
	src := f.float
	if len(req.GetPlan().GetQuantizers()) > 0 {
		src = f.quant
	}
	resp := &potv1.InferResponse{}
	for _, name := range req.GetOutputs() {
		if f.missing[name] {
			return nil, fmt.Errorf("no tensor %q in the model", name)
		}
		v := src[name]
		raw := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
		}
		resp.Outputs = append(resp.Outputs, &potv1.Tensor{Name: name, Dtype: potv1.DataType_DATA_TYPE_FLOAT, Dims: []int64{2, int64(len(v) / 2)}, Data: raw})
	}
	return resp, nil
}

func TestLayers(t *testing.T) {
	g := &potv1.Graph{
		Inputs:       []*potv1.ValueInfo{{Name: "x"}},
		Initializers: []*potv1.Tensor{{Name: "w"}, {Name: "shape"}},
		Nodes: []*potv1.Node{
			{Name: "folded", OpType: "Reshape", Inputs: []string{"w", "shape"}, Outputs: []string{"w2"}},
			{Name: "conv", OpType: "Conv", Inputs: []string{"x", "w2"}, Outputs: []string{"a"}},
			{Name: "relu", OpType: "Relu", Inputs: []string{"a"}, Outputs: []string{"b"}},
			{Name: "odd", OpType: "Custom", Inputs: []string{"b"}, Outputs: []string{"c"}},
		},
	}
	p := &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{{Id: "q", Location: &potv1.Location{Node: "conv", Input: 0}}}}
	f := &fakeInferer{
		// a: signal Σx² = 1+4+9+16 = 30, noise Σ(x−y)² = 4·0.01 = 0.04 → 10·log10(750) dB.
		float:   map[string][]float32{"a": {1, 2, 3, 4}, "b": {1, 0, 0, 1}},
		quant:   map[string][]float32{"a": {1.1, 1.9, 3.1, 3.9}, "b": {1, 0, 0, 1}},
		missing: map[string]bool{"c": true},
	}
	var calls [][2]int
	layers, err := Layers(context.Background(), f, g, "m", p, []int64{0, 1}, func(done, total int) { calls = append(calls, [2]int{done, total}) })
	if err != nil {
		t.Fatal(err)
	}
	if want := [][2]int{{0, 3}, {3, 3}}; !slices.Equal(calls, want) {
		t.Errorf("progress calls %v, want %v (3 layers in one group)", calls, want)
	}
	if len(layers) != 2 {
		t.Fatalf("layers = %+v, want conv and relu (folded is constant, odd is missing)", layers)
	}
	want := 10 * math.Log10(30/0.04)
	if l := layers[0]; l.Node != "conv" || math.Abs(l.SQNR-want) > 1e-3 || !l.Quantized || l.Cosine <= 0.99 || l.Cosine >= 1 {
		t.Errorf("conv = %+v, want SQNR %.4f", l, want)
	}
	if l := layers[1]; l.Node != "relu" || l.SQNR != 200 || l.Cosine != 1 || l.Quantized {
		t.Errorf("relu = %+v, want identical outputs (200 dB)", l)
	}
}

// TestLayersGroupBySize: small layers are measured up to maxGroup per
// pair of runs, large ones group at least per group, and none is left
// out.
func TestLayersGroupBySize(t *testing.T) {
	for _, tc := range []struct {
		name           string
		layers, floats int // floats per layer
		calls          int // Infer calls
	}{
		{"small layers", 200, 4, 2 * (1 + 3)},                            // 8, then 64, 64, 64
		{"large layers", 24, groupBytes / 4 / group * 2, 2 * 24 / group}, // twice groupBytes per group: never above group
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &potv1.Graph{Inputs: []*potv1.ValueInfo{{Name: "v0"}}}
			f := &fakeInferer{float: map[string][]float32{}, quant: map[string][]float32{}}
			data := make([]float32, tc.floats)
			for i := 0; i < tc.layers; i++ {
				out := fmt.Sprintf("v%d", i+1)
				g.Nodes = append(g.Nodes, &potv1.Node{Name: fmt.Sprintf("n%d", i), OpType: "Relu", Inputs: []string{fmt.Sprintf("v%d", i)}, Outputs: []string{out}})
				f.float[out], f.quant[out] = data, data
			}
			p := &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{{Id: "q", Location: &potv1.Location{Node: "n0", Input: 0}}}}
			layers, err := Layers(context.Background(), f, g, "m", p, []int64{0, 1}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(layers) != tc.layers || f.calls != tc.calls {
				t.Fatalf("%d layers in %d calls, want %d in %d", len(layers), f.calls, tc.layers, tc.calls)
			}
		})
	}
}

// TestSamples: a per-layer analysis keeps the samples asked for while it
// stays within runBudget sample runs, and takes fewer, down to
// minSamples, on a model of many layers.
func TestSamples(t *testing.T) {
	chain := func(n int) *potv1.Graph {
		g := &potv1.Graph{Inputs: []*potv1.ValueInfo{{Name: "v0"}}}
		for i := 0; i < n; i++ {
			g.Nodes = append(g.Nodes, &potv1.Node{Name: fmt.Sprintf("n%d", i), OpType: "Relu",
				Inputs: []string{fmt.Sprintf("v%d", i)}, Outputs: []string{fmt.Sprintf("v%d", i+1)}})
		}
		return g
	}
	for _, tc := range []struct{ layers, requested, want int }{
		{0, 32, 32},
		{30, 32, 32}, // 4 groups: 8 runs a sample
		{64, 32, 32}, // 8 groups: 16 runs a sample, 512 in all
		{72, 32, 28}, // 9 groups
		{600, 32, 4}, // 75 groups: 3 by the budget, raised to minSamples
		{600, 2, 2},  // never more than asked
	} {
		if got := Samples(chain(tc.layers), &potv1.QuantizationPlan{}, tc.requested); got != tc.want {
			t.Errorf("%d layers, %d requested: %d samples, want %d", tc.layers, tc.requested, got, tc.want)
		}
	}
}

// TestTrialsTable: a search with tune_hyperparams trials gets a trials
// table in report.html and its trials in report.json; one without has
// neither.
func TestTrialsTable(t *testing.T) {
	s := &potv1.SearchResult{Baseline: 0.9, MaxDrop: 0.01, DefaultDrop: 0.05, FinalDrop: 0.008,
		Trials: []*potv1.SearchTrial{{Trial: 0, Step: "reference", Params: "{}", Metric: 0.7, Drop: 0.2, Kept: true},
			{Trial: 1, Step: "ranges", Params: `{"preset":"mixed"}`, Metric: 0.75, Drop: 0.15, Kept: true, FullMeasured: true,
				FullMetric: 0.87, FullDrop: 0.03, Adopted: true}}}
	for _, tc := range []struct {
		name   string
		search *potv1.SearchResult
		want   []string
	}{
		{"with trials", s, []string{`<section id="tuning">`, "<code>{&#34;preset&#34;:&#34;mixed&#34;}</code>", "0.1500", "0.0300"}},
		{"without", &potv1.SearchResult{Baseline: 0.9}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{Kind: "quantize", Model: "m.onnx", Target: "cpu", Created: time.Now(), Trajectory: TrajectoryOf(tc.search)}
			var buf bytes.Buffer
			if err := r.HTML(&buf); err != nil {
				t.Fatal(err)
			}
			html := buf.String()
			for _, w := range tc.want {
				if !strings.Contains(html, w) {
					t.Errorf("report.html lacks %q", w)
				}
			}
			b, _ := json.Marshal(r.Trajectory)
			if got := strings.Contains(string(b), `"trials"`); got != (tc.want != nil) || strings.Contains(html, `id="tuning"`) != (tc.want != nil) {
				t.Errorf("trials shown: json %v, html %v", got, strings.Contains(html, `id="tuning"`))
			}
		})
	}
}
