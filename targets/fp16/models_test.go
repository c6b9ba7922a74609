package fp16

import (
	"compress/gzip"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/sdk/plan"
	rt "github.com/potgo/pot/targets/runtime"
	"github.com/potgo/pot/targets/runtime/tensor"
)

// testImages reads the first n images of an IDX test set of examples/data,
// normalized as its descriptor says, as [n, 1, 28, 28].
func testImages(t *testing.T, set string, mean, std float32, n int) *tensor.Tensor {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "examples", "data", set, "t10k-images-idx3-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var hdr [4]uint32
	if err := binary.Read(z, binary.BigEndian, &hdr); err != nil {
		t.Fatal(err)
	}
	if hdr[0] != 0x803 || hdr[2] != 28 || hdr[3] != 28 {
		t.Fatalf("%s: IDX header %x", set, hdr)
	}
	n = min(n, int(hdr[1]))
	raw := make([]byte, n*28*28)
	if _, err := io.ReadFull(z, raw); err != nil {
		t.Fatal(err)
	}
	x := tensor.New(tensor.Float, n, 1, 28, 28)
	for i, b := range raw {
		x.F32()[i] = (float32(b)/255 - mean) / std
	}
	return x
}

// Float16 runs of the example models stay near float32: logits within 2%
// of the largest logit, and the same top-1 on at least 99% of the
// samples.
func TestExampleModelsInHalf(t *testing.T) {
	models := []struct {
		name, set string
		mean, std float32
	}{
		{"lenet_mnist", "mnist", 0.1307, 0.3081},
		{"mlp_mnist", "mnist", 0.1307, 0.3081},
		{"resnet_fmnist", "fmnist", 0.286, 0.353},
		{"mobilenet_fmnist", "fmnist", 0.286, 0.353},
	}
	for _, m := range models {
		t.Run(m.name, func(t *testing.T) {
			model, err := onnx.ReadFile(filepath.Join("..", "..", "examples", "models", m.name+".onnx"))
			if err != nil {
				t.Fatal(err)
			}
			g, err := onnx.ToGraph(model)
			if err != nil {
				t.Fatal(err)
			}
			x := testImages(t, m.set, m.mean, m.std, 256)
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
