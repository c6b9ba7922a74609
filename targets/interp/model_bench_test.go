package interp_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// BenchmarkModels runs the example CNNs at batch 64 on one thread and
// reports milliseconds per sample (compare: ONNX Runtime on the same
// model, single thread, batch 64) and the GFLOP/s of their convolutions
// and matrix products (compare: kernels.BenchmarkPeak of the same
// sitting).
func BenchmarkModels(b *testing.B) {
	for _, name := range []string{"resnet_fmnist", "mobilenet_fmnist", "lenet_mnist"} {
		b.Run(name, func(b *testing.B) {
			m, err := onnx.ReadFile(filepath.Join("..", "..", "examples", "models", name+".onnx"))
			if err != nil {
				b.Skip(err)
			}
			g, err := onnx.ToGraph(m)
			if err != nil {
				b.Fatal(err)
			}
			p, err := interp.Compile(g, interp.Options{Threads: 1})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			const batch = 64
			r := rand.New(rand.NewPCG(1, 2))
			x := make([]float32, batch*28*28)
			for i := range x {
				x[i] = r.Float32()*2 - 1
			}
			in := []*tensor.Tensor{tensor.From([]int{batch, 1, 28, 28}, x)}
			s := p.NewSession()
			ctx := context.Background()
			if err := s.Run(ctx, in); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if err := s.Run(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N*batch), "ms/sample")
			b.ReportMetric(modelFLOPs(b, p, g, in[0])*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// modelFLOPs counts the floating-point operations of the convolutions
// and matrix products of one run of p on x (a multiply-add counts two),
// from the shapes of their outputs and weights.
func modelFLOPs(b *testing.B, p *interp.Program, g *potv1.Graph, x *tensor.Tensor) float64 {
	weights := map[string][]int{}
	for _, t := range g.GetInitializers() {
		dims := make([]int, len(t.GetDims()))
		for i, d := range t.GetDims() {
			dims[i] = int(d)
		}
		weights[t.GetName()] = dims
	}
	perOutput := map[string]int{} // multiply-adds per output element
	for _, n := range g.GetNodes() {
		if len(n.GetInputs()) < 2 {
			continue
		}
		w, ok := weights[n.GetInputs()[1]]
		if !ok || len(w) < 2 {
			continue
		}
		macs := tensor.NumElements(w)
		switch n.GetOpType() {
		case "Conv":
			macs /= w[0]
		case "Gemm":
			macs = w[1] // with transB, as the example models export it
		case "MatMul":
			macs = w[0]
		default:
			continue
		}
		perOutput[n.GetOutputs()[0]] = macs
	}
	var names []string
	for name := range perOutput {
		names = append(names, name)
	}
	res, err := p.Run(context.Background(), map[string]*tensor.Tensor{p.InputNames()[0]: x}, names...)
	if err != nil {
		b.Fatal(err)
	}
	flops := 0.0
	for name, macs := range perOutput {
		flops += 2 * float64(res[name].Len()) * float64(macs)
	}
	return flops
}

// TestModelsThreadsAgree runs the example CNNs on one and on two threads,
// at a batch that splits over images and at batch 1 (which splits each
// image's columns), and wants the same bytes.
func TestModelsThreadsAgree(t *testing.T) {
	for _, name := range []string{"resnet_fmnist", "mobilenet_fmnist", "lenet_mnist"} {
		m, err := onnx.ReadFile(filepath.Join("..", "..", "examples", "models", name+".onnx"))
		if err != nil {
			t.Skip(err)
		}
		g, err := onnx.ToGraph(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, batch := range []int{1, 5} {
			r := rand.New(rand.NewPCG(uint64(batch), 2))
			x := make([]float32, batch*28*28)
			for i := range x {
				x[i] = r.Float32()
			}
			var outs [][]float32
			for _, threads := range []int{1, 2} {
				p, err := interp.Compile(g, interp.Options{Threads: threads})
				if err != nil {
					t.Fatal(err)
				}
				res, err := p.Run(context.Background(), map[string]*tensor.Tensor{p.InputNames()[0]: tensor.From([]int{batch, 1, 28, 28}, x)})
				p.Close()
				if err != nil {
					t.Fatal(err)
				}
				outs = append(outs, res[p.OutputNames()[0]].F32())
			}
			for i := range outs[0] {
				if outs[0][i] != outs[1][i] {
					t.Fatalf("%s batch %d: output %d is %v on one thread, %v on two", name, batch, i, outs[0][i], outs[1][i])
				}
			}
		}
	}
}
