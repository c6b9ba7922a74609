package plan_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
)

// branchModel is x [1 2 4 4] -> conv (w [3 2 1 1]) -> c -> If(cond):
// then: relu(c) -> r, mul(r, k [3 1 1]) -> m; else: identity(c) -> e.
// r, k, relu and mul exist only inside the then branch.
func branchModel() *potv1.Graph {
	shape := func(dims ...int64) []*potv1.Dim {
		out := make([]*potv1.Dim, len(dims))
		for i, d := range dims {
			out[i] = &potv1.Dim{Value: &potv1.Dim_Size{Size: d}}
		}
		return out
	}
	f := potv1.DataType_DATA_TYPE_FLOAT
	then := &potv1.Graph{Name: "then",
		Nodes: []*potv1.Node{
			{Name: "relu", OpType: "Relu", Inputs: []string{"c"}, Outputs: []string{"r"}},
			{Name: "mul", OpType: "Mul", Inputs: []string{"r", "k"}, Outputs: []string{"m"}},
		},
		Initializers: []*potv1.Tensor{graph.FloatTensor("k", []int64{3, 1, 1}, []float32{1, 2, 3})},
		ValueInfo:    []*potv1.ValueInfo{{Name: "r", Dtype: f, HasShape: true, Shape: shape(1, 3, 4, 4)}},
		Outputs:      []*potv1.ValueInfo{{Name: "m", Dtype: f}},
	}
	els := &potv1.Graph{Name: "else",
		Nodes:   []*potv1.Node{{Name: "id", OpType: "Identity", Inputs: []string{"c"}, Outputs: []string{"e"}}},
		Outputs: []*potv1.ValueInfo{{Name: "e", Dtype: f}},
	}
	return &potv1.Graph{Name: "main",
		Nodes: []*potv1.Node{
			{Name: "conv", OpType: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"c"}},
			{Name: "if", OpType: "If", Inputs: []string{"cond"}, Outputs: []string{"y"}, Attributes: []*potv1.Attribute{
				{Name: "then_branch", Type: potv1.Attribute_TYPE_GRAPH, G: then},
				{Name: "else_branch", Type: potv1.Attribute_TYPE_GRAPH, G: els},
			}},
		},
		Inputs: []*potv1.ValueInfo{
			{Name: "x", Dtype: f, HasShape: true, Shape: shape(1, 2, 4, 4)},
			{Name: "cond", Dtype: potv1.DataType_DATA_TYPE_BOOL, HasShape: true},
		},
		Outputs:      []*potv1.ValueInfo{{Name: "y", Dtype: f}},
		Initializers: []*potv1.Tensor{graph.FloatTensor("w", []int64{3, 2, 1, 1}, make([]float32, 6))},
		Opsets:       []*potv1.OpsetImport{{Version: 13}},
	}
}

// validPlan quantizes the conv's weights per channel, the model input,
// an edge inside the branch and the branch's constant on mul's port, and
// updates that constant.
func validPlan() *potv1.QuantizationPlan {
	perTensor := func(id string, loc *potv1.Location) *potv1.Quantizer {
		return &potv1.Quantizer{Id: id, Location: loc, Bits: 8, Levels: 256, LevelLow: 0, LevelHigh: 255,
			Mode: potv1.QuantizationMode_QUANTIZATION_MODE_ASYMMETRIC, Granularity: potv1.Granularity_GRANULARITY_PER_TENSOR,
			InputLow: []float32{-1}, InputHigh: []float32{1}, OutputLow: []float32{-1}, OutputHigh: []float32{1}}
	}
	three := func(v float32) []float32 { return []float32{v, v, v} }
	w := &potv1.Quantizer{Id: "w", Location: &potv1.Location{Tensor: "w", Node: "conv", Input: 1}, Weights: true,
		Bits: 8, Levels: 255, LevelLow: -127, LevelHigh: 127, Mode: potv1.QuantizationMode_QUANTIZATION_MODE_SYMMETRIC,
		Granularity: potv1.Granularity_GRANULARITY_PER_CHANNEL, Axis: 0,
		InputLow: three(-1), InputHigh: three(1), OutputLow: three(-1), OutputHigh: three(1), Consumers: []string{"conv"}}
	k := perTensor("k", &potv1.Location{Tensor: "k", Node: "mul", Input: 1})
	k.Weights = true
	return &potv1.QuantizationPlan{
		Quantizers: []*potv1.Quantizer{
			w,
			perTensor("x", &potv1.Location{Tensor: "x"}),
			perTensor("r", &potv1.Location{Tensor: "r"}),
			k,
		},
		TensorUpdates: []*potv1.Tensor{graph.FloatTensor("k", []int64{3, 1, 1}, []float32{3, 2, 1})},
		Precisions:    []*potv1.NodePrecision{{Node: "relu", Precision: potv1.Precision_PRECISION_FLOAT}},
	}
}

