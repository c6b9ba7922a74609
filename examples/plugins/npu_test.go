package plugins_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/onnx"
)

// The vendor target example, built in its own module against the target
// SDK alone and found through $POT_PLUGIN_PATH: pot quantizes LeNet for
// it (symmetric int8: every zero point 0), refuses a model with an
// operator outside its op set naming the node, and its quantizers round
// ties away from zero where the cpu target rounds them to even.
func TestNPUTarget(t *testing.T) {
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "pot-target-npu"), ".")
	build.Dir = testenv.Example("plugins", "npu")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the example module: %v\n%s", err, out)
	}
	// pot runs with the npu folder in $POT_PLUGIN_PATH, and the cpu
	// target and the algorithms beside it.
	pot := func(args ...string) (string, string, error) {
		cmd := exec.Command(filepath.Join(bin, "pot"), args...)
		cmd.Env = append(os.Environ(), "POT_PLUGIN_PATH="+dir, "POT_PLUGIN_LOCK=", "XDG_DATA_HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir())
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	lenet := testenv.Example("models", "lenet_mnist.onnx")
	calib := testenv.Example("data", "mnist-calib.json")

	t.Run("quantize", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "lenet_npu.onnx")
		stdout, stderr, err := pot("quantize", "--target", "npu", "--model", lenet, "--data", calib, "--eval-data", calib,
			"--subset", "300", "-o", out, "--json")
		if err != nil {
			t.Fatalf("pot quantize --target npu: %v\n%s", err, stderr)
		}
		var r struct {
			Target     string `json:"target"`
			Preset     string `json:"preset"`
			Quantizers int    `json:"quantizers"`
			Metric     struct {
				Quantized, Drop float64
			} `json:"metric"`
		}
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("%v: %s", err, stdout)
		}
		t.Logf("%d quantizers, top-1 %.4f (drop %.4f)", r.Quantizers, r.Metric.Quantized, r.Metric.Drop)
		if r.Target != "npu" || r.Preset != "performance" || r.Quantizers == 0 || r.Metric.Drop > 0.01 {
			t.Errorf("result %s", stdout)
		}
		// Symmetric int8 only: every quantizer of the QDQ model has zero
		// point 0.
		g, err := onnx.ReadGraph(out)
		if err != nil {
			t.Fatal(err)
		}
		inits := map[string]*potv1.Tensor{}
		for _, in := range g.GetInitializers() {
			inits[in.GetName()] = in
		}
		n := 0
		for _, node := range g.GetNodes() {
			if node.GetOpType() != "QuantizeLinear" && node.GetOpType() != "DequantizeLinear" {
				continue
			}
			n++
			if len(node.GetInputs()) < 3 {
				continue // no zero point: 0
			}
			zp := inits[node.GetInputs()[2]]
			if zp == nil || bytes.Count(zp.GetData(), []byte{0}) != len(zp.GetData()) {
				t.Errorf("%s (%s): zero point %v, want 0", node.GetName(), node.GetOpType(), zp)
			}
		}
		if n == 0 {
			t.Error("no QuantizeLinear or DequantizeLinear node in the output")
		}
	})

	t.Run("refuses operators outside its set", func(t *testing.T) {
		g := readGraph(t, lenet)
		for _, n := range g.GetNodes() {
			if n.GetName() == "/Relu_1" {
				n.OpType = "Sigmoid"
			}
		}
		model := writeModel(t, g)
		_, stderr, err := pot("quantize", "--target", "npu", "--model", model, "--data", calib, "--subset", "50",
			"-o", filepath.Join(t.TempDir(), "out.onnx"))
		if err == nil {
			t.Fatal("pot quantize succeeded")
		}
		if !strings.Contains(stderr, "/Relu_1 (Sigmoid): operator Sigmoid is not in the op set of target npu") {
			t.Errorf("the refusal does not name the node:\n%s", stderr)
		}
	})

	t.Run("writes weights rounded as it rounds", func(t *testing.T) {
		// LeNet with the first convolution's weights on a grid of step
		// s = 2^-9 shifted by half a step, each channel's first weight
		// 127·s: the NPU's per-channel scale is max|w|/127 = s, and every
		// other weight is a tie, rounded away from zero by the NPU (as
		// it computed with them) where rounding to even gives other
		// levels for half of them.
		const s = 1.0 / 512
		g := readGraph(t, lenet)
		var conv *potv1.Node
		for _, n := range g.GetNodes() {
			if n.GetOpType() == "Conv" {
				conv = n
				break
			}
		}
		var w *potv1.Tensor
		for _, in := range g.GetInitializers() {
			if in.GetName() == conv.GetInputs()[1] {
				w = in
			}
		}
		vals := float32s(t, w)
		per := len(vals) / int(w.GetDims()[0])
		for i, v := range vals {
			if i%per == 0 {
				vals[i] = 127 * s
			} else {
				vals[i] = float32((math.Max(-127, math.Min(126, math.Floor(float64(v)/s))) + 0.5) * s)
			}
			binary.LittleEndian.PutUint32(w.Data[4*i:], math.Float32bits(vals[i]))
		}
		g.Name = "lenet_ties"
		model := writeModel(t, g)
		out := filepath.Join(t.TempDir(), "lenet_ties_npu.onnx")
		if _, stderr, err := pot("quantize", "--target", "npu", "--model", model, "--data", calib, "--subset", "50", "-o", out); err != nil {
			t.Fatalf("pot quantize --target npu: %v\n%s", err, stderr)
		}
		q := readGraph(t, out)
		inits := map[string]*potv1.Tensor{}
		producer := map[string]*potv1.Node{}
		for _, in := range q.GetInitializers() {
			inits[in.GetName()] = in
		}
		for _, n := range q.GetNodes() {
			for _, o := range n.GetOutputs() {
				producer[o] = n
			}
		}
		var dq *potv1.Node
		for _, n := range q.GetNodes() {
			if n.GetName() == conv.GetName() {
				dq = producer[n.GetInputs()[1]]
			}
		}
		if dq == nil || dq.GetOpType() != "DequantizeLinear" {
			t.Fatalf("the weights of %s are not dequantized: %v", conv.GetName(), dq)
		}
		levels, scales := inits[dq.GetInputs()[0]], float32s(t, inits[dq.GetInputs()[1]])
		if levels.GetDtype() != potv1.DataType_DATA_TYPE_INT8 || len(levels.GetData()) != len(vals) {
			t.Fatalf("weights %v", levels)
		}
		ties, even := 0, 0
		for i, v := range vals {
			x := float64(v / scales[i/per])
			got := int8(levels.GetData()[i])
			if want := int8(math.Max(-127, math.Min(127, math.Round(x)))); got != want {
				t.Errorf("weight %d: %g / %g rounds to %d, the NPU to %d", i, v, scales[i/per], got, want)
			}
			if math.Abs(x-math.Trunc(x)) == 0.5 {
				ties++
				if math.RoundToEven(x) != math.Round(x) {
					even++
				}
			}
		}
		if ties < len(vals)/2 || even == 0 {
			t.Errorf("%d ties among %d weights (%d where rounding to even differs): the grid is not the NPU's", ties, len(vals), even)
		}
		t.Logf("%d weights, %d ties, %d of them not rounded to even", len(vals), ties, even)
	})

	t.Run("rounds ties away from zero", func(t *testing.T) {
		// logits = DequantizeLinear(QuantizeLinear(x, scale 1)) + [0, 0.5]
		// on rows [t, t - 0.5] whose first value t is a tie (0.5, 2.5,
		// 4.5): rounded to even, both values land on one level and class
		// 1 wins by the 0.5; rounded away from zero, the first value is a
		// level higher and class 0 wins. The labels say class 0.
		model, data := tiesModel(t, [][2]float32{{0.5, 0}, {2.5, 2}, {4.5, 4}})
		for tgt, want := range map[string]float64{"npu": 1, "cpu": 0} {
			stdout, stderr, err := pot("eval", "--target", tgt, "--model", model, "--data", data, "--json")
			if err != nil {
				t.Fatalf("pot eval --target %s: %v\n%s", tgt, err, stderr)
			}
			var r struct {
				Metric string  `json:"metric"`
				Value  float64 `json:"value"`
			}
			if err := json.Unmarshal([]byte(stdout), &r); err != nil {
				t.Fatalf("%v: %s", err, stdout)
			}
			if r.Metric != "top1" || r.Value != want {
				t.Errorf("target %s: %s %g, want top1 %g", tgt, r.Metric, r.Value, want)
			}
		}
	})
}

