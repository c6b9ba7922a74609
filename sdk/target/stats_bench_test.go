package target

import (
	"context"
	"testing"

	"github.com/potgo/pot/internal/exampledata"
	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/onnx"
)

// BenchmarkCollectStatistics collects what MinMaxQuantization asks of
// resnet_fmnist (per-sample min and max of every Conv, Relu, Add and
// pooling output, averaged) over 300 calibration samples, on two
// threads: the statistics pass of pot quantize.
func BenchmarkCollectStatistics(b *testing.B) {
	g, err := onnx.ReadGraph("../../examples/models/resnet_fmnist.onnx")
	if err != nil {
		b.Fatal(err)
	}
	x, err := exampledata.FMNIST.Images(exampledata.Root, "calib-1000", 300)
	if err != nil {
		b.Fatal(err)
	}
	e := newEngine(b, Config{Name: "cpu", Threads: 2})
	ctx := context.Background()
	resp, err := e.LoadModel(ctx, g)
	if err != nil {
		b.Fatal(err)
	}
	dims := []int64{}
	for _, d := range x.Shape {
		dims = append(dims, int64(d))
	}
	id, err := e.UploadData(ctx, &plugins.Dataset{Name: "d", Inputs: []string{"input"},
		Tensors: []*potv1.Tensor{graph.FloatTensor("input", dims, x.F32())}})
	if err != nil {
		b.Fatal(err)
	}
	var probes []*potv1.StatisticProbe
	for _, n := range g.GetNodes() {
		switch n.GetOpType() {
		case "Relu", "Add", "Conv", "GlobalAveragePool":
			for _, r := range []potv1.Reducer{potv1.Reducer_REDUCER_MIN, potv1.Reducer_REDUCER_MAX} {
				probes = append(probes, &potv1.StatisticProbe{Id: n.GetName() + r.String(), Tensor: n.GetOutputs()[0], Reducer: r, Aggregator: potv1.Aggregator_AGGREGATOR_MEAN})
			}
		}
	}
	for b.Loop() {
		_, err := e.CollectStatistics(ctx, &potv1.StatisticsRequest{ModelId: resp.GetModelId(), Probes: probes, Samples: &potv1.Samples{DataId: id, BatchSize: 1}})
		if err != nil {
			b.Fatal(err)
		}
	}
}