func TestValidate(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name string
		edit func(p *potv1.QuantizationPlan)
		want []string // each problem's text, in order; none: valid
	}{
		{"valid, with subgraph locations", func(*potv1.QuantizationPlan) {}, nil},
		{"empty plan", func(p *potv1.QuantizationPlan) { *p = potv1.QuantizationPlan{} }, nil},
		{"no such tensor", func(p *potv1.QuantizationPlan) { p.Quantizers[2].Location.Tensor = "nope" },
			[]string{`quantizer 2 on tensor "nope": no such tensor in the model`}},
		{"no such node", func(p *potv1.QuantizationPlan) { p.Quantizers[3].Location.Node = "nope" },
			[]string{`quantizer 3 on input 1 of node "nope": no such node in the model`}},
		{"subgraph node without the port", func(p *potv1.QuantizationPlan) { p.Quantizers[3].Location.Input = 2 },
			[]string{`quantizer 3 on input 2 of node "mul": node "mul" (Mul) has no input 2`}},
		{"port holds another tensor", func(p *potv1.QuantizationPlan) { p.Quantizers[3].Location.Input = 0 },
			[]string{`quantizer 3 on input 0 of node "mul": that input is "r", not "k"`}},
		{"no location", func(p *potv1.QuantizationPlan) { p.Quantizers[1].Location = nil },
			[]string{`quantizer 1: no location (neither tensor nor node)`}},
		{"no id", func(p *potv1.QuantizationPlan) { p.Quantizers[1].Id = "" },
			[]string{`quantizer 1 on tensor "x": no id`}},
		{"duplicate id", func(p *potv1.QuantizationPlan) { p.Quantizers[2].Id = "x" },
			[]string{`quantizer 2 on tensor "r": id "x" is quantizer 1's too`}},
		{"two quantizers on one edge", func(p *potv1.QuantizationPlan) {
			q := proto.Clone(p.Quantizers[2]).(*potv1.Quantizer)
			q.Id = "r2"
			p.Quantizers = append(p.Quantizers, q)
		}, []string{`quantizer 4 on tensor "r": quantizer 2 quantizes that tensor already`}},
		{"two quantizers on one port", func(p *potv1.QuantizationPlan) {
			q := proto.Clone(p.Quantizers[3]).(*potv1.Quantizer)
			q.Id = "k2"
			p.Quantizers = append(p.Quantizers, q)
		}, []string{`quantizer 4 on input 1 of node "mul": quantizer 3 quantizes that input already`}},
		{"weights on an activation", func(p *potv1.QuantizationPlan) { p.Quantizers[2].Weights = true },
			[]string{`quantizer 2 on tensor "r": quantizes weights, but "r" is not a constant`}},
		{"one level", func(p *potv1.QuantizationPlan) { p.Quantizers[1].Levels, p.Quantizers[1].LevelHigh = 1, 0 },
			[]string{`quantizer 1 on tensor "x": 1 levels, want at least 2`}},
		{"more levels than bits hold", func(p *potv1.QuantizationPlan) { p.Quantizers[1].Bits = 4 },
			[]string{`quantizer 1 on tensor "x": 256 levels do not fit 4 bits`}},
		{"zero bits", func(p *potv1.QuantizationPlan) { p.Quantizers[1].Bits = 0 },
			[]string{`quantizer 1 on tensor "x": 0 bits, want 1 to 32`}},
		{"64 bits", func(p *potv1.QuantizationPlan) { p.Quantizers[1].Bits = 64 },
			[]string{`quantizer 1 on tensor "x": 64 bits, want 1 to 32`}},
		{"level bounds", func(p *potv1.QuantizationPlan) { p.Quantizers[1].LevelHigh = 127 },
			[]string{`quantizer 1 on tensor "x": levels [0, 127] are not 256 levels`}},
		{"inverted range", func(p *potv1.QuantizationPlan) { p.Quantizers[1].InputLow[0] = 2 },
			[]string{`quantizer 1 on tensor "x": channel 0: range [2, 1] -> [-1, 1] is empty or not finite`}},
		{"empty range", func(p *potv1.QuantizationPlan) { p.Quantizers[1].OutputHigh[0] = -1 },
			[]string{`quantizer 1 on tensor "x": channel 0: range [-1, 1] -> [-1, -1] is empty or not finite`}},
		{"NaN range", func(p *potv1.QuantizationPlan) { p.Quantizers[0].InputHigh[2] = nan },
			[]string{`quantizer 0 on input 1 of node "conv": channel 2: range [-1, NaN] -> [-1, 1] is empty or not finite`}},
		{"infinite range", func(p *potv1.QuantizationPlan) { p.Quantizers[1].InputLow[0] = float32(math.Inf(-1)) },
			[]string{`quantizer 1 on tensor "x": channel 0: range [-Inf, 1] -> [-1, 1] is empty or not finite`}},
		{"ragged ranges", func(p *potv1.QuantizationPlan) { p.Quantizers[0].OutputLow = p.Quantizers[0].OutputLow[:2] },
			[]string{`quantizer 0 on input 1 of node "conv": ranges have lengths 3/3/2/3 (input low/high, output low/high), want equal and non-zero`}},
		{"no ranges", func(p *potv1.QuantizationPlan) {
			q := p.Quantizers[1]
			q.InputLow, q.InputHigh, q.OutputLow, q.OutputHigh = nil, nil, nil, nil
		}, []string{`quantizer 1 on tensor "x": ranges have lengths 0/0/0/0 (input low/high, output low/high), want equal and non-zero`}},
		{"per-channel count", func(p *potv1.QuantizationPlan) {
			q := p.Quantizers[0]
			q.InputLow, q.InputHigh, q.OutputLow, q.OutputHigh = q.InputLow[:2], q.InputHigh[:2], q.OutputLow[:2], q.OutputHigh[:2]
		}, []string{`quantizer 0 on input 1 of node "conv": 2 per-channel ranges for the 3 channels of axis 0 of "w"`}},
		{"per-channel axis", func(p *potv1.QuantizationPlan) { p.Quantizers[0].Axis = 4 },
			[]string{`quantizer 0 on input 1 of node "conv": channel axis 4 is outside the 4 dimensions of "w"`}},
		{"per-channel in a subgraph, by value info", func(p *potv1.QuantizationPlan) {
			q := p.Quantizers[2]
			q.Granularity, q.Axis = potv1.Granularity_GRANULARITY_PER_CHANNEL, 1
			q.InputLow, q.InputHigh, q.OutputLow, q.OutputHigh = []float32{-1, -1}, []float32{1, 1}, []float32{-1, -1}, []float32{1, 1}
		}, []string{`quantizer 2 on tensor "r": 2 per-channel ranges for the 3 channels of axis 1 of "r"`}},
		{"per-channel on a tensor of unknown shape", func(p *potv1.QuantizationPlan) {
			q := proto.Clone(p.Quantizers[2]).(*potv1.Quantizer)
			q.Id, q.Location.Tensor, q.Granularity, q.Axis = "c", "c", potv1.Granularity_GRANULARITY_PER_CHANNEL, 1
			q.InputLow, q.InputHigh, q.OutputLow, q.OutputHigh = []float32{-1, -1}, []float32{1, 1}, []float32{-1, -1}, []float32{1, 1}
			p.Quantizers = append(p.Quantizers, q)
		}, nil},
		{"per-tensor with many ranges", func(p *potv1.QuantizationPlan) {
			p.Quantizers[0].Granularity = potv1.Granularity_GRANULARITY_PER_TENSOR
		}, []string{`quantizer 0 on input 1 of node "conv": per-tensor, but has 3 ranges`}},
		{"unified group", func(p *potv1.QuantizationPlan) {
			p.Quantizers[1].UnifiedGroup, p.Quantizers[2].UnifiedGroup = "g", "g"
			p.Quantizers[2].InputHigh[0] = 2
		}, []string{`quantizer 2 on tensor "r": unified group "g", but its ranges differ from quantizer 1's`}},
		{"unknown consumer", func(p *potv1.QuantizationPlan) { p.Quantizers[0].Consumers = []string{"conv", "nope"} },
			[]string{`quantizer 0 on input 1 of node "conv": consumer "nope": no such node in the model`}},
		{"update of a non-initializer", func(p *potv1.QuantizationPlan) { p.TensorUpdates[0].Name = "r" },
			[]string{`tensor update "r": no such initializer or Constant output in the model`}},
		{"update with other dims", func(p *potv1.QuantizationPlan) {
			p.TensorUpdates[0] = graph.FloatTensor("k", []int64{3}, []float32{1, 2, 3})
		}, []string{`tensor update "k": DATA_TYPE_FLOAT [3] replaces DATA_TYPE_FLOAT [3 1 1] (type and dimensions must match)`}},
		{"update with other type", func(p *potv1.QuantizationPlan) { p.TensorUpdates[0].Dtype = potv1.DataType_DATA_TYPE_INT32 },
			[]string{`tensor update "k": DATA_TYPE_INT32 [3 1 1] replaces DATA_TYPE_FLOAT [3 1 1] (type and dimensions must match)`}},
		{"update with short data", func(p *potv1.QuantizationPlan) { p.TensorUpdates[0].Data = p.TensorUpdates[0].Data[:8] },
			[]string{`tensor update "k": 8 data bytes replace 12`}},
		{"update twice", func(p *potv1.QuantizationPlan) {
			p.TensorUpdates = append(p.TensorUpdates, proto.Clone(p.TensorUpdates[0]).(*potv1.Tensor))
		}, []string{`tensor update "k": given twice`}},
		{"precision of no node", func(p *potv1.QuantizationPlan) { p.Precisions[0].Node = "nope" },
			[]string{`precision of node "nope": no such node in the model`}},
		{"unknown precision", func(p *potv1.QuantizationPlan) { p.Precisions[0].Precision = 42 },
			[]string{`precision of node "relu": unknown precision 42`}},
		{"need_rescale of no node", func(p *potv1.QuantizationPlan) { p.NeedRescale = []string{"conv", "nope"} },
			[]string{`need_rescale "nope": no such node in the model`}},
		{"every problem listed", func(p *potv1.QuantizationPlan) {
			p.Quantizers[1].Location.Tensor = "nope"
			p.Quantizers[2].Levels, p.Quantizers[2].LevelHigh = 1, 0
			p.Precisions[0].Node = "nope"
		}, []string{
			`quantizer 1 on tensor "nope": no such tensor in the model`,
			`quantizer 2 on tensor "r": 1 levels, want at least 2`,
			`precision of node "nope": no such node in the model`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := branchModel()
			orig := proto.Clone(g)
			p := validPlan()
			tc.edit(p)
			before := proto.Clone(p)
			err := plan.Validate(g, p)
			if !proto.Equal(g, orig) || !proto.Equal(p, before) {
				t.Error("Validate modified the graph or the plan")
			}
			if tc.want == nil {
				if err != nil {
					t.Fatalf("valid plan refused: %v", err)
				}
				// What Validate accepts, Apply applies.
				if _, err := plan.Apply(g, p); err != nil {
					t.Fatalf("Validate accepts a plan that Apply refuses: %v", err)
				}
				return
			}
			var inv *plan.InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("error %v (%T), want an *InvalidError", err, err)
			}
			if fmt.Sprintf("%q", inv.Problems) != fmt.Sprintf("%q", tc.want) {
				t.Errorf("problems\n%q\nwant\n%q", inv.Problems, tc.want)
			}
		})
	}
}

// TestInvalidErrorCapsLines: one problem is the whole message; many are
// counted and listed one per line, at most ten.
func TestInvalidErrorCapsLines(t *testing.T) {
	one := (&plan.InvalidError{Problems: []string{"a"}}).Error()
	if one != "a" {
		t.Errorf("one problem: %q", one)
	}
	var probs []string
	for i := range 13 {
		probs = append(probs, fmt.Sprintf("problem %d", i))
	}
	msg := (&plan.InvalidError{Problems: probs}).Error()
	lines := strings.Split(msg, "\n")
	if lines[0] != "13 problems:" || len(lines) != 12 || lines[10] != "  problem 9" || lines[11] != "  ... and 3 more" {
		t.Errorf("13 problems:\n%s", msg)
	}
}