func readGraph(t *testing.T, path string) *potv1.Graph {
	t.Helper()
	g, err := onnx.ReadGraph(path)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// float32s returns a float32 tensor's values.
func float32s(t *testing.T, p *potv1.Tensor) []float32 {
	t.Helper()
	if p.GetDtype() != potv1.DataType_DATA_TYPE_FLOAT || len(p.GetData())%4 != 0 {
		t.Fatalf("%s is not float32: %v, %d bytes", p.GetName(), p.GetDtype(), len(p.GetData()))
	}
	v := make([]float32, len(p.GetData())/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(p.GetData()[4*i:]))
	}
	return v
}

// writeModel writes g as an ONNX file in a temporary folder.
func writeModel(t *testing.T, g *potv1.Graph) string {
	t.Helper()
	m, err := onnx.FromGraph(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), g.GetName()+".onnx")
	if err := onnx.WriteFile(path, m, onnx.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return path
}

// tiesModel writes the QDQ model of the rounding check and a labelled
// data set of rows (label 0), and returns their paths.
func tiesModel(t *testing.T, rows [][2]float32) (model, data string) {
	t.Helper()
	f32 := func(name string, dims []int64, v ...float32) *potv1.Tensor {
		b := make([]byte, 0, 4*len(v))
		for _, x := range v {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
		return &potv1.Tensor{Name: name, Dtype: potv1.DataType_DATA_TYPE_FLOAT, Dims: dims, Data: b}
	}
	shape := []*potv1.Dim{{Value: &potv1.Dim_Param{Param: "N"}}, {Value: &potv1.Dim_Size{Size: 2}}}
	g := &potv1.Graph{Name: "ties", IrVersion: 8, Opsets: []*potv1.OpsetImport{{Version: 13}},
		Inputs:  []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT, Shape: shape, HasShape: true}},
		Outputs: []*potv1.ValueInfo{{Name: "logits", Dtype: potv1.DataType_DATA_TYPE_FLOAT, Shape: shape, HasShape: true}},
		Initializers: []*potv1.Tensor{f32("scale", nil, 1), f32("bias", []int64{2}, 0, 0.5),
			{Name: "zero", Dtype: potv1.DataType_DATA_TYPE_INT8, Data: []byte{0}}},
		Nodes: []*potv1.Node{
			{Name: "q", OpType: "QuantizeLinear", Inputs: []string{"x", "scale", "zero"}, Outputs: []string{"xq"}},
			{Name: "dq", OpType: "DequantizeLinear", Inputs: []string{"xq", "scale", "zero"}, Outputs: []string{"xd"}},
			{Name: "add", OpType: "Add", Inputs: []string{"xd", "bias"}, Outputs: []string{"logits"}},
		}}
	model = writeModel(t, g)
	dir := filepath.Dir(model)
	var x []byte
	for _, r := range rows {
		for _, v := range r {
			x = binary.LittleEndian.AppendUint32(x, math.Float32bits(v))
		}
	}
	writeNPY(t, filepath.Join(dir, "x.npy"), "<f4", []int{len(rows), 2}, x)
	writeNPY(t, filepath.Join(dir, "y.npy"), "<i8", []int{len(rows)}, make([]byte, 8*len(rows)))
	data = filepath.Join(dir, "ties.json")
	if err := os.WriteFile(data, []byte(`{"format": "npy", "inputs": "x.npy", "labels": "y.npy"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return model, data
}

// writeNPY writes an .npy file of little-endian values.
func writeNPY(t *testing.T, path, descr string, shape []int, data []byte) {
	t.Helper()
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	if len(dims) == 1 {
		dims[0] += ","
	}
	header := "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + strings.Join(dims, ", ") + "), }"
	header += strings.Repeat(" ", (64-(10+len(header)+1)%64)%64) + "\n"
	b := []byte("\x93NUMPY\x01\x00")
	b = binary.LittleEndian.AppendUint16(b, uint16(len(header)))
	b = append(append(b, header...), data...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
