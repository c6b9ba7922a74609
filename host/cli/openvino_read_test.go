package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/proto/potv1"
	sg "github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/sdk/openvino"
)

// lenetIR writes LeNet (examples/models/lenet_mnist.onnx) as an OpenVINO
// IR v11 the way OpenVINO's model conversion writes such a network: each
// Conv a Convolution plus an Add of a [1, C, 1, 1] bias, each Gemm a
// MatMul (transpose_b) plus an Add of a [1, N] bias, Flatten a Reshape to
// [0, -1] with special_zero. Layer names are the ONNX node names and
// port names the ONNX tensor names. It returns the .xml's path.
func lenetIR(t *testing.T, dir string) string {
	t.Helper()
	g, err := onnx.ReadGraph(testenv.Example("models", "lenet_mnist.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	inits := map[string]*potv1.Tensor{}
	for _, in := range g.Initializers {
		inits[in.Name] = in
	}
	net := &openvino.Net{Name: "lenet_mnist", Version: 11}
	var bin []byte
	type out struct {
		layer, port int
		dims        []int64
	}
	tensors := map[string]out{}
	dimStr := func(d []int64) []string {
		s := make([]string, len(d))
		for i, v := range d {
			s[i] = fmt.Sprint(v)
		}
		return s
	}
	add := func(name, typ string, attrs []string, ins []string, outName string, outDims []int64) out {
		id := len(net.Layers)
		l := &openvino.Layer{ID: id, Name: name, Type: typ, Version: "opset1"}
		for _, a := range attrs {
			k, v, _ := strings.Cut(a, "=")
			l.SetAttr(k, v)
		}
		for i, in := range ins {
			src, ok := tensors[in]
			if !ok {
				t.Fatalf("no tensor %s", in)
			}
			l.Input = append(l.Input, openvino.Port{ID: i, Precision: "FP32", Dims: dimStr(src.dims)})
			net.Edges = append(net.Edges, openvino.Edge{FromLayer: src.layer, FromPort: src.port, ToLayer: id, ToPort: i})
		}
		o := out{id, len(ins), outDims}
		if typ != "Result" {
			prec := "FP32"
			if typ == "Const" && strings.HasSuffix(outName, "shape") {
				prec = "I64"
			}
			l.Output = []openvino.Port{{ID: len(ins), Precision: prec, Names: outName, Dims: dimStr(outDims)}}
			tensors[outName] = o
		}
		net.Layers = append(net.Layers, l)
		return o
	}
	konst := func(name, et string, dims []int64, data []byte) {
		add(name, "Const", []string{"element_type=" + et, "shape=" + openvino.FormatShape(dims),
			fmt.Sprintf("offset=%d", len(bin)), fmt.Sprintf("size=%d", len(data))}, nil, name, dims)
		bin = append(bin, data...)
	}
	in := g.Inputs[0]
	add(in.Name, "Parameter", []string{"element_type=f32", "shape=?,1,28,28"}, nil, in.Name, []int64{-1, 1, 28, 28})
	for _, n := range g.Nodes {
		x := tensors[n.Inputs[0]].dims
		o := n.Outputs[0]
		switch n.OpType {
		case "Conv":
			w, b := inits[n.Inputs[1]], inits[n.Inputs[2]]
			p := sg.AttrInts(n, "pads", nil)
			k := w.Dims[2]
			dims := []int64{-1, w.Dims[0], x[2] + p[0] + p[2] - k + 1, x[3] + p[1] + p[3] - k + 1}
			konst(w.Name, "f32", w.Dims, w.Data)
			add(n.Name, "Convolution", []string{"strides=1,1", "dilations=1,1", fmt.Sprintf("pads_begin=%d,%d", p[0], p[1]),
				fmt.Sprintf("pads_end=%d,%d", p[2], p[3]), "auto_pad=explicit"}, []string{n.Inputs[0], w.Name}, n.Name+"/conv", dims)
			konst(b.Name, "f32", []int64{1, b.Dims[0], 1, 1}, b.Data)
			add(n.Name+"/bias", "Add", []string{"auto_broadcast=numpy"}, []string{n.Name + "/conv", b.Name}, o, dims)
		case "Relu":
			add(n.Name, "ReLU", nil, n.Inputs, o, x)
		case "MaxPool":
			add(n.Name, "MaxPool", []string{"strides=2,2", "pads_begin=0,0", "pads_end=0,0", "kernel=2,2", "rounding_type=floor", "auto_pad=explicit"},
				n.Inputs, o, []int64{-1, x[1], x[2] / 2, x[3] / 2})
		case "Flatten":
			konst(n.Name+"/shape", "i64", []int64{2}, onnx.TensorToProto(&potv1.Tensor{Dtype: potv1.DataType_DATA_TYPE_INT64, Dims: []int64{2},
				Data: []byte{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}).RawData)
			add(n.Name, "Reshape", []string{"special_zero=true"}, []string{n.Inputs[0], n.Name + "/shape"}, o, []int64{-1, x[1] * x[2] * x[3]})
		case "Gemm":
			w, b := inits[n.Inputs[1]], inits[n.Inputs[2]]
			dims := []int64{-1, w.Dims[0]}
			konst(w.Name, "f32", w.Dims, w.Data)
			add(n.Name, "MatMul", []string{"transpose_a=false", "transpose_b=true"}, []string{n.Inputs[0], w.Name}, n.Name+"/matmul", dims)
			konst(b.Name, "f32", []int64{1, b.Dims[0]}, b.Data)
			add(n.Name+"/bias", "Add", []string{"auto_broadcast=numpy"}, []string{n.Name + "/matmul", b.Name}, o, dims)
		default:
			t.Fatalf("lenetIR: no IR for %s", n.OpType)
		}
	}
	add(g.Outputs[0].Name+"/sink_port_0", "Result", nil, []string{g.Outputs[0].Name}, "", nil)
	xb, err := net.Encode()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "lenet.xml")
	if err := os.WriteFile(p, xb, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"weights.bin", "lenet.bin"} {
		if err := os.WriteFile(filepath.Join(dir, name), bin, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// TestReadLeNetIR checks that the IR of LeNet reads as the ONNX LeNet's
// graph: the same nodes, inputs, outputs and initializers, but for the
// Flatten the IR writes as a Reshape.
func TestReadLeNetIR(t *testing.T) {
	dir := t.TempDir()
	xmlPath := lenetIR(t, dir)
	_, ir, err := ReadIR(xmlPath, filepath.Join(dir, "weights.bin"))
	if err != nil {
		t.Fatal(err)
	}
	_, ref, err := loadModel(testenv.Example("models", "lenet_mnist.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ir.Nodes) != len(ref.Nodes) {
		t.Fatalf("%d nodes, want %d", len(ir.Nodes), len(ref.Nodes))
	}
	for i, n := range ir.Nodes {
		r := ref.Nodes[i]
		op := r.OpType
		if op == "Flatten" {
			op = "Reshape"
		}
		if n.Name != r.Name || n.OpType != op || n.Outputs[0] != r.Outputs[0] || n.Inputs[0] != r.Inputs[0] {
			t.Errorf("node %d: %s %s %v -> %v, want %s %s %v -> %v", i, n.Name, n.OpType, n.Inputs, n.Outputs, r.Name, op, r.Inputs, r.Outputs)
		}
	}
	ri := map[string]*potv1.Tensor{}
	for _, in := range ref.Initializers {
		ri[in.Name] = in
	}
	for _, in := range ir.Initializers {
		if r, ok := ri[in.Name]; ok && (string(r.Data) != string(in.Data) || fmt.Sprint(r.Dims) != fmt.Sprint(in.Dims)) {
			t.Errorf("initializer %s: dims %v, want %v (or data differs)", in.Name, in.Dims, r.Dims)
		}
	}
	if fmt.Sprint(ir.Inputs) != fmt.Sprint(ref.Inputs) || fmt.Sprint(ir.Outputs) != fmt.Sprint(ref.Outputs) {
		t.Errorf("inputs %v outputs %v, want %v %v", ir.Inputs, ir.Outputs, ref.Inputs, ref.Outputs)
	}
}

// TestQuantizeLeNetIR quantizes LeNet from its IR (model.weights names
// the .bin) and from ONNX: the top-1 of both on the MNIST test set are
// equal.
func TestQuantizeLeNetIR(t *testing.T) {
	if testing.Short() {
		t.Skip("quantizes and evaluates LeNet twice on the MNIST test set")
	}
	dir := t.TempDir()
	xmlPath := lenetIR(t, dir)
	cfg := filepath.Join(dir, "pot.json")
	cfgText := fmt.Sprintf(`{"model": {"model_name": "lenet", "model": %q, "weights": %q},
		"engine": {"data_source": %q},
		"compression": {"target_device": "CPU", "algorithms": [{"name": "DefaultQuantization", "params": {"preset": "performance", "stat_subset_size": 300}}]}}`,
		xmlPath, filepath.Join(dir, "weights.bin"), testenv.Example("data", "mnist-calib.json"))
	if err := os.WriteFile(cfg, []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	quantize := func(args ...string) string {
		t.Helper()
		out := filepath.Join(t.TempDir(), "q.onnx")
		_, stderr, code := pot(t, append(append([]string{"quantize"}, args...), "-o", out, "--json")...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		return out
	}
	eval := func(model string) float64 {
		t.Helper()
		stdout, stderr, code := pot(t, "eval", "--model", model, "--data", testenv.Example("data", "mnist-test.json"), "--json")
		if code != 0 {
			t.Fatalf("eval %s: exit %d: %s", model, code, stderr)
		}
		var ev evalResult
		if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Samples != 10000 {
			t.Fatalf("eval %s: %+v", model, ev)
		}
		return ev.Value
	}
	fromIR := quantize("--config", cfg)
	// The same configuration, with the ONNX model.
	onnxCfg := filepath.Join(dir, "pot_onnx.json")
	cfgText = strings.Replace(cfgText, fmt.Sprintf("%q, \"weights\": %q", xmlPath, filepath.Join(dir, "weights.bin")),
		fmt.Sprintf("%q", testenv.Example("models", "lenet_mnist.onnx")), 1)
	if err := os.WriteFile(onnxCfg, []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	fromONNX := quantize("--config", onnxCfg)
	// pot eval reads the IR too (the .bin beside the .xml).
	fi, fo := eval(xmlPath), eval(testenv.Example("models", "lenet_mnist.onnx"))
	qi, qo := eval(fromIR), eval(fromONNX)
	t.Logf("float top-1: IR %.4f, ONNX %.4f; int8: IR %.4f, ONNX %.4f", fi, fo, qi, qo)
	if fi != fo || qi != qo {
		t.Errorf("top-1 float IR %.4f ONNX %.4f, int8 IR %.4f ONNX %.4f: want equal", fi, fo, qi, qo)
	}
}
