package cli

import (
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/sdk/onnx"
)

// subsetIDX writes the first n images and labels of a data set's IDX
// files (gzip) as plain IDX files in dir and returns a descriptor of
// them with the data set's normalization.
func subsetIDX(t *testing.T, dir, dataset string, n int) string {
	t.Helper()
	var desc struct {
		Mean []float64 `json:"mean"`
		Std  []float64 `json:"std"`
	}
	b, err := os.ReadFile(testenv.Example("data", dataset+"-test.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &desc); err != nil {
		t.Fatal(err)
	}
	cut := func(src, dst string, header, perItem int) {
		f, err := os.Open(testenv.Example("data", dataset, src))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		z, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, header+n*perItem)
		if _, err := io.ReadFull(z, buf); err != nil {
			t.Fatal(err)
		}
		binary.BigEndian.PutUint32(buf[4:], uint32(n)) // the item count
		if err := os.WriteFile(filepath.Join(dir, dst), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cut("t10k-images-idx3-ubyte.gz", "images", 16, 28*28)
	cut("t10k-labels-idx1-ubyte.gz", "labels", 8, 1)
	out, _ := json.Marshal(map[string]any{"format": "idx", "images": "images", "labels": "labels", "mean": desc.Mean, "std": desc.Std})
	path := filepath.Join(dir, dataset+"-test-"+filepath.Base(dir)+".json")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestQuantizeOldOpsetTwins quantizes models exported by PyTorch at
// opsets 9 and 11 (testdata/opsets, made by export_opsets.py from the
// weights of examples/models) with the default flags, next to their
// opset-13 twins. pot upgrades them to opset 13 on import and logs it.
//
// The example models' graphs are the same at the three opsets, so their
// runs must agree exactly: the same float and quantized top-1 on the
// first 2000 test images, and the same QDQ graph, at opset 13.
// lenet_mnist_ops goes through Upsample, Pad, Slice, Squeeze, Unsqueeze,
// Clip and Softmax, whose definitions changed: its upgraded graphs differ
// from the opset-13 export (Upsample becomes Resize, attributes become
// initializers), and the top-1 must still be the same, since each
// adapter keeps the operator's function exactly.
func TestQuantizeOldOpsetTwins(t *testing.T) {
	if testing.Short() {
		t.Skip("quantizes and evaluates twelve models")
	}
	data := map[string]string{}
	for _, ds := range []string{"mnist", "fmnist"} {
		data[ds] = subsetIDX(t, t.TempDir(), ds, 2000)
	}
	twin := func(name string, v int) string {
		p, err := filepath.Abs(filepath.Join("testdata", "opsets", name+".opset"+strconv.Itoa(v)+".onnx"))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		model, dataset, ref string
		sameGraph           bool
		// converted is the log line's count of converted nodes at opset 9.
		converted string
	}{
		{"lenet_mnist", "mnist", testenv.Example("models", "lenet_mnist.onnx"), true, "0 of 10"},
		{"resnet_fmnist", "fmnist", testenv.Example("models", "resnet_fmnist.onnx"), true, "0 of 37"},
		{"mobilenet_fmnist", "fmnist", testenv.Example("models", "mobilenet_fmnist.onnx"), true, "0 of 54"},
		{"lenet_mnist_ops", "mnist", twin("lenet_mnist_ops", 13), false, "7 of 20"},
	} {
		t.Run(tc.model, func(t *testing.T) {
			dir := t.TempDir()
			quantize := func(model string, opset int) (*quantizeResult, string) {
				out := filepath.Join(dir, filepath.Base(model)+".int8.onnx")
				stdout, stderr, code := potBin(t, dir, "quantize", "--log-level", "info", "--model", model,
					"--data", testenv.Example("data", tc.dataset+"-calib.json"), "--eval-data", data[tc.dataset], "-o", out, "--json")
				if code != 0 {
					t.Fatalf("opset %d: exit %d: %s", opset, code, stderr)
				}
				var res quantizeResult
				mustJSON(t, stdout, &res)
				if res.Metric == nil || res.Metric.Samples != 2000 {
					t.Fatalf("opset %d: metric %+v", opset, res.Metric)
				}
				want := "upgraded ONNX opset " + strconv.Itoa(opset) + " to 13: "
				if opset == 9 {
					want += tc.converted + " nodes converted"
				}
				if got := strings.Contains(stderr, "upgraded ONNX opset"); opset < 13 && !strings.Contains(stderr, want) || opset == 13 && got {
					t.Errorf("opset %d: want a log line with %q, got:\n%s", opset, want, stderr)
				}
				return &res, out
			}
			ref, refOut := quantize(tc.ref, 13)
			refModel := readQDQ(t, refOut)
			for _, v := range []int{9, 11} {
				res, out := quantize(twin(tc.model, v), v)
				t.Logf("opset %d: float %.4f, int8 %.4f; opset 13: float %.4f, int8 %.4f", v, res.Metric.Float, res.Metric.Quantized, ref.Metric.Float, ref.Metric.Quantized)
				if res.Metric.Float != ref.Metric.Float || res.Metric.Quantized != ref.Metric.Quantized || res.Quantizers != ref.Quantizers {
					t.Errorf("opset %d: top-1 float %.4f, int8 %.4f, %d quantizers; the opset-13 twin: %.4f, %.4f, %d", v,
						res.Metric.Float, res.Metric.Quantized, res.Quantizers, ref.Metric.Float, ref.Metric.Quantized, ref.Quantizers)
				}
				m := readQDQ(t, out)
				if ov, _ := onnx.DefaultOpset(m); ov != 13 || m.GetIrVersion() < 7 {
					t.Errorf("opset %d: the QDQ model has opset %d, IR version %d", v, ov, m.GetIrVersion())
				}
				if tc.sameGraph {
					sameQDQGraph(t, v, m, refModel)
				}
			}
		})
	}
}

// sameQDQGraph checks that two QDQ models have the same nodes (operator,
// inputs, outputs) and initializers.
func sameQDQGraph(t *testing.T, v int, m, ref *onnxpb.ModelProto) {
	t.Helper()
	g, rg := m.GetGraph(), ref.GetGraph()
	if len(g.GetNode()) != len(rg.GetNode()) || len(g.GetInitializer()) != len(rg.GetInitializer()) {
		t.Fatalf("opset %d: QDQ graph of %d nodes and %d initializers; the opset-13 twin's: %d and %d", v,
			len(g.GetNode()), len(g.GetInitializer()), len(rg.GetNode()), len(rg.GetInitializer()))
	}
	for i, n := range g.GetNode() {
		r := rg.GetNode()[i]
		if n.GetOpType() != r.GetOpType() || !slices.Equal(n.GetInput(), r.GetInput()) || !slices.Equal(n.GetOutput(), r.GetOutput()) {
			t.Fatalf("opset %d: node %d is %s %v → %v; the opset-13 twin's: %s %v → %v", v, i, n.GetOpType(), n.GetInput(), n.GetOutput(), r.GetOpType(), r.GetInput(), r.GetOutput())
		}
	}
	for i, init := range g.GetInitializer() {
		if !proto.Equal(init, rg.GetInitializer()[i]) {
			t.Fatalf("opset %d: initializer %q differs from the opset-13 twin's", v, init.GetName())
		}
	}
}

func readQDQ(t *testing.T, path string) *onnxpb.ModelProto {
	t.Helper()
	m, err := onnx.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestUpgradeCommand: pot upgrade writes the upgraded model and lists
// the converted nodes; eval and bench run an old-opset model.
func TestUpgradeCommand(t *testing.T) {
	old, err := filepath.Abs(filepath.Join("testdata", "opsets", "lenet_mnist_ops.opset9.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "up.onnx")
	stdout, stderr, code := pot(t, "upgrade", old, "-o", out, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res upgradeResult
	mustJSON(t, stdout, &res)
	if res.From != 9 || res.To != 13 || res.Nodes != 20 || len(res.Changes) != 7 || res.Output != out {
		t.Errorf("result %+v", res)
	}
	m, err := onnx.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]int{}
	for _, n := range m.GetGraph().GetNode() {
		ops[n.GetOpType()]++
	}
	if v, _ := onnx.DefaultOpset(m); v != 13 || m.GetIrVersion() != 7 || ops["Upsample"] != 0 || ops["Resize"] != 1 {
		t.Errorf("opset %d, IR %d, operators %v", v, m.GetIrVersion(), ops)
	}
	// The text output names each converted node.
	stdout, _, code = pot(t, "upgrade", old, "-o", filepath.Join(dir, "up2.onnx"), "--opset", "11")
	if code != 0 || !strings.Contains(stdout, "upgraded ONNX opset 9 to 11: 5 of 20 nodes converted") || !strings.Contains(stdout, "/Upsample (Upsample): replaced by Resize") {
		t.Errorf("exit %d, stdout:\n%s", code, stdout)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"upgrade", old, "-o", filepath.Join(dir, "x.onnx"), "--opset", "14"}, "--opset 14: pot upgrades to opsets 7 to 13"},
		{[]string{"upgrade", old}, "no output given (-o)"},
		{[]string{"upgrade", out, "-o", filepath.Join(dir, "x.onnx"), "--opset", "11"}, "has opset 13, newer than 11"},
	} {
		_, stderr, code := pot(t, tc.args...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", tc.args, code, stderr, tc.want)
		}
		if _, err := os.Stat(filepath.Join(dir, "x.onnx")); err == nil {
			t.Errorf("%v wrote a file", tc.args)
		}
	}

	// eval and bench take the old model.
	data := subsetIDX(t, t.TempDir(), "mnist", 500)
	stdout, stderr, code = pot(t, "eval", "--model", old, "--data", data, "--json")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	var ev evalResult
	mustJSON(t, stdout, &ev)
	stdout, stderr, code = pot(t, "eval", "--model", testenv.Example("models", "lenet_mnist.onnx"), "--data", data, "--json")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	var ref evalResult
	mustJSON(t, stdout, &ref)
	if ev.Samples != 500 || ev.Value != ref.Value {
		t.Errorf("eval of the opset-9 model: %+v; of lenet_mnist.onnx: %+v", ev, ref)
	}
	stdout, stderr, code = pot(t, "bench", "--model", old, "--batch", "8", "--samples", "16", "--rounds", "1", "--json")
	if code != 0 {
		t.Fatalf("bench: exit %d: %s", code, stderr)
	}
	var b benchResult
	mustJSON(t, stdout, &b)
	if b.Samples != 16 || b.MsPerSample <= 0 {
		t.Errorf("bench %+v", b)
	}
}
