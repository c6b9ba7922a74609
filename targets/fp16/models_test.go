package fp16

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/potgo/pot/internal/exampledata"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/sdk/plan"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// Float16 runs of the example models stay near float32: logits within 2%
// of the largest logit, and the same top-1 on at least 99% of the
// samples.
func TestExampleModelsInHalf(t *testing.T) {
	models := []struct {
		name string
		set  exampledata.Set
	}{
		{"lenet_mnist", exampledata.MNIST},
		{"mlp_mnist", exampledata.MNIST},
		{"resnet_fmnist", exampledata.FMNIST},
		{"mobilenet_fmnist", exampledata.FMNIST},
	}
	for _, m := range models {
		t.Run(m.name, func(t *testing.T) {
			g, err := onnx.ReadGraph(filepath.Join("..", "..", "examples", "models", m.name+".onnx"))
			if err != nil {
				t.Fatal(err)
			}
			x, err := m.set.Images(exampledata.Root, "t10k", 256)
			if err != nil {
				t.Fatal(err)
			}
			run := func(half bool) []float32 {
				a, err := plan.Apply(g, nil)
				opts := rt.Options{Threads: 2}
				if half {
					a, err = Lower(g, nil)
					opts.Policy = Policy{}
				}
				if err != nil {
					t.Fatal(err)
				}
				prog, err := rt.Compile(a.Graph, opts)
				if err != nil {
					t.Fatal(err)
				}
				res, err := prog.Run(context.Background(), map[string]*tensor.Tensor{g.GetInputs()[0].GetName(): x})
				if err != nil {
					t.Fatal(err)
				}
				return res[g.GetOutputs()[0].GetName()].F32()
			}
			ref, half := run(false), run(true)
			if err := compareLogits(ref, half, x.Shape[0]); err != nil {
				t.Error(err)
			}
		})
	}
}

func compareLogits(ref, got []float32, n int) error {
	if len(ref) != len(got) {
		return fmt.Errorf("%d logits, want %d", len(got), len(ref))
	}
	per := len(ref) / n
	scale, diff := 0.0, 0.0
	agree := 0
	for s := 0; s < n; s++ {
		a, b := 0, 0
		for c := 0; c < per; c++ {
			i := s*per + c
			scale = math.Max(scale, math.Abs(float64(ref[i])))
			diff = math.Max(diff, math.Abs(float64(ref[i]-got[i])))
			if ref[i] > ref[s*per+a] {
				a = c
			}
			if got[i] > got[s*per+b] {
				b = c
			}
		}
		if a == b {
			agree++
		}
	}
	if diff > 0.02*scale {
		return fmt.Errorf("largest logit difference %.4g, above 2%% of the largest logit %.4g", diff, scale)
	}
	if agree < n*99/100 {
		return fmt.Errorf("same top-1 on %d of %d samples", agree, n)
	}
	return nil
}
