package target

import (
	"context"
	"math"
	"testing"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// TestStatisticsTokensAsManyAsSamples collects statistics of a tensor
// whose first axis is not the batch, [tokens, N, C] as the attention of a
// batch-first nn.MultiheadAttention computes, in batches as large as the
// tokens are many: its first axis has the batch's size, yet its samples
// are along axis 1, so they are reduced one at a time. (vit_fmnist, with
// 50 tokens, failed on 50 calibration samples.) The statistics are the
// same for every batch size, and those of a batch-first tensor too.
func TestStatisticsTokensAsManyAsSamples(t *testing.T) {
	const tokens, channels, n = 3, 2, 6
	dim := func(s int64) *potv1.Dim { return &potv1.Dim{Value: &potv1.Dim_Size{Size: s}} }
	g := &potv1.Graph{
		Opsets: []*potv1.OpsetImport{{Version: 13}},
		Inputs: []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT, HasShape: true,
			Shape: []*potv1.Dim{{Value: &potv1.Dim_Param{Param: "N"}}, dim(tokens), dim(channels)}}},
		Outputs: []*potv1.ValueInfo{{Name: "y", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Nodes: []*potv1.Node{
			{Name: "relu", OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"r"}},
			{Name: "t", OpType: "Transpose", Inputs: []string{"r"}, Outputs: []string{"y"},
				Attributes: []*potv1.Attribute{{Name: "perm", Type: potv1.Attribute_TYPE_INTS, Ints: []int64{1, 0, 2}}}},
		},
	}
	x := make([]float32, n*tokens*channels)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)*0.7)) + float32(i%channels)
	}
	// The references: per-channel means over every sample and token, and
	// the mean over the samples of each sample's largest value.
	wantMean := make([]float64, channels)
	wantMax := 0.0
	for s := range n {
		m := math.Inf(-1)
		for k := range tokens * channels {
			v := math.Max(float64(x[(s*tokens*channels)+k]), 0)
			wantMean[k%channels] += v / (n * tokens)
			m = math.Max(m, v)
		}
		wantMax += m / n
	}
	ctx := context.Background()
	e := newEngine(t, Config{Name: "cpu", Threads: 1})
	resp, err := e.LoadModel(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	id, err := e.UploadData(ctx, &plugins.Dataset{Name: "d", Inputs: []string{"x"},
		Tensors: []*potv1.Tensor{graph.FloatTensor("x", []int64{n, tokens, channels}, x)}})
	if err != nil {
		t.Fatal(err)
	}
	// Channel axes count the batch first; y, [tokens, 1, C] for one
	// sample, gets a batch axis of 1 in front (see biascorr's probeAxis).
	probes := []*potv1.StatisticProbe{
		{Id: "y mean", Tensor: "y", Reducer: potv1.Reducer_REDUCER_MEAN, Aggregator: potv1.Aggregator_AGGREGATOR_MEAN, PerChannel: true, ChannelAxis: 3},
		{Id: "y max", Tensor: "y", Reducer: potv1.Reducer_REDUCER_MAX, Aggregator: potv1.Aggregator_AGGREGATOR_MEAN},
		{Id: "r mean", Tensor: "r", Reducer: potv1.Reducer_REDUCER_MEAN, Aggregator: potv1.Aggregator_AGGREGATOR_MEAN, PerChannel: true, ChannelAxis: 2},
		{Id: "r max", Tensor: "r", Reducer: potv1.Reducer_REDUCER_MAX, Aggregator: potv1.Aggregator_AGGREGATOR_MEAN},
	}
	want := map[string][]float64{"y mean": wantMean, "y max": {wantMax}, "r mean": wantMean, "r max": {wantMax}}
	// Each probe alone (a wrong maximum would not hide behind the error
	// of a channel axis), and all together.
	sets := [][]*potv1.StatisticProbe{probes}
	for _, p := range probes {
		sets = append(sets, []*potv1.StatisticProbe{p})
	}
	for _, batch := range []int32{1, 2, tokens, 4, n} {
		for _, set := range sets {
			st, err := e.CollectStatistics(ctx, &potv1.StatisticsRequest{ModelId: resp.GetModelId(),
				Samples: &potv1.Samples{DataId: id, BatchSize: batch}, Probes: set})
			if err != nil {
				t.Errorf("batch %d: %v", batch, err)
				continue
			}
			if st.GetSamples() != n {
				t.Errorf("batch %d: statistics over %d samples, want %d", batch, st.GetSamples(), n)
			}
			for i, p := range set {
				got, want := st.GetValues()[i].GetValues(), want[p.GetId()]
				if len(got) != len(want) {
					t.Errorf("batch %d, %s: %v, want %v", batch, p.GetId(), got, want)
					continue
				}
				for c := range want {
					if math.Abs(float64(got[c])-want[c]) > 1e-5 {
						t.Errorf("batch %d, %s: %v, want %v", batch, p.GetId(), got, want)
						break
					}
				}
			}
		}
	}
}
