package quant

import (
	"fmt"
	"strings"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// Saturation-fix modes (POT's saturation_fix).
const (
	SaturationFirstLayer = "first_layer"
	SaturationAll        = "all"
	SaturationNo         = "no"
)

// saturationLayers returns the nodes whose weights get the saturation fix:
// on CPU (and ANY), the weighted layers first reached from the graph
// inputs (first_layer, the default) or all of them (all). On other
// devices, or with "no", none.
func saturationLayers(x *graph.Index, mode, device string) (map[string]bool, error) {
	switch mode {
	case "", SaturationFirstLayer, SaturationAll, SaturationNo:
	default:
		return nil, fmt.Errorf("saturation_fix %q is not first_layer, all or no", mode)
	}
	dev := strings.ToUpper(device)
	if mode == SaturationNo || (dev != "CPU" && dev != "ANY" && dev != "") {
		return nil, nil
	}
	hasConv := false
	for _, n := range x.G.GetNodes() {
		hasConv = hasConv || n.GetOpType() == "Conv"
	}
	if !hasConv {
		return nil, nil
	}
	out := map[string]bool{}
	if mode == SaturationAll {
		for _, n := range x.G.GetNodes() {
			if weighted[n.GetOpType()] {
				out[n.GetName()] = true
			}
		}
		return out, nil
	}
	// Walk from the inputs; stop at the first weighted node of each path.
	seen := map[string]bool{}
	var frontier []string
	for _, vi := range x.G.GetInputs() {
		if x.IsGraphInput(vi.GetName()) {
			frontier = append(frontier, vi.GetName())
		}
	}
	for len(frontier) > 0 {
		t := frontier[len(frontier)-1]
		frontier = frontier[:len(frontier)-1]
		for _, p := range x.Consumers(t) {
			n := p.Node
			if seen[n.GetName()] {
				continue
			}
			seen[n.GetName()] = true
			if weighted[n.GetOpType()] && p.Input == 0 {
				out[n.GetName()] = true
				continue
			}
			frontier = append(frontier, n.GetOutputs()...)
		}
	}
	return out, nil
}

// applySaturationFix makes a symmetric weight quantizer use half of its
// integer grid (7 effective bits), as POT does: the weights are halved
// (a tensor update), the input range stays that of the original weights
// and the output range doubles, so the dequantized weights keep their
// scale. It returns the tensor update.
func applySaturationFix(q *potv1.Quantizer, w *potv1.Tensor) (*potv1.Tensor, error) {
	vals, err := graph.Float32s(w)
	if err != nil {
		return nil, err
	}
	for i := range vals {
		vals[i] /= 2
	}
	lo := make([]float32, len(q.InputLow))
	hi := make([]float32, len(q.InputHigh))
	for i := range lo {
		lo[i] = 2 * q.InputLow[i]
		hi[i] = 2 * q.InputHigh[i]
	}
	q.OutputLow, q.OutputHigh = lo, hi
	return graph.FloatTensor(w.GetName(), w.GetDims(), vals), nil
}
