package cpu

import (
	"context"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// BenchmarkResNet runs resnet_fmnist on one thread, batch 64: float32,
// and int8 in both instruction models (plan of minMaxPlan with the
// first-layer saturation fix). ms/sample is the figure pot bench reports.
func BenchmarkResNet(b *testing.B) { benchModel(b, "resnet_fmnist") }

// BenchmarkMobileNet is BenchmarkResNet for mobilenet_fmnist, whose int8
// time goes mostly to depthwise convolutions and fused hard-swish.
func BenchmarkMobileNet(b *testing.B) { benchModel(b, "mobilenet_fmnist") }

func benchModel(b *testing.B, name string) {
	t := &testing.T{}
	g := model(t, name)
	calib, _ := idx(t, "fmnist-calib.json", 100)
	x, _ := idx(t, "fmnist-test.json", 64)
	p := minMaxPlan(t, g, calib, "first_layer")
	for _, tc := range []struct {
		name string
		isa  string
	}{{"float32", ""}, {"int8-vnni", ISAVNNI}, {"int8-avx2", ISAAVX2}} {
		b.Run(tc.name, func(b *testing.B) {
			graph := g
			if tc.isa != "" {
				low, err := Lowering{ISA: tc.isa}.Lower(g, p)
				if err != nil {
					b.Fatal(err)
				}
				graph = low.Graph
			}
			benchGraph(b, graph, x)
		})
	}
}

func benchGraph(b *testing.B, g *potv1.Graph, x *tensor.Tensor) {
	prog, err := rt.Compile(g, rt.Options{Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer prog.Close()
	s := prog.NewSession()
	ctx := context.Background()
	in := []*tensor.Tensor{x}
	if err := s.Run(ctx, in); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Run(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N*x.Shape[0]), "ms/sample")
}
