package fp16

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/potgo/pot/internal/realmodels"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/onnx"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

func readReal(t *testing.T, path ...string) *tensor.Tensor {
	t.Helper()
	v, err := realmodels.Reference(filepath.Join("..", ".."), filepath.Join(path...))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func isHalf(v float32) bool { return Round(v) == v || v != v }

// TestRealModelsInHalf lowers openWakeWord's hey_jarvis and silero_vad,
// whose networks sit in If branches, for a float16 device: the branches'
// initializers are rounded, their nodes read the rounded graph input and
// the policy rounds their values; the outputs stay near float32's.
func TestRealModelsInHalf(t *testing.T) {
	for _, tc := range []struct {
		model  string
		inputs []string // reference tensors, in graph input order ("" = sr)
		output string
		watch  string // a value inside a branch
		// tol bounds the output's difference from float32; 0 means the
		// model overflows half (see below).
		tol float64
	}{
		// Probabilities through three Gemm+LayerNorm layers per stage.
		{"hey_jarvis_v0.1.onnx", []string{"hey_jarvis/x.pb"}, "53", "input.27", 0.02},
		// silero_vad scales its STFT magnitudes by 2^20 before the Log
		// (value "197"): above 1/16 they exceed half's 65504 and become
		// +Inf, as on a float16 device, and the normalization that
		// follows turns them into NaN. It runs, in half, to NaN.
		{"silero_vad.onnx", []string{"silero_vad/input.pb", "", "silero_vad/h.pb", "silero_vad/c.pb"}, "output", "356", 0},
	} {
		t.Run(tc.model, func(t *testing.T) {
			g, err := onnx.ReadGraph(filepath.Join(openWakeWord, tc.model))
			if err != nil {
				t.Fatal(err)
			}
			a, err := Lower(g, nil)
			if err != nil {
				t.Fatal(err)
			}
			// Initializers the nodes kept in float32 read stay float32.
			keptIn := map[string]bool{}
			graph.Walk(a.Graph, func(n *potv1.Node, _ *potv1.Graph, _ *potv1.Node) {
				if KeepsFloat32(n) {
					for _, in := range n.GetInputs() {
						keptIn[in] = true
					}
				}
			})
			subgraphInits := 0
			for _, sg := range graph.Graphs(a.Graph) {
				for _, init := range sg.GetInitializers() {
					if init.GetDtype() != potv1.DataType_DATA_TYPE_FLOAT || keptIn[init.GetName()] {
						continue
					}
					if sg != a.Graph {
						subgraphInits++
					}
					v, err := graph.Float32s(init)
					if err != nil {
						t.Fatal(err)
					}
					for _, x := range v {
						if !isHalf(x) {
							t.Fatalf("initializer %q of graph %q holds %g, not a half", init.GetName(), sg.GetName(), x)
						}
					}
				}
			}
			graph.Walk(a.Graph, func(n *potv1.Node, scope *potv1.Graph, _ *potv1.Node) {
				for _, in := range n.GetInputs() {
					for _, gi := range g.GetInputs() {
						if in == gi.GetName() && gi.GetDtype() == potv1.DataType_DATA_TYPE_FLOAT && n.GetOpType() != "Identity" {
							t.Errorf("node %q of graph %q reads the unrounded input %q", n.GetName(), scope.GetName(), in)
						}
					}
				}
			})
			float, err := rt.Compile(g, rt.Options{Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer float.Close()
			half, err := rt.Compile(a.Graph, rt.Options{Threads: 2, Policy: Policy{}})
			if err != nil {
				t.Fatal(err)
			}
			defer half.Close()
			refs := make([]*tensor.Tensor, len(tc.inputs))
			for i, p := range tc.inputs {
				if p != "" {
					refs[i] = readReal(t, p)
				}
			}
			fs, hs := float.NewSession(), half.NewSession()
			watched := 0
			if err := hs.Watch([]string{tc.output, tc.watch}, func(name string, v *tensor.Tensor) error {
				if name == tc.watch {
					watched++
					for _, x := range v.F32() {
						if !isHalf(x) {
							t.Errorf("%s holds %g, not a half", name, x)
							break
						}
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if err := fs.Watch([]string{tc.output}, nil); err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for i := range refs[0].Shape[0] {
				in := make([]*tensor.Tensor, len(refs))
				for j, r := range refs {
					if r == nil {
						in[j] = tensor.Scalar(int64(16000))
					} else {
						in[j] = realmodels.Row(r, i)
					}
				}
				if err := fs.Run(context.Background(), in); err != nil {
					t.Fatal(err)
				}
				if err := hs.Run(context.Background(), in); err != nil {
					t.Fatal(err)
				}
				for k, v := range fs.Value(tc.output).F32() {
					worst = max(worst, math.Abs(float64(v-hs.Value(tc.output).F32()[k])))
				}
			}
			t.Logf("max abs difference from float32: %.3g; %d float initializers in subgraphs; %s computed %d times", worst, subgraphInits, tc.watch, watched)
			switch {
			case tc.tol == 0 && !math.IsNaN(worst):
				t.Errorf("the model was expected to overflow half, its outputs differ from float32 by up to %g", worst)
			case tc.tol > 0 && !(worst <= tc.tol):
				t.Errorf("outputs differ from float32 by up to %g, above %g", worst, tc.tol)
			}
			if watched == 0 {
				t.Errorf("%s, inside a branch, was never computed", tc.watch)
			}
		})
	}
}
