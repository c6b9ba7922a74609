package interp_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// TestSampleParallelSameBits runs the example models on real images,
// batches of 21 and 64 (chunks of every size from 2 to 8 on two
// threads, full chunks and a partial one on one), once sample-parallel
// (only the output watched) and once layer by layer (an intermediate
// value watched too), on one and on two threads, and wants the same
// bits every time.
func TestSampleParallelSameBits(t *testing.T) {
	for _, tc := range []struct{ model, data string }{
		{"resnet_fmnist", "fmnist-test.json"},
		{"mobilenet_fmnist", "fmnist-test.json"},
		{"lenet_mnist", "mnist-test.json"},
		{"mlp_mnist", "mnist-test.json"},
	} {
		t.Run(tc.model, func(t *testing.T) {
			m, err := onnx.ReadFile(filepath.Join("..", "..", "examples", "models", tc.model+".onnx"))
			if err != nil {
				t.Skip(err)
			}
			g, err := onnx.ToGraph(m)
			if err != nil {
				t.Fatal(err)
			}
			all := readIDXImages(t, filepath.Join("..", "..", "examples", "data", tc.data), 64)
			inner := g.GetNodes()[0].GetOutputs()[0]
			for _, n := range []int{21, 64} {
				var x tensor.Tensor
				x.ViewRows(all, 0, n)
				sameBits(t, g, &x, inner, tc.model)
			}
		})
	}
}

// sameBits runs g on x sample-parallel and layer by layer (inner
// watched), on one and on two threads, and wants the same bits.
func sameBits(t *testing.T, g *potv1.Graph, x *tensor.Tensor, inner, model string) {
	t.Helper()
	var want []float32
	for _, threads := range []int{1, 2} {
		p, err := interp.Compile(g, interp.Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if !p.SampleParallel() {
			t.Fatalf("%s is not run sample-parallel", model)
		}
		in := map[string]*tensor.Tensor{p.InputNames()[0]: x}
		out := p.OutputNames()[0]
		split, err := p.Run(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		layered, err := p.Run(context.Background(), in, out, inner)
		if err != nil {
			t.Fatal(err)
		}
		a, b := split[out].F32(), layered[out].F32()
		if want == nil {
			want = b
		}
		if len(a) != len(want) || len(b) != len(want) {
			t.Fatalf("%d samples, %d threads: %d and %d outputs, want %d", x.Shape[0], threads, len(a), len(b), len(want))
		}
		for i := range want {
			if math.Float32bits(a[i]) != math.Float32bits(want[i]) || math.Float32bits(b[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%d samples, %d threads: output %d: %v in chunks, %v layer by layer, want %v", x.Shape[0], threads, i, a[i], b[i], want[i])
			}
		}
	}
}
