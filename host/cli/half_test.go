package cli

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/targets/interp/tensor"
)

// writeHalfModel writes the float16 export of a float32 model the way
// ONNX Runtime's float16 converter writes it with keep_io_types (and as
// the ISNet background removers on npm ship): weights rounded to float16,
// a Cast to float16 after each input and a Cast back to float32 before
// each output, everything between computed in float16.
func writeHalfModel(t *testing.T, src, dst string) {
	t.Helper()
	g := mustGraph(t, src)
	for _, w := range g.GetInitializers() {
		v, err := graph.Float32s(w)
		if err != nil {
			t.Fatal(err)
		}
		w.Dtype, w.Data = potv1.DataType_DATA_TYPE_FLOAT16, nil
		for _, f := range v {
			w.Data = binary.LittleEndian.AppendUint16(w.Data, uint16(tensor.ToFloat16(f)))
		}
	}
	rename := map[string]string{}
	var casts []*potv1.Node
	for _, in := range g.GetInputs() {
		rename[in.GetName()] = in.GetName() + "_half"
		casts = append(casts, &potv1.Node{Name: in.GetName() + "_cast", OpType: "Cast", Inputs: []string{in.GetName()},
			Outputs: []string{in.GetName() + "_half"}, Attributes: []*potv1.Attribute{graph.IntAttr("to", int64(potv1.DataType_DATA_TYPE_FLOAT16))}})
	}
	for _, n := range g.GetNodes() {
		for i, in := range n.GetInputs() {
			if r, ok := rename[in]; ok {
				n.Inputs[i] = r
			}
		}
	}
	var back []*potv1.Node
	for _, out := range g.GetOutputs() {
		for _, n := range g.GetNodes() {
			for i, o := range n.GetOutputs() {
				if o == out.GetName() {
					n.Outputs[i] = o + "_half"
				}
			}
		}
		back = append(back, &potv1.Node{Name: out.GetName() + "_cast", OpType: "Cast", Inputs: []string{out.GetName() + "_half"},
			Outputs: []string{out.GetName()}, Attributes: []*potv1.Attribute{graph.IntAttr("to", int64(potv1.DataType_DATA_TYPE_FLOAT))}})
	}
	g.Nodes = append(append(casts, g.Nodes...), back...)
	g.ValueInfo = nil
	hm, err := onnx.FromGraph(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := onnx.WriteFile(dst, hm, onnx.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestQuantizeHalfModel quantizes a model exported in float16 (LeNet's,
// as ONNX Runtime's converter writes it): pot quantizes its float32 twin
// and writes an int8 QDQ model with no 16-bit floats left, as accurate as
// the float16 model, which pot evaluates as it is.
func TestQuantizeHalfModel(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "lenet_fp16.onnx")
	writeHalfModel(t, testenv.Example("models", "lenet_mnist.onnx"), model)
	data := testenv.Example("data", "mnist-calib.json")

	stdout, stderr, code := pot(t, "eval", "--model", model, "--data", data, "--target", "cpu", "--json")
	if code != 0 {
		t.Fatalf("eval of the float16 model: exit %d: %s", code, stderr)
	}
	var ev struct {
		Value float64 `json:"value"`
	}
	if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if ev.Value < 0.97 {
		t.Fatalf("float16 LeNet top-1 %.4f, want >= 0.97: %s", ev.Value, stdout)
	}

	out := filepath.Join(dir, "lenet_int8.onnx")
	res := quantizeJSON(t, "--model", model, "--data", data, "--eval-data", data, "--target", "cpu", "--subset", "300", "-o", out)
	if res.Quantizers == 0 || res.Metric == nil {
		t.Fatalf("result = %+v", res)
	}
	if m := res.Metric; math.Abs(m.Float-ev.Value) > 0.003 || m.Drop > 0.01 {
		t.Errorf("float twin top-1 %.4f (float16 model %.4f), drop %.4f: want within 0.003 and <= 0.01", m.Float, ev.Value, m.Drop)
	}
	g := mustGraph(t, out)
	for _, w := range g.GetInitializers() {
		if w.GetDtype() == potv1.DataType_DATA_TYPE_FLOAT16 {
			t.Errorf("initializer %s is still float16", w.GetName())
		}
	}
	q := 0
	for _, n := range g.GetNodes() {
		switch n.GetOpType() {
		case "QuantizeLinear":
			q++
		case "Cast":
			if to := graph.Attr(n, "to").GetI(); to != int64(potv1.DataType_DATA_TYPE_FLOAT) {
				t.Errorf("%s casts to type %d", n.GetName(), to)
			}
		}
	}
	if q == 0 {
		t.Error("no QuantizeLinear in the output")
	}
}

// TestQuantizeRefusesQuantizedModel: a QDQ model given back to quantize
// (or analyze) is refused before any work, with what makes it quantized,
// rather than quantized a second time.
func TestQuantizeRefusesQuantizedModel(t *testing.T) {
	dir := t.TempDir()
	data := testenv.Example("data", "mnist-calib.json")
	q := filepath.Join(dir, "lenet_int8.onnx")
	if _, stderr, code := pot(t, "quantize", "--model", testenv.Example("models", "lenet_mnist.onnx"), "--data", data, "--subset", "64", "-o", q); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, cmd := range []string{"quantize", "analyze"} {
		out := filepath.Join(dir, cmd+"_again.onnx")
		args := []string{cmd, "--model", q, "--data", data}
		if cmd == "quantize" {
			args = append(args, "-o", out)
		}
		_, stderr, code := pot(t, args...)
		if code == 0 || !strings.Contains(stderr, "is already quantized (") || !strings.Contains(stderr, "DequantizeLinear") {
			t.Errorf("%s of a QDQ model: exit %d: %s", cmd, code, stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s wrote %s", cmd, out)
		}
	}
}

// TestAnalyzeUnsortedModel: a model whose nodes are not in topological
// order (ONNX Runtime's float16 converter appends its Casts at the end)
// is sorted on import, so analyze measures every layer, not only those
// that happen to come after their inputs.
func TestAnalyzeUnsortedModel(t *testing.T) {
	g := mustGraph(t, testenv.Example("models", "lenet_mnist.onnx"))
	slices.Reverse(g.Nodes)
	m, err := onnx.FromGraph(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(t.TempDir(), "lenet_reversed.onnx")
	if err := onnx.WriteFile(model, m, onnx.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := pot(t, "analyze", "--model", model, "--data", testenv.Example("data", "mnist-calib.json"), "--samples", "4", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res struct {
		Layers []struct {
			Node string `json:"node"`
		} `json:"layers"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if len(res.Layers) != len(g.GetNodes()) {
		t.Errorf("%d layers measured of %d: %s", len(res.Layers), len(g.GetNodes()), stdout)
	}
}
