package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

var (
	blue   = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	orange = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	red    = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	grey   = color.RGBA{R: 0x99, G: 0x99, B: 0x99, A: 0xff}
)

// rowHeight is the height of one named row in horizontal charts.
var rowHeight = vg.Points(13)

// svg renders a plot; gonum/plot panics on some degenerate input, which
// becomes an error here.
func svg(p *plot.Plot, w, h vg.Length) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("draw chart %q: %v", p.Title.Text, r)
		}
	}()
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("draw chart %q: empty size", p.Title.Text)
	}
	c := vgsvg.New(w, h)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// short cuts long node names for axis labels.
func short(s string) string {
	const n = 42
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n+1:])
}

// finite replaces NaN and infinities by 0 (charts reject them).
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// reversed returns names bottom-up, so that the first row is on top.
func reversed(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[len(names)-1-i] = n
	}
	return out
}

// sqnrChart draws per-layer SQNR as horizontal bars, the first layer on
// top; layers kept in float are grey, others blue.
func sqnrChart(layers []Layer) ([]byte, error) {
	if len(layers) == 0 {
		return nil, nil
	}
	p := plot.New()
	p.Title.Text = "Per-layer SQNR, quantized vs float (dB, higher is better)"
	p.X.Label.Text = "SQNR (dB)"
	p.X.Min = 0
	// Identical outputs give 200 dB; keep the axis on the quantized
	// layers' scale and clip the rest.
	top := 40.0
	for _, l := range layers {
		if !l.Float && finite(l.SQNR) < 150 {
			top = math.Max(top, finite(l.SQNR)*1.15)
		}
	}
	p.X.Max = top
	n := len(layers)
	names := make([]string, n)
	for i, l := range layers {
		names[i] = short(l.Node + " (" + l.OpType + ")")
	}
	for _, float := range []bool{false, true} {
		vals := make(plotter.Values, n)
		any := false
		for i, l := range layers {
			if l.Float == float {
				vals[n-1-i] = math.Min(top, math.Max(0, finite(l.SQNR)))
				any = true
			}
		}
		if !any {
			continue
		}
		bars, err := plotter.NewBarChart(vals, rowHeight*0.8)
		if err != nil {
			return nil, err
		}
		bars.Horizontal = true
		bars.LineStyle.Width = 0
		bars.Color = blue
		if float {
			bars.Color = grey
			p.Legend.Add("kept in float", bars)
		}
		p.Add(bars)
	}
	p.Add(plotter.NewGrid())
	p.NominalY(reversed(names)...)
	p.Legend.Top = true
	p.Legend.YOffs = vg.Points(18)
	return svg(p, 18*vg.Centimeter, rowHeight*vg.Length(n)+3*vg.Centimeter)
}

// rangeChart draws the [low, high] range of every activation quantizer.
func rangeChart(qs []Quantizer) ([]byte, error) {
	var acts []Quantizer
	for _, q := range qs {
		if !q.Weights {
			acts = append(acts, q)
		}
	}
	if len(acts) == 0 {
		return nil, nil
	}
	n := len(acts)
	pts := make(plotter.XYs, n)
	errs := make(plotter.XErrors, n)
	names := make([]string, n)
	for i, q := range acts {
		lo, hi := finite(q.Low), finite(q.High)
		mid := (lo + hi) / 2
		row := n - 1 - i
		pts[row] = plotter.XY{X: mid, Y: float64(row)}
		errs[row].Low, errs[row].High = mid-lo, hi-mid
		names[i] = short(q.Label())
	}
	bars, err := plotter.NewXErrorBars(struct {
		plotter.XYs
		plotter.XErrors
	}{pts, errs})
	if err != nil {
		return nil, err
	}
	bars.LineStyle.Width = vg.Points(6)
	bars.LineStyle.Color = orange
	bars.CapWidth = 0
	p := plot.New()
	p.Title.Text = "Activation quantizer ranges [low, high]"
	p.X.Label.Text = "value"
	p.Add(plotter.NewGrid(), bars)
	p.NominalY(reversed(names)...)
	return svg(p, 18*vg.Centimeter, rowHeight*vg.Length(n)+3*vg.Centimeter)
}

// trajectoryChart draws the drop after default quantization (iteration 0)
// and after each accuracy-aware iteration, with the budget when known.
func trajectoryChart(t *Trajectory) ([]byte, error) {
	if t == nil {
		return nil, nil
	}
	pts := plotter.XYs{{X: 0, Y: finite(t.DefaultDrop)}}
	for _, it := range t.Iterations {
		pts = append(pts, plotter.XY{X: float64(it.Iteration), Y: finite(it.Drop)})
	}
	p := plot.New()
	p.Title.Text = "Accuracy-aware quantization: metric drop per iteration"
	p.X.Label.Text = "iteration (0: default quantization)"
	p.Y.Label.Text = "drop"
	line, points, err := plotter.NewLinePoints(pts)
	if err != nil {
		return nil, err
	}
	line.Color = blue
	points.Color = blue
	points.Shape = draw.CircleGlyph{}
	p.Add(plotter.NewGrid(), line, points)
	p.Legend.Add("drop", line, points)
	if t.MaximalDrop != nil {
		budget := finite(*t.MaximalDrop)
		f := plotter.NewFunction(func(float64) float64 { return budget })
		f.Color = red
		f.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(f)
		p.Legend.Add("maximal drop", f)
		p.Y.Max = math.Max(p.Y.Max, budget*1.1)
	}
	p.Y.Min = math.Min(0, p.Y.Min)
	p.X.Min = 0
	p.X.Max = math.Max(1, p.X.Max)
	p.Legend.Top = true
	return svg(p, 18*vg.Centimeter, 9*vg.Centimeter)
}
