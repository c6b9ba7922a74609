package target

import (
	"context"
	"encoding/binary"
	"math"
	"slices"
	"testing"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/targets/interp/tensor"
	"google.golang.org/protobuf/proto"
)

// withBatch returns a copy of g whose input has a fixed first dimension.
func withBatch(g *potv1.Graph, b int64) *potv1.Graph {
	g = proto.Clone(g).(*potv1.Graph)
	g.GetInputs()[0].GetShape()[0] = &potv1.Dim{Value: &potv1.Dim_Size{Size: b}}
	return g
}

// run evaluates a graph over uploaded tensors and returns its float
// outputs, the sample count of each response and statistics of a
// tensor.
func runFeed(t *testing.T, e *Engine, g *potv1.Graph, set *plugins.Dataset, batch int32, probe string) (out []float32, samples []int64, min, mean []float32) {
	t.Helper()
	ctx := context.Background()
	model, id := loadWithData(t, e, g, set)
	sel := &potv1.Samples{DataId: id, BatchSize: batch}
	err := e.Evaluate(ctx, &potv1.EvaluateRequest{ModelId: model, Samples: sel}, func(r *potv1.EvaluateResponse) error {
		v, err := graph.Float32s(r.GetOutputs()[0])
		out = append(out, v...)
		samples = append(samples, r.GetSamples())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if probe == "" {
		return out, samples, nil, nil
	}
	st, err := e.CollectStatistics(ctx, &potv1.StatisticsRequest{ModelId: model, Samples: sel, Probes: []*potv1.StatisticProbe{
		{Id: "min", Tensor: probe, Reducer: potv1.Reducer_REDUCER_MIN, Aggregator: potv1.Aggregator_AGGREGATOR_MIN, PerChannel: true, ChannelAxis: 1},
		{Id: "mean", Tensor: probe, Reducer: potv1.Reducer_REDUCER_MEAN, Aggregator: potv1.Aggregator_AGGREGATOR_MEAN, PerChannel: true, ChannelAxis: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if st.GetSamples() != int64(set.Samples()) {
		t.Errorf("statistics over %d samples, the data has %d", st.GetSamples(), set.Samples())
	}
	return out, samples, st.GetValues()[0].GetValues(), st.GetValues()[1].GetValues()
}

// TestFeeding runs lenet over 8 samples with a dynamic batch, a fixed
// batch of 1, a fixed batch of 3 (the last batch padded), and as whole
// samples that include their batch dimension: outputs and statistics
// are the same, and padding never shows.
func TestFeeding(t *testing.T) {
	g := lenet(t)
	const n = 8
	x := make([]float32, n*28*28)
	for i := range x {
		x[i] = float32(math.Sin(float64(i) * 0.37))
	}
	stacked := &plugins.Dataset{Name: "d", Inputs: []string{"input"}, Tensors: []*potv1.Tensor{graph.FloatTensor("input", []int64{n, 1, 28, 28}, x)}}
	whole := &plugins.Dataset{Name: "d", Inputs: []string{"input"}, Tensors: []*potv1.Tensor{graph.FloatTensor("input", []int64{n, 1, 1, 28, 28}, x)}}
	const probe = "/Relu_output_0"
	e := newEngine(t, Config{Name: "cpu", Threads: 1, BatchSize: 64})
	e.responseEvery = 0 // a response per batch, to see the batches
	ref, refSamples, refMin, refMean := runFeed(t, e, g, stacked, 0, probe)
	if len(ref) != n*10 || !slices.Equal(refSamples, []int64{n}) {
		t.Fatalf("dynamic batch: %d outputs in responses of %v samples", len(ref), refSamples)
	}
	for _, tc := range []struct {
		name    string
		g       *potv1.Graph
		set     *plugins.Dataset
		batch   int32
		samples []int64
	}{
		{"fixed batch 1", withBatch(g, 1), stacked, 0, []int64{1, 1, 1, 1, 1, 1, 1, 1}},
		{"fixed batch 3, padded", withBatch(g, 3), stacked, 5, []int64{3, 3, 2}},
		{"whole samples", g, whole, 4, []int64{1, 1, 1, 1, 1, 1, 1, 1}},
		{"whole samples, fixed batch 1", withBatch(g, 1), whole, 0, []int64{1, 1, 1, 1, 1, 1, 1, 1}},
	} {
		out, samples, mn, mean := runFeed(t, e, tc.g, tc.set, tc.batch, probe)
		if !slices.Equal(samples, tc.samples) {
			t.Errorf("%s: responses of %v samples, want %v", tc.name, samples, tc.samples)
		}
		if len(out) != len(ref) {
			t.Fatalf("%s: %d outputs, want %d", tc.name, len(out), len(ref))
		}
		for i := range ref {
			if d := math.Abs(float64(out[i] - ref[i])); d > 1e-4 {
				t.Fatalf("%s: output %d = %g, want %g", tc.name, i, out[i], ref[i])
			}
		}
		for c := range refMin {
			if mn[c] != refMin[c] || math.Abs(float64(mean[c]-refMean[c])) > 1e-5 {
				t.Fatalf("%s: channel %d min %g mean %g, want %g %g", tc.name, c, mn[c], mean[c], refMin[c], refMean[c])
			}
		}
	}
	// Data that fits neither way is refused, naming both shapes.
	bad := &plugins.Dataset{Name: "d", Inputs: []string{"input"}, Tensors: []*potv1.Tensor{graph.FloatTensor("input", []int64{n, 28 * 28}, x)}}
	model, id := loadWithData(t, e, g, bad)
	err := e.Evaluate(context.Background(), &potv1.EvaluateRequest{ModelId: model, Samples: &potv1.Samples{DataId: id}}, func(*potv1.EvaluateResponse) error { return nil })
	if err == nil || err.Error() != `input "input": the data holds samples of shape [784], the model input is [N 1 28 28]` {
		t.Errorf("mismatched data: %v", err)
	}
}

// TestFeedingScalarInput feeds a model with a float input and an int64
// scalar (like a sample rate): the scalar's rows are whole inputs, so
// every run holds one sample.
func TestFeedingScalarInput(t *testing.T) {
	dim := func(s int64) *potv1.Dim { return &potv1.Dim{Value: &potv1.Dim_Size{Size: s}} }
	g := &potv1.Graph{
		Opsets: []*potv1.OpsetImport{{Version: 13}},
		Inputs: []*potv1.ValueInfo{
			{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT, HasShape: true, Shape: []*potv1.Dim{{Value: &potv1.Dim_Param{Param: "batch"}}, dim(4)}},
			{Name: "k", Dtype: potv1.DataType_DATA_TYPE_INT64, HasShape: true},
		},
		Outputs: []*potv1.ValueInfo{{Name: "y", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Nodes: []*potv1.Node{
			{Name: "cast", OpType: "Cast", Inputs: []string{"k"}, Outputs: []string{"kf"}, Attributes: []*potv1.Attribute{{Name: "to", Type: potv1.Attribute_TYPE_INT, I: 1}}},
			{Name: "mul", OpType: "Mul", Inputs: []string{"x", "kf"}, Outputs: []string{"y"}},
		},
	}
	const n = 5
	x := make([]float32, n*4)
	k := make([]byte, 8*n)
	for i := range x {
		x[i] = float32(i)
	}
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint64(k[8*i:], uint64(i+1))
	}
	set := &plugins.Dataset{Name: "d", Inputs: []string{"x", "k"}, Tensors: []*potv1.Tensor{
		graph.FloatTensor("x", []int64{n, 4}, x),
		{Name: "k", Dtype: potv1.DataType_DATA_TYPE_INT64, Dims: []int64{n}, Data: k},
	}}
	e := newEngine(t, Config{Name: "cpu", Threads: 1})
	e.responseEvery = 0 // a response per batch, to see the batches
	out, samples, _, _ := runFeed(t, e, g, set, 0, "")
	if !slices.Equal(samples, []int64{1, 1, 1, 1, 1}) {
		t.Errorf("responses of %v samples, want one each", samples)
	}
	for i, v := range out {
		if want := float32(i) * float32(i/4+1); v != want {
			t.Fatalf("y[%d] = %g, want %g", i, v, want)
		}
	}
}

// TestBatchesOfEveryType runs a model whose outputs are float16 and
// int8 over 5 samples in batches of 2: Infer joins the batches' rows
// and Evaluate's responses (one for the first batch, then the others
// merged) hold them in order.
func TestBatchesOfEveryType(t *testing.T) {
	dim := func(s int64) *potv1.Dim { return &potv1.Dim{Value: &potv1.Dim_Size{Size: s}} }
	cast := func(name, out string, to int64) *potv1.Node {
		return &potv1.Node{Name: name, OpType: "Cast", Inputs: []string{"x"}, Outputs: []string{out}, Attributes: []*potv1.Attribute{{Name: "to", Type: potv1.Attribute_TYPE_INT, I: to}}}
	}
	g := &potv1.Graph{
		Opsets:  []*potv1.OpsetImport{{Version: 13}},
		Inputs:  []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT, HasShape: true, Shape: []*potv1.Dim{{Value: &potv1.Dim_Param{Param: "batch"}}, dim(2)}}},
		Outputs: []*potv1.ValueInfo{{Name: "h", Dtype: potv1.DataType_DATA_TYPE_FLOAT16}, {Name: "b", Dtype: potv1.DataType_DATA_TYPE_INT8}},
		Nodes:   []*potv1.Node{cast("half", "h", int64(potv1.DataType_DATA_TYPE_FLOAT16)), cast("byte", "b", int64(potv1.DataType_DATA_TYPE_INT8))},
	}
	const n = 5
	x := make([]float32, 2*n)
	for i := range x {
		x[i] = float32(i) - 4
	}
	set := &plugins.Dataset{Name: "d", Inputs: []string{"x"}, Tensors: []*potv1.Tensor{graph.FloatTensor("x", []int64{n, 2}, x)}}
	e := newEngine(t, Config{Name: "cpu", Threads: 1})
	ctx := context.Background()
	model, id := loadWithData(t, e, g, set)
	sel := &potv1.Samples{DataId: id, BatchSize: 2}
	check := func(what string, outs []*potv1.Tensor) {
		t.Helper()
		if len(outs) != 2 {
			t.Fatalf("%s: %d outputs", what, len(outs))
		}
		ht, err := tensor.FromProto(outs[0])
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		var h []float32
		for _, v := range ht.Data.([]tensor.Float16Bits) {
			h = append(h, v.Float32())
		}
		if !slices.Equal(outs[0].GetDims(), []int64{n, 2}) || !slices.Equal(h, x) {
			t.Errorf("%s: float16 output %v %v, want %v", what, outs[0].GetDims(), h, x)
		}
		want := make([]byte, len(x))
		for i, v := range x {
			want[i] = byte(int8(v))
		}
		if !slices.Equal(outs[1].GetDims(), []int64{n, 2}) || !slices.Equal(outs[1].GetData(), want) {
			t.Errorf("%s: int8 output %v %v, want %v", what, outs[1].GetDims(), outs[1].GetData(), want)
		}
	}
	inf, err := e.Infer(ctx, &potv1.InferRequest{ModelId: model, Samples: sel})
	if err != nil {
		t.Fatal(err)
	}
	check("Infer", inf.GetOutputs())
	var samples []int64
	var joined []*potv1.Tensor
	err = e.Evaluate(ctx, &potv1.EvaluateRequest{ModelId: model, Samples: sel}, func(r *potv1.EvaluateResponse) error {
		samples = append(samples, r.GetSamples())
		if joined == nil {
			joined = r.GetOutputs()
			return nil
		}
		for i, o := range r.GetOutputs() {
			joined[i].Data = append(joined[i].Data, o.GetData()...)
			joined[i].Dims[0] += o.GetDims()[0]
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(samples, []int64{2, 3}) {
		t.Errorf("Evaluate: responses of %v samples, want [2 3]", samples)
	}
	check("Evaluate", joined)
}
