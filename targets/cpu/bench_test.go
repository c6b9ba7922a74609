package cpu

import (
	"context"
	"fmt"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// BenchmarkResNet runs resnet_fmnist on one and on two threads, batch 64:
// float32, and int8 in both instruction models (plan of minMaxPlan with
// the first-layer saturation fix). ms/sample is the figure pot bench
// reports; compare t1 with t2 for the scaling over threads.
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
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("t%d", threads), func(b *testing.B) { benchGraph(b, graph, x, threads) })
			}
		})
	}
}

func benchGraph(b *testing.B, g *potv1.Graph, x *tensor.Tensor, threads int) {
	prog, err := rt.Compile(g, rt.Options{Threads: threads})
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
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if err := s.Run(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	samples := float64(b.N * x.Shape[0])
	b.ReportMetric(b.Elapsed().Seconds()*1000/samples, "ms/sample")
	// CPU time of the process: on a shared machine, where wall time
	// depends on what else runs, the work each sample costs.
	b.ReportMetric((cpuTime()-cpu0).Seconds()*1000/samples, "cpu-ms/sample")
}
