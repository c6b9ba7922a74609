package qdq

import (
	"math"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// tiesWeights are the weights of tiesGraph: with scale 1, four ties
// (±2.5, ±0.5), two values that are not (2.7, -2.2), and ±126.5, ties at
// the edge of the levels -127..127.
var tiesWeights = []float32{2.5, -2.5, 2.7, -2.2, 0.5, -0.5, 126.5, -126.5}

// tiesGraph is x [1 8] -> Gemm(w [1 8], transB) -> y, with opset opset.
func tiesGraph(opset int64) *potv1.Graph {
	return &potv1.Graph{
		Name:         "ties",
		Opsets:       []*potv1.OpsetImport{{Version: opset}},
		Inputs:       []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Outputs:      []*potv1.ValueInfo{{Name: "y", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Initializers: []*potv1.Tensor{graph.FloatTensor("w", []int64{1, 8}, tiesWeights)},
		Nodes: []*potv1.Node{{Name: "fc", OpType: "Gemm", Inputs: []string{"x", "w"}, Outputs: []string{"y"},
			Attributes: []*potv1.Attribute{{Name: "transB", Type: potv1.Attribute_TYPE_INT, I: 1}}}},
	}
}

// tiesPlan quantizes the weights per channel (one) on the levels
// -127..127 with scale 1.
func tiesPlan() *potv1.QuantizationPlan {
	return &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{
		{Id: "w:fc:1", Location: &potv1.Location{Tensor: "w", Node: "fc", Input: 1}, Consumers: []string{"fc"}, Weights: true, Bits: 8,
			Levels: 255, LevelLow: -127, LevelHigh: 127, Granularity: potv1.Granularity_GRANULARITY_PER_CHANNEL, Axis: 0,
			InputLow: f32(-127), InputHigh: f32(127), OutputLow: f32(-127), OutputHigh: f32(127)},
	}}
}

// exportedWeights exports tiesGraph and returns the levels of its
// weights: the int8 values (opset 13), or the fake-quantized floats
// divided by the scale 1 (opset 11, which folds per-axis weights).
func exportedWeights(t *testing.T, opset int64, opts ...Option) []int64 {
	t.Helper()
	out, stats, err := Export(tiesGraph(opset), tiesPlan(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	x := graph.NewIndex(out)
	in := x.Node("fc").GetInputs()[1]
	if stats.FoldedWeights == 1 {
		var levels []int64
		for _, v := range floats(t, x, in) {
			levels = append(levels, int64(v))
		}
		return levels
	}
	return ints(t, x, x.Producer(in).GetInputs()[0])
}

// The weights are rounded as the target rounds: ties differ between the
// roundings, other values only where the rounding is not to nearest.
func TestExportRounding(t *testing.T) {
	for _, tc := range []struct {
		r    potv1.Rounding
		want []int64 // the levels of tiesWeights
	}{
		{potv1.Rounding_ROUNDING_UNSPECIFIED, []int64{2, -2, 3, -2, 0, 0, 126, -126}},
		{potv1.Rounding_ROUNDING_HALF_TO_EVEN, []int64{2, -2, 3, -2, 0, 0, 126, -126}},
		{potv1.Rounding_ROUNDING_HALF_AWAY_FROM_ZERO, []int64{3, -3, 3, -2, 1, -1, 127, -127}},
		{potv1.Rounding_ROUNDING_HALF_UP, []int64{3, -2, 3, -2, 1, 0, 127, -126}},
		{potv1.Rounding_ROUNDING_TOWARD_ZERO, []int64{2, -2, 2, -2, 0, 0, 126, -126}},
		{potv1.Rounding_ROUNDING_DOWN, []int64{2, -3, 2, -3, 0, -1, 126, -127}},
	} {
		for _, opset := range []int64{13, 11} {
			if got := exportedWeights(t, opset, WithRounding(tc.r)); !slices.Equal(got, tc.want) {
				t.Errorf("%v, opset %d: levels %v, want %v", tc.r, opset, got, tc.want)
			}
		}
	}
}

// Half away from zero changes exactly the ties of the default export, and
// the default is the same graph with or without the option.
func TestExportRoundingTies(t *testing.T) {
	even, away := exportedWeights(t, 13), exportedWeights(t, 13, WithRounding(potv1.Rounding_ROUNDING_HALF_AWAY_FROM_ZERO))
	for i, w := range tiesWeights {
		tie := math.Abs(float64(w)-math.Trunc(float64(w))) == 0.5
		if (even[i] != away[i]) != tie {
			t.Errorf("weight %g (tie: %v): half to even %d, half away %d", w, tie, even[i], away[i])
		}
	}
	def, _, err := Export(smallGraph(13), smallPlan())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []potv1.Rounding{potv1.Rounding_ROUNDING_UNSPECIFIED, potv1.Rounding_ROUNDING_HALF_TO_EVEN} {
		got, _, err := Export(smallGraph(13), smallPlan(), WithRounding(r))
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, def) {
			t.Errorf("%v: the graph differs from the default export", r)
		}
	}
}
