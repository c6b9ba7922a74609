package smoothquant

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/graph"
)

// searchInputs infers the smoothed tensors of the groups on the first n
// samples of idx (the float model as it comes in).
func searchInputs(ctx context.Context, h sdk.Host, model string, floatPlan *potv1.QuantizationPlan, groups []*group, idx []int64, n int) (map[string][]float32, error) {
	if n > len(idx) {
		n = len(idx)
	}
	var names []string
	for _, gr := range groups {
		if gr.channelLast {
			names = append(names, gr.source)
		}
	}
	out := map[string][]float32{}
	if len(names) == 0 {
		return out, nil
	}
	resp, err := h.Infer(ctx, &potv1.InferRequest{ModelId: model, Plan: floatPlan,
		Samples: &potv1.Samples{Indices: idx[:n]}, Outputs: names})
	if err != nil {
		return nil, fmt.Errorf("infer the layers' inputs for the α search: %w", err)
	}
	for _, t := range resp.GetOutputs() {
		v, err := graph.Float32s(t)
		if err != nil {
			return nil, fmt.Errorf("tensor %s: %w", t.GetName(), err)
		}
		out[t.GetName()] = v
	}
	return out, nil
}

// searchAlpha returns the α of grid whose smoothing gives the least
// simulated int8 error of the group's layer outputs on the activations
// x (channels last), or -1 when leaving the layers alone does better;
// and the error of every α tried ("none": unsmoothed). The simulation
// quantizes the activation per tensor (symmetric, or asymmetric for the
// presets that make activations asymmetric) and the weights per output
// channel, symmetric, as DefaultQuantization does on CPU.
func searchAlpha(x []float32, gr *group, ws [][]float32, wDims [][]int64, am, wm, grid []float64, preset string) (float64, map[string]float64) {
	c := gr.channels
	rows := len(x) / c
	errs := map[string]float64{}
	if rows == 0 {
		return -1, errs
	}
	xm := mat.NewDense(rows, c, f64(x[:rows*c]))
	asym := preset == "mixed" || preset == "accuracy" || preset == "asymmetric"
	type lw struct {
		w   *mat.Dense // [c, out]
		ref *mat.Dense
		n2  float64
	}
	var layers []lw
	for k, l := range gr.layers {
		d := wDims[k]
		w := mat.NewDense(int(d[0]), int(d[1]), f64(ws[k]))
		var wc mat.Dense
		if l.inAxis == 1 {
			wc.CloneFrom(w.T())
		} else {
			wc.CloneFrom(w)
		}
		var ref mat.Dense
		ref.Mul(xm, &wc)
		n2 := mat.Norm(&ref, 2)
		layers = append(layers, lw{w: &wc, ref: &ref, n2: n2 * n2})
	}
	eval := func(s []float64) float64 {
		xs := mat.DenseCopyOf(xm)
		xs.Apply(func(_, j int, v float64) float64 { return v / s[j] }, xs)
		quantizeActivations(xs, asym)
		total := 0.0
		for _, l := range layers {
			wsc := mat.DenseCopyOf(l.w)
			wsc.Apply(func(i, _ int, v float64) float64 { return v * s[i] }, wsc)
			quantizeWeights(wsc)
			var y mat.Dense
			y.Mul(xs, wsc)
			y.Sub(&y, l.ref)
			e := mat.Norm(&y, 2)
			if l.n2 > 0 {
				total += e * e / l.n2
			}
		}
		return total
	}
	none := eval(ones(c))
	errs["none"] = none
	best, bestErr := -1.0, math.Inf(1)
	for _, a := range grid {
		e := eval(scales(am, wm, a))
		errs[alphaKey(a)] = e
		if e < bestErr {
			best, bestErr = a, e
		}
	}
	if none < bestErr {
		return -1, errs
	}
	return best, errs
}

// quantizeActivations fake-quantizes m to 8 bits per tensor.
func quantizeActivations(m *mat.Dense, asym bool) {
	lo, hi := mat.Min(m), mat.Max(m)
	if asym {
		lo, hi = math.Min(lo, 0), math.Max(hi, 0)
		if hi <= lo {
			return
		}
		sc := (hi - lo) / 255
		zp := math.Round(-lo / sc)
		m.Apply(func(_, _ int, v float64) float64 {
			return (math.Max(0, math.Min(255, math.RoundToEven(v/sc)+zp)) - zp) * sc
		}, m)
		return
	}
	a := math.Max(math.Abs(lo), math.Abs(hi))
	if a == 0 {
		return
	}
	sc := a / 127
	m.Apply(func(_, _ int, v float64) float64 { return math.Max(-128, math.Min(127, math.RoundToEven(v/sc))) * sc }, m)
}

// quantizeWeights fake-quantizes m ([in, out]) to 8 bits per output
// channel (column), symmetric narrow range.
func quantizeWeights(m *mat.Dense) {
	r, c := m.Dims()
	for j := 0; j < c; j++ {
		a := 0.0
		for i := 0; i < r; i++ {
			a = math.Max(a, math.Abs(m.At(i, j)))
		}
		if a == 0 {
			continue
		}
		sc := a / 127
		for i := 0; i < r; i++ {
			m.Set(i, j, math.Max(-127, math.Min(127, math.RoundToEven(m.At(i, j)/sc)))*sc)
		}
	}
}
