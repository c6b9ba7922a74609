package quant

import (
	"fmt"

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
func saturationLayers(x *graph.Index, mode string, caps *potv1.TargetCapabilities) (map[string]bool, error) {
	switch mode {
	case "", SaturationFirstLayer, SaturationAll, SaturationNo:
	default:
		return nil, fmt.Errorf("saturation_fix %q is not first_layer, all or no", mode)
	}
	if mode == SaturationNo || caps.GetAccumulator() != potv1.Accumulator_ACCUMULATOR_INT16_PAIRS {
		return nil, nil
	}
	hasConv := false
	for _, n := range x.Nodes() {
		hasConv = hasConv || n.GetOpType() == "Conv"
	}
	if !hasConv {
		return nil, nil
	}
	out := map[string]bool{}
	if mode == SaturationAll {
		for _, n := range x.Nodes() {
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
// integer grid (7 effective bits), as POT does to avoid the int16
// overflow of u8·s8 pair sums on pre-VNNI CPUs. POT halves the weights
// and doubles the quantizer's output range; doubling both the input and
// the output range of the quantizer computes exactly the same numbers
// without touching the weights, so the plan's tensor updates keep
// describing the float model.
func applySaturationFix(q *potv1.Quantizer) {
	lo := make([]float32, len(q.InputLow))
	hi := make([]float32, len(q.InputHigh))
	for i := range lo {
		lo[i] = 2 * q.InputLow[i]
		hi[i] = 2 * q.InputHigh[i]
	}
	q.InputLow, q.InputHigh = lo, hi
	q.OutputLow, q.OutputHigh = lo, hi
}
