package interp_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/potgo/pot/internal/realmodels"
	"github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// repo is the repository root: realmodels reads openWakeWord's models and
// ONNX Runtime's references from it.
var repo = filepath.Join("..", "..")

// compileReal compiles an openWakeWord model.
func compileReal(t testing.TB, name string, opts interp.Options) *interp.Program {
	t.Helper()
	g, err := realmodels.Graph(repo, name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := interp.Compile(g, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// refTensor reads a reference tensor of testdata/realmodels.
func refTensor(t testing.TB, path ...string) *tensor.Tensor {
	t.Helper()
	v, err := realmodels.Reference(repo, filepath.Join(path...))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// maxAbsDiff is the largest |a - b| of two float32 tensors of one size.
func maxAbsDiff(t *testing.T, a, b *tensor.Tensor) float64 {
	t.Helper()
	if a.Len() != b.Len() {
		t.Fatalf("%v values, want %v", a.Shape, b.Shape)
	}
	d := 0.0
	for i, v := range a.F32() {
		d = max(d, math.Abs(float64(v)-float64(b.F32()[i])))
	}
	return d
}

// realTolerance bounds the absolute difference from ONNX Runtime's
// outputs. Both compute in float32, in other summation orders (blocked
// GEMMs, convolutions as GEMMs) and with other exp, tanh and logistic
// approximations (MLAS's rational ones, pot's polynomials; both within a
// few float32 ulps). The outputs are probabilities and LSTM states of
// magnitude below 2, reached through about 20 layers whose dot products
// run over up to 1536 terms: rounding differences of about 1e-7 relative
// per operation grow to 1e-6–1e-5 at the output, so 1e-4 leaves a
// margin of ten while a wrong branch, gate or state (errors of 1e-2 and
// more) still fails.
const realTolerance = 1e-4

// TestRealModels runs openWakeWord's hey_jarvis (its If runs a second
// network on the samples the first one scores >= 0.5) and silero_vad (its
// network, LSTMs included, inside nested Ifs) on speech features and
// compares with ONNX Runtime's outputs; it checks that the values of the
// branch that runs, and only those, are observable.
func TestRealModels(t *testing.T) {
	ctx := context.Background()
	t.Run("hey_jarvis", func(t *testing.T) {
		p := compileReal(t, "hey_jarvis_v0.1.onnx", interp.Options{Threads: 2})
		x, want, p1 := refTensor(t, "hey_jarvis", "x.pb"), refTensor(t, "hey_jarvis", "53.pb"), refTensor(t, "hey_jarvis", "p1.pb")
		// p2 is the verifier branch's output, input.27 its first Gemm's.
		for _, name := range []string{"p2", "input.27", "p1.1"} {
			if !p.Has(name) {
				t.Fatalf("Has(%q) = false", name)
			}
		}
		s := p.NewSession()
		calls := map[string]int{}
		if err := s.Watch([]string{"p2", "input.27", "p1.1"}, func(name string, v *tensor.Tensor) error {
			calls[name]++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for i := range x.Shape[0] {
			clear(calls)
			if err := s.Run(ctx, []*tensor.Tensor{realmodels.Row(x, i)}); err != nil {
				t.Fatal(err)
			}
			d := maxAbsDiff(t, s.Value("53"), realmodels.Row(want, i))
			worst = max(worst, d)
			if d > realTolerance {
				t.Errorf("sample %d: output %v, ONNX Runtime %v", i, s.Value("53").F32(), realmodels.Row(want, i).F32())
			}
			then := p1.F32()[i] >= 0.5
			if n := calls["p1.1"]; n != 1 {
				t.Errorf("sample %d: p1.1 watched %d times, want once", i, n)
			}
			if got := s.Value("p1.1").F32()[0]; math.Abs(float64(got-p1.F32()[i])) > realTolerance {
				t.Errorf("sample %d: first stage %g, ONNX Runtime %g", i, got, p1.F32()[i])
			}
			wantCalls := 0
			if then {
				wantCalls = 1
			}
			if calls["p2"] != wantCalls || calls["input.27"] != wantCalls {
				t.Errorf("sample %d (first stage %.3f): branch values watched %v times, want %d", i, p1.F32()[i], calls, wantCalls)
			}
			if v := s.Value("p2"); (v != nil) != then {
				t.Errorf("sample %d: Value(p2) = %v with the verifier branch run %v", i, v, then)
			}
		}
		t.Logf("max abs difference from ONNX Runtime: %.2g", worst)
	})
	t.Run("silero_vad", func(t *testing.T) {
		p := compileReal(t, "silero_vad.onnx", interp.Options{Threads: 2})
		in, h, c := refTensor(t, "silero_vad", "input.pb"), refTensor(t, "silero_vad", "h.pb"), refTensor(t, "silero_vad", "c.pb")
		wants := map[string]*tensor.Tensor{"output": refTensor(t, "silero_vad", "output.pb"), "hn": refTensor(t, "silero_vad", "hn.pb"), "cn": refTensor(t, "silero_vad", "cn.pb")}
		// 356 is the first LSTM's Y in the 16 kHz branch (two If levels
		// down), 846 the same LSTM's in the 8 kHz branch.
		s := p.NewSession()
		calls := map[string]int{}
		if err := s.Watch([]string{"356", "846"}, func(name string, v *tensor.Tensor) error {
			calls[name]++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		worst := map[string]float64{}
		for i := range in.Shape[0] {
			clear(calls)
			if err := s.Run(ctx, []*tensor.Tensor{realmodels.Row(in, i), tensor.Scalar(int64(16000)), realmodels.Row(h, i), realmodels.Row(c, i)}); err != nil {
				t.Fatal(err)
			}
			for name, want := range wants {
				d := maxAbsDiff(t, s.Value(name), realmodels.Row(want, i))
				worst[name] = max(worst[name], d)
				if d > realTolerance {
					t.Errorf("sample %d: %s differs from ONNX Runtime's by %g", i, name, d)
				}
			}
			if calls["356"] != 1 || calls["846"] != 0 {
				t.Errorf("sample %d: LSTM outputs watched %v times, want 356 once and 846 never", i, calls)
			}
		}
		t.Logf("max abs difference from ONNX Runtime: %v", worst)
	})
}
