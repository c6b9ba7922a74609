package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/potgo/pot/internal/testenv"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/sdk/onnx"
)

// unsupportedModel writes a model of input [N 4] with two operators no
// target implements.
func unsupportedModel(t *testing.T, path string) {
	t.Helper()
	dim := func(v int64) *onnxpb.TensorShapeProto_Dimension {
		return &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: v}}
	}
	vi := func(name string) *onnxpb.ValueInfoProto {
		return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
			TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(1), Shape: &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{dim(1), dim(4)}}}}}}
	}
	m := &onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(13)}, {Domain: proto.String("com.acme"), Version: proto.Int64(1)}},
		Graph: &onnxpb.GraphProto{
			Name: proto.String("acme"),
			Node: []*onnxpb.NodeProto{
				{Name: proto.String("frobnicate_1"), OpType: proto.String("Frobnicate"), Domain: proto.String("com.acme"), Input: []string{"x"}, Output: []string{"y"}},
				{Name: proto.String("relu"), OpType: proto.String("Relu"), Input: []string{"y"}, Output: []string{"r"}},
				{Name: proto.String("twiddle_2"), OpType: proto.String("Twiddle"), Domain: proto.String("com.acme"), Input: []string{"r"}, Output: []string{"z"}},
			},
			Input:  []*onnxpb.ValueInfoProto{vi("x")},
			Output: []*onnxpb.ValueInfoProto{vi("z")},
		},
	}
	if err := onnx.WriteFile(path, m, onnx.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestErrors runs every failure the issue lists through the real binary:
// one line on stderr, a non-zero exit status, no output file.
func TestErrors(t *testing.T) {
	in := t.TempDir() // inputs of the cases
	lenet := testenv.Example("models", "lenet_mnist.onnx")
	calib := testenv.Example("data", "mnist-calib.json")
	write := func(name, content string) string {
		p := filepath.Join(in, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	text := write("text.onnx", "hello, I am not a model\n")
	whole, err := os.ReadFile(lenet)
	if err != nil {
		t.Fatal(err)
	}
	truncated := write("truncated.onnx", string(whole[:len(whole)/2]))
	acme := filepath.Join(in, "acme.onnx")
	unsupportedModel(t, acme)
	acmeData := filepath.Join(in, "acme.npy")
	writeNPY(t, acmeData, []int{3, 4})
	wrongShape := filepath.Join(in, "wrong.npy")
	writeNPY(t, wrongShape, []int{3, 5, 5})
	empty := filepath.Join(in, "empty")
	os.Mkdir(empty, 0o755)
	mnist := testenv.Example("data", "mnist")
	mismatch := write("mismatch.json", `{"format": "idx",
		"images": "`+filepath.Join(mnist, "calib-1000-images-idx3-ubyte.gz")+`",
		"labels": "`+filepath.Join(mnist, "t10k-labels-idx1-ubyte.gz")+`"}`)
	config := func(name, params, engine string) string {
		return write(name, `// a POT configuration
{
  "model": {"model": "`+lenet+`"},
  "engine": {`+engine+`},
  "compression": {"target_device": "CPU",
    "algorithms": [{"name": "DefaultQuantization", "params": {`+params+`}}]}
}`)
	}
	data := `"type": "simplified", "data_source": "` + calib + `"`
	unknownKey := config("unknown.json", `"presett": "performance"`, data)
	unknownSection := config("unknown-engine.json", `"preset": "performance"`, `"type": "simplified", "data_sorce": "`+calib+`"`)
	wrongType := config("type.json", `"stat_subset_size": "300"`, data)
	notDir := write("file.txt", "x")
	vad := oww("silero_vad.onnx")
	vadChunks := filepath.Join(in, "chunks.npy")
	writeNPY(t, vadChunks, []int{3, 512})
	shortAudio := filepath.Join(in, "short.npy")
	writeNPY(t, shortAudio, []int{3, 100})

	base := func(model, data string) []string {
		return []string{"quantize", "--model", model, "--data", data, "--subset", "50"}
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"missing model", base(filepath.Join(in, "none.onnx"), calib), []string{"none.onnx", "no such file"}},
		{"unreadable model", base(in, calib), []string{"is a directory, not a model file"}},
		{"not an ONNX file", base(text, calib), []string{"text.onnx", "not an ONNX model", "text"}},
		{"truncated ONNX", base(truncated, calib), []string{"truncated.onnx", "truncated"}},
		{"unsupported operator", base(acme, acmeData), []string{"cannot run 2 node(s)", "frobnicate_1", "twiddle_2", "try another target"}},
		{"one array for four inputs", base(vad, vadChunks), []string{"the model has 4 inputs (input [batch sequence], sr [], h [2 batch 64], c [2 batch 64])", "--constant sr=VALUE"}},
		{"constant for no input", append(base(vad, vadChunks), "--constant", "sr=16000", "--constant", "hh=0"), []string{`constant "hh": the model has no input of that name`, `did you mean "h"?`}},
		{"integer input generated", []string{"quantize", "--model", vad, "--engine", "data_free", "--shape", "input=512", "--shape", "h=2,1,64", "--shape", "c=2,1,64"}, []string{`input "sr" [] holds int64 values, which pot does not generate`, "--constant sr=VALUE"}},
		{"unknown metric output", append(base(lenet, calib), "--metric-output", "logit"), []string{`metric output "logit" (--metric-output): the model has no output of that name`, `did you mean "logits"?`}},
		{"float16 overflow", append(base(oww("melspectrogram.onnx"), oww("melspectrogram.npy")), "--target", "gpu"), []string{`node "Conv_2" (Conv) is the first to give an infinity or a NaN`, "float16", "--target cpu"}},
		{"float16 overflow inside an If branch", append(base(vad, oww("silero_vad.npz")), "--target", "gpu"), []string{`node "Mul_93" (Mul) is the first to give an infinity or a NaN`, "float16"}},
		{"model fails on its data", base(oww("melspectrogram.onnx"), shortAudio), []string{"does not run on the first sample of the calibration data", `node "Conv_2"`}},
		{"unknown config key", []string{"quantize", "-c", unknownKey}, []string{"unknown.json", "compression.algorithms[0].params.presett", `did you mean "preset"`}},
		{"unknown engine key", []string{"quantize", "-c", unknownSection}, []string{"engine.data_sorce", `did you mean "data_source"`}},
		{"wrong value type", []string{"quantize", "-c", wrongType}, []string{"type.json", "stat_subset_size", "string", "integer"}},
		{"dataset file missing", base(lenet, filepath.Join(in, "none.json")), []string{"none.json"}},
		{"empty dataset", base(lenet, empty), []string{"empty"}},
		{"labels count differs", base(lenet, mismatch), []string{"mismatch.json", "10000", "1000"}},
		{"input shape mismatch", base(lenet, wrongShape), []string{"[5 5]", "[N 1 28 28]"}},
		{"output folder missing", append(base(lenet, calib), "-o", filepath.Join(in, "no", "dir", "x.onnx")), []string{"output folder", "no such file"}},
		{"output folder is a file", append(base(lenet, calib), "-o", filepath.Join(notDir, "x.onnx")), []string{"output folder", "file.txt is not a folder"}},
		{"report folder not writable", append(base(lenet, calib), "--report", filepath.Join(notDir, "r")), []string{"--report", "file.txt is not a folder"}},
		{"target plugin missing", append(base(lenet, calib), "--target", "nosuch"), []string{`target plugin "nosuch" not found`}},
		{"algorithm plugin missing", append(base(lenet, calib), "--algorithm", "NoSuchAlgorithm"), []string{`algorithm plugin "NoSuchAlgorithm" not found`}},
		{"unknown metric", append(base(lenet, calib), "--metric", "top7"), []string{`unknown metric "top7"`, `did you mean "top1"`}},
		{"config with run flags", []string{"quantize", "-c", unknownKey, "--model", lenet}, []string{"drop --model"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { expectFailure(t, tc.args, tc.want) })
	}
}

// expectFailure runs the binary with args (and -o into a fresh folder
// unless args give one) in a fresh working folder and checks that it
// fails as a command should: a non-zero exit status, one line on stderr
// starting with "pot: " and holding every want, nothing on stdout, no
// file left behind.
func expectFailure(t *testing.T, args []string, want []string) {
	t.Helper()
	cwd := t.TempDir() // POT's results/ would land here
	outDir := t.TempDir()
	args = append([]string{}, args...)
	hasOutput := false
	for _, a := range args {
		hasOutput = hasOutput || a == "-o"
	}
	if !hasOutput {
		args = append(args, "-o", filepath.Join(outDir, "out.onnx"))
	}
	stdout, stderr, code := potBin(t, cwd, args...)
	if code == 0 {
		t.Fatalf("exit status 0; stdout %q", stdout)
	}
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "pot: ") {
		t.Errorf("stderr is not one line starting with \"pot: \":\n%s", stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q does not mention %q", stderr, w)
		}
	}
	if stdout != "" {
		t.Errorf("stdout %q, want nothing", stdout)
	}
	for _, dir := range []string{outDir, cwd} {
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("files left in %s: %v", dir, entries)
		}
	}
}
