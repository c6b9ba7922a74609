package fp16

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npy"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/sdk/plan"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// openWakeWord is the folder of the real openWakeWord models and speech
// features the CLI tests use.
var openWakeWord = filepath.Join("..", "..", "host", "cli", "testdata", "openwakeword")

func readGraph(t testing.TB, path string) *potv1.Graph {
	t.Helper()
	g, err := onnx.ReadGraph(path)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// readWindows reads a float32 .npy array [N 16 96] of speech-embedding
// windows as N samples of shape [1 16 96].
func readWindows(t testing.TB, path string) []*tensor.Tensor {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := npy.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	shape := r.Header.Descr.Shape
	var data []float32
	if err := r.Read(&data); err != nil {
		t.Fatal(err)
	}
	if len(shape) != 3 || shape[1] != 16 || shape[2] != 96 {
		t.Fatalf("%s: shape %v, want [N 16 96]", path, shape)
	}
	n := 16 * 96
	out := make([]*tensor.Tensor, shape[0])
	for i := range out {
		out[i] = tensor.From([]int{1, 16, 96}, data[i*n:(i+1)*n])
	}
	return out
}

// scores runs a wake-word head on each window: in float32 (emulation
// "fp32"), on a float16 device with the precision-sensitive subgraphs
// kept in float32 ("mixed"), or with every value in half ("half"). It
// also returns the graph it ran.
func scores(g *potv1.Graph, windows []*tensor.Tensor, emulation string) ([]float32, *potv1.Graph, error) {
	var a *plan.Applied
	var err error
	opts := rt.Options{Threads: 2}
	switch emulation {
	case "fp32":
		a, err = plan.Apply(g, nil)
	case "mixed", "half":
		a, err = lower(g, nil, emulation == "mixed", nil)
		opts.Policy = Policy{}
	default:
		err = fmt.Errorf("no emulation %q", emulation)
	}
	if err != nil {
		return nil, nil, err
	}
	prog, err := rt.Compile(a.Graph, opts)
	if err != nil {
		return nil, nil, err
	}
	defer prog.Close()
	in, out := g.GetInputs()[0].GetName(), g.GetOutputs()[0].GetName()
	s := make([]float32, len(windows))
	for i, w := range windows {
		res, err := prog.Run(context.Background(), map[string]*tensor.Tensor{in: w})
		if err != nil {
			return nil, nil, err
		}
		s[i] = res[out].F32()[0]
	}
	return s, a.Graph, nil
}

// worst returns the largest |got - ref| (+Inf where got is not finite)
// and its sample.
func worst(ref, got []float32) (float64, int) {
	d, at := 0.0, 0
	for i := range ref {
		e := math.Abs(float64(got[i]) - float64(ref[i]))
		if math.IsNaN(e) || math.IsInf(float64(got[i]), 0) {
			e = math.Inf(1)
		}
		if e > d {
			d, at = e, i
		}
	}
	return d, at
}

// scoreBound is how far a head's score on the float16 device may be from
// float32's. The device stores every value with 11 significant bits
// (relative error at most 2^-12); a score near 1 is stored within 2.4e-4,
// and the roundings of the last Gemm's 128 inputs and weights move its
// logit by at most 2^-12 times the sum of the |products| on each side,
// which the sigmoid's slope (at most 1/4) shrinks further. 1e-2 allows a
// logit error of 0.04 — about 20 times the worst score error measured on
// these windows by the head that has nothing to keep in float32 (alexa:
// 5.5e-4) — and is 50 times finer than the 0.5 of a wake decision.
const scoreBound = 1e-2

// The openWakeWord heads hey_mycroft, hey_rhasspy and hey_jarvis normalize
// their Gemm outputs with LayerNorm written out (ReduceMean, Sub, Pow 2,
// ReduceMean, Add 1e-5, Sqrt, Div, Mul, Add): on a float16 device that
// rounds everything, the squares of hey_mycroft's deviations overflow
// half, the variance is Inf and the scores are wrong; OpenVINO keeps the
// normalization in float32, and so does Lower. Every window of real
// speech features must score within scoreBound of float32; alexa, without
// normalization, must run exactly as before, nothing kept.
func TestWakeWordHeadsInHalf(t *testing.T) {
	var windows []*tensor.Tensor
	for _, d := range []string{"alexa.npy", "hey_jarvis.npy"} {
		windows = append(windows, readWindows(t, filepath.Join(openWakeWord, d))...)
	}
	// float32 nodes: between the Gemms, everything.
	layerNormHead := func(n *potv1.Node) bool {
		switch n.GetOpType() {
		case "Flatten", "Gemm", "Sigmoid", "If", "GreaterOrEqual", "Cast":
			return false
		}
		return !strings.HasPrefix(n.GetName(), "fp16/")
	}
	for _, tc := range []struct {
		model string
		kept  func(*potv1.Node) bool // nil: nothing kept
		// halfBroken: rounding everything gets some score wrong by more
		// than half (a decision can flip); otherwise it stays within
		// scoreBound on these windows.
		halfBroken bool
	}{
		{model: filepath.Join("testdata", "hey_mycroft_v0.1.onnx"), kept: layerNormHead, halfBroken: true},
		{model: filepath.Join("testdata", "hey_rhasspy_v0.1.onnx"), kept: layerNormHead},
		// The verifier network inside the If is marked on its own; its
		// threshold (Constant_29) feeds a comparison only.
		{model: filepath.Join(openWakeWord, "hey_jarvis_v0.1.onnx"), kept: func(n *potv1.Node) bool {
			return layerNormHead(n) && n.GetName() != "Constant_29"
		}},
		{model: filepath.Join(openWakeWord, "alexa_v0.1.onnx")},
	} {
		t.Run(filepath.Base(tc.model), func(t *testing.T) {
			g := readGraph(t, tc.model)
			ref, _, err := scores(g, windows, "fp32")
			var unsupported *rt.UnsupportedOpsError
			if errors.As(err, &unsupported) {
				// hey_jarvis runs a verifier network inside an If.
				t.Skipf("the runtime cannot run this model yet: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			mixed, lowered, err := scores(g, windows, "mixed")
			if err != nil {
				t.Fatal(err)
			}
			half, _, err := scores(g, windows, "half")
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range lowered.GetNodes() {
				if want := tc.kept != nil && tc.kept(n); KeepsFloat32(n) != want {
					t.Errorf("node %q (%s): kept in float32 %v, want %v", n.GetName(), n.GetOpType(), KeepsFloat32(n), want)
				}
			}
			if d, i := worst(ref, mixed); d > scoreBound {
				t.Errorf("window %d scores %.5g, float32 %.5g: off by %.3g, above %g", i, mixed[i], ref[i], d, scoreBound)
			}
			d, i := worst(ref, half)
			t.Logf("everything in half: worst window %d scores %.5g, float32 %.5g", i, half[i], ref[i])
			if tc.halfBroken && d < 0.5 {
				t.Errorf("rounding everything gets every window within %.3g of float32: the test shows nothing", d)
			}
			if !tc.halfBroken && d > scoreBound {
				t.Errorf("rounding everything gets window %d off by %.3g", i, d)
			}
			if tc.kept == nil {
				for i := range half {
					if half[i] != mixed[i] {
						t.Errorf("window %d: %.7g with nothing kept, %.7g before", i, mixed[i], half[i])
					}
				}
			}
		})
	}
}

// BenchmarkLower measures Lower on a real head, the marking included
// (once per compiled plan).
func BenchmarkLower(b *testing.B) {
	g := readGraph(b, filepath.Join("testdata", "hey_mycroft_v0.1.onnx"))
	for _, mixed := range []bool{false, true} {
		b.Run(fmt.Sprintf("mixed=%v", mixed), func(b *testing.B) {
			for b.Loop() {
				if _, err := lower(g, nil, mixed, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
