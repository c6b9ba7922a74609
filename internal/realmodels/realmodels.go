// Package realmodels reads openWakeWord's models (host/cli/testdata/
// openwakeword) and the ONNX Runtime references of testdata/realmodels
// (see its README) for the tests of the targets and of sdk/target.
package realmodels

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/onnx"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// Graph reads an openWakeWord model (of host/cli/testdata/openwakeword;
// repo is the repository root) as a pot graph.
func Graph(repo, name string) (*potv1.Graph, error) {
	return onnx.ReadGraph(filepath.Join(repo, "host", "cli", "testdata", "openwakeword", name))
}

// Sample returns sample i of a stacked reference tensor (its first axis
// counts the samples), named name.
func Sample(repo, path string, i int, name string) (*potv1.Tensor, error) {
	tp, err := onnx.ReadTensorFile(filepath.Join(repo, "testdata", "realmodels", path))
	if err != nil {
		return nil, err
	}
	t, err := onnx.TensorFromProto(tp)
	if err != nil {
		return nil, err
	}
	if len(t.GetDims()) == 0 || i < 0 || int64(i) >= t.GetDims()[0] {
		return nil, fmt.Errorf("%s: no sample %d in dims %v", path, i, t.GetDims())
	}
	per := len(t.GetData()) / int(t.GetDims()[0])
	return &potv1.Tensor{Name: name, Dtype: t.GetDtype(), Dims: t.GetDims()[1:], Data: t.GetData()[i*per : (i+1)*per]}, nil
}

// Repo is the repository root relative to a plugin main's package
// (targets/cmd/NAME).
const Repo = "../../.."

// TestTarget loads hey_jarvis and silero_vad into a target and runs them:
// hey_jarvis's output on the eight reference windows is within tol of
// ONNX Runtime's, and the value "p2" of its verifier branch is readable
// on the windows that run it; silero_vad runs on its eight reference
// steps at 16 kHz. It returns the largest difference on hey_jarvis.
func TestTarget(t *testing.T, e sdk.Target, tol float64) float64 {
	t.Helper()
	ctx := context.Background()
	load := func(name string) string {
		g, err := Graph(Repo, name)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := e.LoadModel(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetModelId() == "" {
			t.Fatalf("%s refused: %v", name, resp.GetUnsupported())
		}
		return resp.GetModelId()
	}
	jarvis := load("hey_jarvis_v0.1.onnx")
	worst := 0.0
	for i := range 8 {
		x, err := Sample(Repo, "hey_jarvis/x.pb", i, "x.1")
		if err != nil {
			t.Fatal(err)
		}
		want, err := Sample(Repo, "hey_jarvis/53.pb", i, "53")
		if err != nil {
			t.Fatal(err)
		}
		p1, err := Sample(Repo, "hey_jarvis/p1.pb", i, "p1")
		if err != nil {
			t.Fatal(err)
		}
		outputs := []string{"53"}
		then := math.Float32frombits(binary.LittleEndian.Uint32(p1.GetData())) >= 0.5
		if then {
			outputs = append(outputs, "p2")
		}
		resp, err := e.Infer(ctx, &potv1.InferRequest{ModelId: jarvis, Inputs: []*potv1.Tensor{x}, Outputs: outputs})
		if err != nil {
			t.Fatalf("window %d: %v", i, err)
		}
		if len(resp.GetOutputs()) != len(outputs) {
			t.Fatalf("window %d: %d outputs for %v", i, len(resp.GetOutputs()), outputs)
		}
		got := math.Float32frombits(binary.LittleEndian.Uint32(resp.GetOutputs()[0].GetData()))
		ref := math.Float32frombits(binary.LittleEndian.Uint32(want.GetData()))
		worst = max(worst, math.Abs(float64(got-ref)))
		if then {
			// The verifier's output is the model's.
			if p2 := math.Float32frombits(binary.LittleEndian.Uint32(resp.GetOutputs()[1].GetData())); p2 != got {
				t.Errorf("window %d: p2 %g, output %g", i, p2, got)
			}
		}
	}
	if !(worst <= tol) {
		t.Errorf("hey_jarvis: outputs differ from ONNX Runtime's by up to %g, above %g", worst, tol)
	}
	vad := load("silero_vad.onnx")
	for i := range 8 {
		var in []*potv1.Tensor
		for _, name := range []string{"input", "h", "c"} {
			s, err := Sample(Repo, "silero_vad/"+name+".pb", i, name)
			if err != nil {
				t.Fatal(err)
			}
			in = append(in, s)
		}
		sr := &potv1.Tensor{Name: "sr", Dtype: potv1.DataType_DATA_TYPE_INT64, Data: binary.LittleEndian.AppendUint64(nil, 16000)}
		resp, err := e.Infer(ctx, &potv1.InferRequest{ModelId: vad, Inputs: append(in, sr)})
		if err != nil {
			t.Fatalf("silero_vad step %d: %v", i, err)
		}
		if len(resp.GetOutputs()) != 3 {
			t.Fatalf("silero_vad step %d: %d outputs", i, len(resp.GetOutputs()))
		}
	}
	return worst
}

// Reference reads a tensor of testdata/realmodels (repo is the repository
// root) as a runtime tensor.
func Reference(repo, path string) (*tensor.Tensor, error) {
	tp, err := onnx.ReadTensorFile(filepath.Join(repo, "testdata", "realmodels", path))
	if err != nil {
		return nil, err
	}
	pt, err := onnx.TensorFromProto(tp)
	if err != nil {
		return nil, err
	}
	return rt.FromProto(pt)
}

// Row returns row i of a stacked float32 tensor (its first axis counts
// the samples), sharing its storage.
func Row(t *tensor.Tensor, i int) *tensor.Tensor {
	per := t.Len() / t.Shape[0]
	return tensor.From(t.Shape[1:], t.F32()[i*per:(i+1)*per])
}

// Run runs g on the interpreter (two threads, no numeric policy) for each
// sample (its inputs) and returns g's first output of each run; with
// watch, also the min and max of those tensors over the runs that
// computed them.
func Run(t testing.TB, g *potv1.Graph, samples [][]*tensor.Tensor, watch ...string) (out [][]float32, lo, hi map[string]float32) {
	t.Helper()
	p, err := rt.Compile(g, rt.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	lo, hi = map[string]float32{}, map[string]float32{}
	s := p.NewSession()
	name := g.GetOutputs()[0].GetName()
	if err := s.Watch(append(watch, name), func(n string, v *tensor.Tensor) error {
		if _, ok := lo[n]; !ok {
			lo[n], hi[n] = float32(math.Inf(1)), float32(math.Inf(-1))
		}
		for _, f := range v.F32() {
			lo[n], hi[n] = min(lo[n], f), max(hi[n], f)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, in := range samples {
		if err := s.Run(context.Background(), in); err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]float32(nil), s.Value(name).F32()...))
	}
	return out, lo, hi
}
