package interp_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// readIDXImages reads the first n images of an IDX dataset descriptor
// (examples/data/*.json), normalized as the descriptor says, as an
// [n, 1, h, w] tensor.
func readIDXImages(t *testing.T, desc string, n int) *tensor.Tensor {
	t.Helper()
	raw, err := os.ReadFile(desc)
	if err != nil {
		t.Skip(err)
	}
	var d struct {
		Images string    `json:"images"`
		Mean   []float32 `json:"mean"`
		Std    []float32 `json:"std"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(filepath.Dir(desc), d.Images))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	dims := int(b[3])
	shape := make([]int, dims)
	for i := range shape {
		shape[i] = int(binary.BigEndian.Uint32(b[4+4*i:]))
	}
	pix := b[4+4*dims:]
	per := shape[1] * shape[2]
	mean, std := float32(0), float32(1)
	if len(d.Mean) > 0 {
		mean = d.Mean[0]
	}
	if len(d.Std) > 0 {
		std = d.Std[0]
	}
	x := make([]float32, n*per)
	for i := range x {
		x[i] = (float32(pix[i])/255 - mean) / std
	}
	return tensor.From([]int{n, 1, shape[1], shape[2]}, x)
}

// TestModelsMatchONNXRuntime runs the example CNNs on the first 64 test
// images and compares the logits with those ONNX Runtime 1.30 computed
// (testdata/models/*.f32, raw little-endian float32).
func TestModelsMatchONNXRuntime(t *testing.T) {
	for _, tc := range []struct{ model, data string }{
		{"resnet_fmnist", "fmnist-test"},
		{"mobilenet_fmnist", "fmnist-test"},
		{"lenet_mnist", "mnist-test"},
	} {
		t.Run(tc.model, func(t *testing.T) {
			const n = 64
			golden, err := os.ReadFile(filepath.Join("testdata", "models", fmt.Sprintf("%s_%s_%d.f32", tc.model, tc.data, n)))
			if err != nil {
				t.Fatal(err)
			}
			want := make([]float32, len(golden)/4)
			if err := binary.Read(bytes.NewReader(golden), binary.LittleEndian, want); err != nil {
				t.Fatal(err)
			}
			x := readIDXImages(t, filepath.Join("..", "..", "examples", "data", tc.data+".json"), n)
			g, err := onnx.ReadGraph(filepath.Join("..", "..", "examples", "models", tc.model+".onnx"))
			if err != nil {
				t.Fatal(err)
			}
			p, err := interp.Compile(g, interp.Options{Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			res, err := p.Run(context.Background(), map[string]*tensor.Tensor{p.InputNames()[0]: x})
			if err != nil {
				t.Fatal(err)
			}
			got := res[p.OutputNames()[0]].F32()
			if len(got) != len(want) {
				t.Fatalf("%d logits, ONNX Runtime has %d", len(got), len(want))
			}
			for i := range got {
				if d := math.Abs(float64(got[i] - want[i])); d > 1e-4*(1+math.Abs(float64(want[i]))) {
					t.Fatalf("logit %d = %v, ONNX Runtime %v", i, got[i], want[i])
				}
			}
		})
	}
}
