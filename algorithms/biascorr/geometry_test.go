package biascorr

import (
	"context"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/algorithms/quant"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/graph"
)

func TestGeometry(t *testing.T) {
	w := func(name string, dims ...int64) *potv1.Tensor {
		return graph.FloatTensor(name, dims, make([]float32, graph.NumElements(dims)))
	}
	g := &potv1.Graph{
		Inputs: []*potv1.ValueInfo{{Name: "x"}},
		Initializers: []*potv1.Tensor{w("conv_w", 8, 4, 3, 3), w("fc_w", 10, 64), w("proj_w", 64, 192), w("batched_w", 2, 64, 192),
			w("b8", 8), w("b10", 10), w("b192", 192)},
	}
	x := graph.NewIndex(g)
	node := func(op string, in ...string) *potv1.Node {
		return &potv1.Node{Name: op, OpType: op, Inputs: in, Outputs: []string{"y"}}
	}
	transA := node("Gemm", "x", "fc_w")
	transA.Attributes = []*potv1.Attribute{{Name: "transA", Type: potv1.Attribute_TYPE_INT, I: 1}}
	tests := []struct {
		name            string
		node            *potv1.Node
		bias            string
		in, out         []int64
		subIn           []int64
		inAxis, outAxis int
		reason          string
	}{
		{name: "conv", node: node("Conv", "x", "conv_w"), bias: "b8", in: []int64{1, 4, 8, 8}, out: []int64{1, 8, 6, 6},
			subIn: []int64{1, 4, 8, 8}, inAxis: 1, outAxis: 1},
		{name: "gemm", node: node("Gemm", "x", "fc_w"), bias: "b10", in: []int64{1, 64}, out: []int64{1, 10},
			subIn: []int64{1, 64}, inAxis: 1, outAxis: 1},
		{name: "matmul of a matrix", node: node("MatMul", "x", "proj_w"), bias: "b192", in: []int64{1, 64}, out: []int64{1, 192},
			subIn: []int64{1, 64}, inAxis: 1, outAxis: 1},
		// [batch, tokens, channels]: channels are the last axis.
		{name: "matmul of batch-first tokens", node: node("MatMul", "x", "proj_w"), bias: "b192", in: []int64{1, 50, 64}, out: []int64{1, 50, 192},
			subIn: []int64{1, 64}, inAxis: 2, outAxis: 2},
		// [tokens, batch, channels], as nn.MultiheadAttention's projections:
		// the target puts a batch axis in front, the channels are axis 3.
		{name: "matmul of sequence-first tokens", node: node("MatMul", "x", "proj_w"), bias: "b192", in: []int64{50, 1, 64}, out: []int64{50, 1, 192},
			subIn: []int64{1, 64}, inAxis: 3, outAxis: 3},
		{name: "gemm with transA", node: transA, bias: "b10", in: []int64{64, 1}, out: []int64{1, 10}, reason: "transA"},
		{name: "matmul of two activations", node: node("MatMul", "x", "k"), bias: "b192", in: []int64{1, 50, 64}, out: []int64{1, 50, 192},
			reason: "not constant"},
		{name: "batched weights", node: node("MatMul", "x", "batched_w"), bias: "b192", in: []int64{2, 50, 64}, out: []int64{2, 50, 192},
			reason: "rank 3"},
		{name: "channels not last", node: node("MatMul", "x", "proj_w"), bias: "b192", in: []int64{1, 64, 50}, out: []int64{1, 64, 192},
			reason: "do not end with"},
		{name: "bias of another length", node: node("Gemm", "x", "fc_w"), bias: "b8", in: []int64{1, 64}, out: []int64{1, 10},
			reason: "8 bias values"},
		{name: "no shapes", node: node("Conv", "x", "conv_w"), bias: "b8", reason: "no shape"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := &layer{node: tc.node, in: "x", out: "y", bias: tc.bias}
			reason := l.geometry(x, tc.in, tc.out)
			if tc.reason != "" {
				if !strings.Contains(reason, tc.reason) {
					t.Errorf("reason %q, want one mentioning %q", reason, tc.reason)
				}
				return
			}
			if reason != "" {
				t.Fatalf("refused: %s", reason)
			}
			if !slices.Equal(l.subIn, tc.subIn) || l.inAxis != tc.inAxis || l.outAxis != tc.outAxis {
				t.Errorf("sub-model input %v, probe axes %d and %d; want %v, %d and %d", l.subIn, l.inAxis, l.outAxis, tc.subIn, tc.inAxis, tc.outAxis)
			}
		})
	}
}

