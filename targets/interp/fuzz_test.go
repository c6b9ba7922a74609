package interp_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// fuzzMaxModel bounds the models FuzzCompile compiles, so that each run
// stays fast; fuzzMaxTensor lowers the runtime's tensor limit for the
// same reason (a small model can still ask for a large tensor, which
// must then be refused as it would be at the real limit).
const (
	fuzzMaxModel  = 64 << 10
	fuzzMaxTensor = 16 << 20
)

// FuzzCompile decodes arbitrary bytes as an ONNX model with the SDK's
// reader and compiles what converts, folding constants, then runs it
// once on zero inputs of the declared shapes: nothing may panic (a
// kernel's panic, which the runtime turns into a "kernel failed" error,
// counts), hang or allocate beyond the tensor limit. The seeds are the
// ONNX node tests in testdata/onnx-node, small real models.
func FuzzCompile(f *testing.F) {
	models, _ := filepath.Glob(filepath.Join("testdata", "onnx-node", "*", "model.onnx"))
	for _, p := range models {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	old := tensor.SetMaxBytes(fuzzMaxTensor)
	f.Cleanup(func() { tensor.SetMaxBytes(old) })
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > fuzzMaxModel {
			return
		}
		m, err := onnx.Decode(b)
		if err != nil {
			return
		}
		g, err := onnx.ToGraph(m)
		if err != nil {
			return
		}
		p, err := interp.Compile(g, interp.Options{})
		if err != nil {
			if strings.Contains(err.Error(), "kernel failed") {
				t.Fatalf("Compile: %v", err)
			}
			return
		}
		defer p.Close()
		inputs, ok := zeroInputs(g)
		if !ok {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := p.Run(ctx, inputs); err != nil && strings.Contains(err.Error(), "kernel failed") {
			t.Fatalf("Run: %v", err)
		}
	})
}

// zeroInputs makes a zero tensor of each graph input's declared type and
// shape (symbolic dimensions 1), or reports false when an input has no
// type the runtime holds or would be large.
func zeroInputs(g *potv1.Graph) (map[string]*tensor.Tensor, bool) {
	in := map[string]*tensor.Tensor{}
	for _, vi := range g.GetInputs() {
		dt := tensor.DType(vi.GetDtype())
		if !dt.Supported() {
			return nil, false
		}
		shape := make([]int, len(vi.GetShape()))
		n := 1
		for i, d := range vi.GetShape() {
			shape[i] = 1
			if sz := d.GetSize(); sz > 0 {
				if sz > 1<<16 {
					return nil, false
				}
				shape[i] = int(sz)
			}
			n *= shape[i]
			if n > 1<<16 {
				return nil, false
			}
		}
		in[vi.GetName()] = tensor.New(dt, shape...)
	}
	return in, true
}
