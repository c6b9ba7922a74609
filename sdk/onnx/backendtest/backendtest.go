package backendtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/onnx"
)

// DefaultDir is where Debian's libonnx-testdata installs the suite.
const DefaultDir = "/usr/share/libonnx-testdata/data"

// Backend runs graphs.
type Backend interface {
	// Prepare compiles a graph. An error wrapping *UnsupportedError makes
	// the test a skip.
	Prepare(ctx context.Context, g *potv1.Graph) (Model, error)
}

// Model is a prepared graph.
type Model interface {
	// Run computes the graph outputs, in graph order, from inputs given in
	// graph-input order (initializers excluded).
	Run(ctx context.Context, inputs []*potv1.Tensor) ([]*potv1.Tensor, error)
	Close() error
}

// UnsupportedError marks an operator, attribute or type the backend does
// not implement.
type UnsupportedError struct{ Reason string }

func (e *UnsupportedError) Error() string { return e.Reason }

// Status of one test.
type Status int

// Statuses.
const (
	Pass Status = iota
	Fail
	Skip
)

func (s Status) String() string { return [...]string{"PASS", "FAIL", "SKIP"}[s] }

// Result of one test folder.
type Result struct {
	Name   string
	Dir    string
	Status Status
	Reason string
}

// Tolerance of the comparison: |got - want| <= Atol + Rtol*|want|.
type Tolerance struct{ Rtol, Atol float64 }

// DefaultTolerance is the ONNX backend runner's.
var DefaultTolerance = Tolerance{Rtol: 1e-3, Atol: 1e-7}

// looser lists tests ONNX's own runner checks with wider tolerances, and
// those whose references come from float64 numpy over long reductions.
var looser = map[string]Tolerance{
	// ONNX 1.12 made this reference by truncating float32 to bfloat16;
	// Cast rounds to nearest even, one bfloat16 step (2^-7 relative) away.
	"test_cast_FLOAT_to_BFLOAT16": {Rtol: 1.0 / 128, Atol: 1e-7},
}

// brokenData lists tests whose stored data contradicts their own model;
// they are skipped with the reason.
var brokenData = map[string]string{
	"test_castlike_BFLOAT16_to_FLOAT":          "test data defect: input \"like\" has shape [1], the model declares [3 4]",
	"test_castlike_BFLOAT16_to_FLOAT_expanded": "test data defect: input \"like\" has shape [1], the model declares [3 4]",
	"test_castlike_FLOAT_to_BFLOAT16":          "test data defect: input \"like\" has shape [1], the model declares [3 4]",
	"test_castlike_FLOAT_to_BFLOAT16_expanded": "test data defect: input \"like\" has shape [1], the model declares [3 4]",
}

// ToleranceFor returns the tolerance used for a test name.
func ToleranceFor(name string) Tolerance {
	if t, ok := looser[name]; ok {
		return t
	}
	return DefaultTolerance
}

