package gna

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// convBenchBatch is the images per run of BenchmarkConvVsCPU: GNA's
// convolution is a scalar loop, so fewer than the model benchmarks' 64.
const convBenchBatch = 16

// BenchmarkConvVsCPU runs the convolutions of resnet_fmnist whose weights
// are 32x32x3x3 and 64x64x3x3 (real weights, real activations of the
// float model on random images) on one thread, as GnaConv on int16 grids
// that cover the weights (per output channel) and the input, and as the
// cpu target's float Conv. Issue 17's goal 6 is gna/X within 3x of
// cpu/X's time (tools/bench prints the ratio); both report GFLOP/s
// (2·MACs).
func BenchmarkConvVsCPU(b *testing.B) {
	m, err := onnx.ReadFile(filepath.Join("..", "..", "examples", "models", "resnet_fmnist.onnx"))
	if err != nil {
		b.Skip(err)
	}
	g, err := onnx.ToGraph(m)
	if err != nil {
		b.Fatal(err)
	}
	inits := map[string]*potv1.Tensor{}
	for _, t := range g.GetInitializers() {
		inits[t.GetName()] = t
	}
	layers := map[string]*potv1.Node{} // first conv of each wanted weight shape
	for _, n := range g.GetNodes() {
		if n.GetOpType() != "Conv" || len(n.GetInputs()) < 3 {
			continue
		}
		d := inits[n.GetInputs()[1]].GetDims()
		if len(d) != 4 || d[0] != d[1] || d[2] != 3 || d[3] != 3 || (d[0] != 32 && d[0] != 64) {
			continue
		}
		name := map[int64]string{32: "resnet_32x32x3x3", 64: "resnet_64x64x3x3"}[d[0]]
		if layers[name] == nil {
			layers[name] = n
		}
	}
	if len(layers) == 0 {
		b.Fatal("resnet_fmnist has no 32x32x3x3 or 64x64x3x3 convolution")
	}
	p, err := interp.Compile(g, interp.Options{Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	r := rand.New(rand.NewPCG(1, 2))
	img := make([]float32, convBenchBatch*28*28)
	for i := range img {
		img[i] = r.Float32()*2 - 1
	}
	var inputs []string
	for _, n := range layers {
		inputs = append(inputs, n.GetInputs()[0])
	}
	acts, err := p.Run(context.Background(), map[string]*tensor.Tensor{p.InputNames()[0]: tensor.From([]int{convBenchBatch, 1, 28, 28}, img)}, inputs...)
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"resnet_32x32x3x3", "resnet_64x64x3x3"} {
		n := layers[name]
		if n == nil {
			continue
		}
		x := acts[n.GetInputs()[0]]
		w, err := tensor.FromProto(inits[n.GetInputs()[1]])
		if err != nil {
			b.Fatal(err)
		}
		bias, err := tensor.FromProto(inits[n.GetInputs()[2]])
		if err != nil {
			b.Fatal(err)
		}
		cpu := convKernel(b, n, "", "Conv", 13, nil, w, bias)
		gna := convKernel(b, n, ops.DomainPot, "GnaConv", 1, gnaGrids(x, w), w, bias)
		y := &tensor.Tensor{}
		ctx := ops.NewContext(1)
		if err := cpu.Run(ctx, []*tensor.Tensor{x, w, bias}, []*tensor.Tensor{y}); err != nil {
			b.Fatal(err)
		}
		macs := float64(y.Len()) * float64(tensor.NumElements(w.Shape[1:]))
		for _, k := range []struct {
			name string
			k    ops.Kernel
		}{{"cpu", cpu}, {"gna", gna}} {
			b.Run(k.name+"/"+name, func(b *testing.B) {
				for b.Loop() {
					if err := k.k.Run(ctx, []*tensor.Tensor{x, w, bias}, []*tensor.Tensor{y}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(2*macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// gnaGrids are GnaConv's int16 grid attributes covering x (one step) and
// each output channel of w.
func gnaGrids(x, w *tensor.Tensor) []*potv1.Attribute {
	maxAbs := func(v []float32) float32 {
		m := float32(0)
		for _, f := range v {
			m = max(m, float32(math.Abs(float64(f))))
		}
		return max(m, 1e-8)
	}
	per := len(w.F32()) / w.Shape[0]
	ws := make([]float32, w.Shape[0])
	for c := range ws {
		ws[c] = maxAbs(w.F32()[c*per:(c+1)*per]) / Int16Hi
	}
	return attrs(grid("x", Int16Lo, Int16Hi, maxAbs(x.F32())/Int16Hi), grid("w", Int16Lo, Int16Hi, ws...))
}

// convKernel builds the kernel of a copy of conv node n as domain/op with
// extra attributes and constant weights and bias.
func convKernel(b *testing.B, n *potv1.Node, domain, op string, opset int64, extra []*potv1.Attribute, w, bias *tensor.Tensor) ops.Kernel {
	b.Helper()
	reg := ops.Lookup
	if domain == ops.DomainPot {
		reg = Registry().Lookup
	}
	f, ok := reg(domain, op, opset)
	if !ok {
		b.Fatalf("%s is not registered", op)
	}
	node := &potv1.Node{Name: n.GetName(), OpType: op, Domain: domain, Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"},
		Attributes: append(append([]*potv1.Attribute{}, n.GetAttributes()...), extra...)}
	k, err := f(ops.NewNode(node, opset, []*tensor.Tensor{nil, w, bias}))
	if err != nil {
		b.Fatal(err)
	}
	return k
}