// withUncorrectable adds to model() two biased layers whose channels the
// bias corrections cannot locate: a Gemm with transA and, with
// apply_for_all_nodes, a MatMul of two activations (an attention product)
// followed by a bias.
func withUncorrectable() (*potv1.Graph, *potv1.QuantizationPlan) {
	g := model()
	g.Inputs = append(g.Inputs, &potv1.ValueInfo{Name: "x2", Dtype: potv1.DataType_DATA_TYPE_FLOAT},
		&potv1.ValueInfo{Name: "k", Dtype: potv1.DataType_DATA_TYPE_FLOAT})
	g.Initializers = append(g.Initializers, graph.FloatTensor("w2", []int64{1, 1}, []float32{3}),
		graph.FloatTensor("b2", []int64{1}, []float32{0.25}), graph.FloatTensor("b3", []int64{1}, []float32{0.125}))
	g.Nodes = append(g.Nodes,
		&potv1.Node{Name: "fcT", OpType: "Gemm", Inputs: []string{"x2", "w2", "b2"}, Outputs: []string{"y2"},
			Attributes: []*potv1.Attribute{{Name: "transA", Type: potv1.Attribute_TYPE_INT, I: 1}}},
		&potv1.Node{Name: "attn", OpType: "MatMul", Inputs: []string{"x2", "k"}, Outputs: []string{"s"}},
		&potv1.Node{Name: "attn_bias", OpType: "Add", Inputs: []string{"s", "b3"}, Outputs: []string{"y3"}})
	g.Outputs = append(g.Outputs, &potv1.ValueInfo{Name: "y2"}, &potv1.ValueInfo{Name: "y3"})
	p := quantized()
	w := proto.Clone(p.GetQuantizers()[1]).(*potv1.Quantizer)
	w.Id, w.Location, w.Consumers = "w:fcT:1", &potv1.Location{Tensor: "w2", Node: "fcT", Input: 1}, []string{"fcT"}
	p.Quantizers = append(p.Quantizers, w)
	return g, p
}

// Both bias corrections skip, with a reason in their report, the layers
// they cannot correct, and correct the others as before.
func TestBiasCorrectionsSkipWhatTheyCannotCorrect(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(context.Context, sdk.Host, *sdk.RunRequest, *quant.Params) (*potv1.QuantizationPlan, *Report, error)
		want float64
	}{
		{"FastBiasCorrection", Fast, 0.5 + (2-121*4.2/254)*2.5},
		{"BiasCorrection", Full, 0.5 + 2 - (121*4.2/254)*(64*4.0/255)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, p := withUncorrectable()
			h := &host{g: g, dims: map[string][]int64{"x2": {1, 1}, "y2": {1, 1}, "s": {1, 1}, "y3": {1, 1}}}
			out, rep, err := tc.run(context.Background(), h, &sdk.RunRequest{ModelID: "m", Plan: p}, &quant.Params{ApplyForAllNodes: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := bias(t, out); got < tc.want-1e-5 || got > tc.want+1e-5 {
				t.Errorf("corrected bias of fc %.6f, want %.6f", got, tc.want)
			}
			if !slices.Equal(rep.Corrected, []string{"fc"}) {
				t.Errorf("corrected %v, want [fc]", rep.Corrected)
			}
			for layer, want := range map[string]string{"fcT": "transA", "attn": "not constant"} {
				if !strings.Contains(rep.Skipped[layer], want) {
					t.Errorf("skipped[%s] = %q, want a reason mentioning %q", layer, rep.Skipped[layer], want)
				}
			}
			for _, u := range out.GetTensorUpdates() {
				if u.GetName() != "b" {
					t.Errorf("tensor %s updated", u.GetName())
				}
			}
		})
	}
}

func TestGroups(t *testing.T) {
	for _, c := range []struct {
		sizes []int64
		limit int64
		want  [][2]int
	}{
		{nil, 10, nil},
		{[]int64{3, 3, 3}, 10, [][2]int{{0, 3}}},
		{[]int64{3, 3, 4, 1}, 10, [][2]int{{0, 3}, {3, 4}}},
		{[]int64{20, 1, 1, 20}, 10, [][2]int{{0, 1}, {1, 3}, {3, 4}}},
		{[]int64{5, 6, 5, 5}, 10, [][2]int{{0, 1}, {1, 2}, {2, 4}}},
	} {
		if got := groups(c.sizes, c.limit); !slices.Equal(got, c.want) {
			t.Errorf("groups(%v, %d) = %v, want %v", c.sizes, c.limit, got, c.want)
		}
	}
}