// Discover returns every folder under roots that holds a model.onnx,
// sorted by path.
func Discover(roots ...string) ([]string, error) {
	var dirs []string
	for _, root := range roots {
		if _, err := os.Stat(root); err != nil {
			return nil, err
		}
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && d.Name() == "model.onnx" {
				dirs = append(dirs, filepath.Dir(path))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(dirs)
	return dirs, nil
}

// Run runs one test folder.
func Run(ctx context.Context, b Backend, dir string) Result {
	r := Result{Name: filepath.Base(dir), Dir: dir}
	status, reason := run(ctx, b, dir)
	r.Status, r.Reason = status, reason
	return r
}

func run(ctx context.Context, b Backend, dir string) (Status, string) {
	if reason, ok := brokenData[filepath.Base(dir)]; ok {
		return Skip, reason
	}
	m, err := onnx.ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return Fail, err.Error()
	}
	for _, vi := range append(append([]*onnxpb.ValueInfoProto{}, m.GetGraph().GetInput()...), m.GetGraph().GetOutput()...) {
		if vi.GetType().GetTensorType() == nil {
			return Skip, fmt.Sprintf("%s: non-tensor value %q (sequence, map or optional)", opsOf(m), vi.GetName())
		}
	}
	g, err := onnx.ToGraph(m)
	if err != nil {
		return Fail, err.Error()
	}
	model, err := b.Prepare(ctx, g)
	if err != nil {
		var u *UnsupportedError
		if errors.As(err, &u) {
			return Skip, u.Reason
		}
		return Fail, "prepare: " + err.Error()
	}
	defer model.Close()
	inits := map[string]bool{}
	for _, t := range g.GetInitializers() {
		inits[t.GetName()] = true
	}
	var inputNames []string
	declared := map[string]potv1.DataType{}
	for _, vi := range g.GetInputs() {
		declared[vi.GetName()] = vi.GetDtype()
		if !inits[vi.GetName()] {
			inputNames = append(inputNames, vi.GetName())
		}
	}
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	sort.Strings(sets)
	if len(sets) == 0 {
		return Fail, "no test_data_set_N folder"
	}
	tol := ToleranceFor(filepath.Base(dir))
	for _, set := range sets {
		inputs, err := readTensors(set, "input", len(inputNames))
		if err != nil {
			return Fail, err.Error()
		}
		if len(inputs) > len(inputNames) {
			return Fail, fmt.Sprintf("%s: %d inputs for %d graph inputs", filepath.Base(set), len(inputs), len(inputNames))
		}
		for i, t := range inputs {
			t.Name = inputNames[i]
			fixBFloat16(t, declared[t.Name])
		}
		want, err := readTensors(set, "output", -1)
		if err != nil {
			return Fail, err.Error()
		}
		got, err := model.Run(ctx, inputs)
		if err != nil {
			var u *UnsupportedError
			if errors.As(err, &u) {
				return Skip, u.Reason
			}
			return Fail, fmt.Sprintf("%s: run: %v", filepath.Base(set), err)
		}
		if len(got) < len(want) {
			return Fail, fmt.Sprintf("%s: %d outputs, want %d", filepath.Base(set), len(got), len(want))
		}
		for i, w := range want {
			name := g.GetOutputs()[i].GetName()
			fixBFloat16(w, g.GetOutputs()[i].GetDtype())
			if err := Compare(got[i], w, tol); err != nil {
				return Fail, fmt.Sprintf("%s: output %q: %v", filepath.Base(set), name, err)
			}
		}
	}
	return Pass, ""
}

// fixBFloat16 relabels a tensor stored as uint16 where the model declares
// bfloat16: ONNX 1.12's test data saves bfloat16 values that way.
func fixBFloat16(t *potv1.Tensor, declared potv1.DataType) {
	if declared == potv1.DataType_DATA_TYPE_BFLOAT16 && t.GetDtype() == potv1.DataType_DATA_TYPE_UINT16 {
		t.Dtype = declared
	}
}

func opsOf(m *onnxpb.ModelProto) string {
	seen := map[string]bool{}
	var out []string
	for _, n := range m.GetGraph().GetNode() {
		if !seen[n.GetOpType()] {
			seen[n.GetOpType()] = true
			out = append(out, n.GetOpType())
		}
	}
	return strings.Join(out, ",")
}

func readTensors(set, prefix string, limit int) ([]*potv1.Tensor, error) {
	var out []*potv1.Tensor
	for i := 0; ; i++ {
		path := filepath.Join(set, fmt.Sprintf("%s_%d.pb", prefix, i))
		if _, err := os.Stat(path); err != nil {
			break
		}
		tp, err := onnx.ReadTensorFile(path)
		if err != nil {
			return nil, err
		}
		t, err := onnx.TensorFromProto(tp)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// Compare checks a result against a reference: same type and shape, and
// values within tolerance (NaN matches NaN, infinities match exactly).
func Compare(got, want *potv1.Tensor, tol Tolerance) error {
	if got.GetDtype() != want.GetDtype() {
		return fmt.Errorf("type %v, want %v", got.GetDtype(), want.GetDtype())
	}
	if !slices.Equal(got.GetDims(), want.GetDims()) {
		return fmt.Errorf("shape %v, want %v", got.GetDims(), want.GetDims())
	}
	if want.GetDtype() == potv1.DataType_DATA_TYPE_STRING {
		for i := range want.GetStringData() {
			if string(got.GetStringData()[i]) != string(want.GetStringData()[i]) {
				return fmt.Errorf("element %d is %q, want %q", i, got.GetStringData()[i], want.GetStringData()[i])
			}
		}
		return nil
	}
	g, err := Values(got)
	if err != nil {
		return err
	}
	w, err := Values(want)
	if err != nil {
		return err
	}
	if len(g) != len(w) {
		return fmt.Errorf("%d values, want %d", len(g), len(w))
	}
	bad, worst, worstAt := 0, 0.0, -1
	for i := range w {
		a, b := g[i], w[i]
		if math.IsNaN(b) {
			if !math.IsNaN(a) {
				bad++
				if worstAt < 0 {
					worstAt = i
				}
			}
			continue
		}
		if math.IsInf(b, 0) {
			if a != b {
				bad++
				if worstAt < 0 {
					worstAt = i
				}
			}
			continue
		}
		d := math.Abs(a - b)
		if !(d <= tol.Atol+tol.Rtol*math.Abs(b)) {
			bad++
			if d > worst || math.IsNaN(d) {
				worst, worstAt = d, i
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d values differ (element %d: got %g, want %g; rtol %g, atol %g)", bad, len(w), worstAt, g[worstAt], w[worstAt], tol.Rtol, tol.Atol)
	}
	return nil
}
