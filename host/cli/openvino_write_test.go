package cli

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/sdk/openvino"
)

// irExamples are the example models with their calibration data.
var irExamples = []struct{ model, data string }{
	{"lenet_mnist", "mnist-calib.json"}, {"mlp_mnist", "mnist-calib.json"}, {"resnet_fmnist", "fmnist-calib.json"},
	{"mobilenet_fmnist", "fmnist-calib.json"}, {"vit_fmnist", "fmnist-calib.json"},
}

// readIR reads and checks the structure of an IR pot wrote.
func readIR(t *testing.T, path string) (*openvino.Net, []byte) {
	t.Helper()
	x, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(irBin(path))
	if err != nil {
		t.Fatal(err)
	}
	n, err := openvino.Decode(x)
	if err != nil {
		t.Fatal(err)
	}
	if err := openvino.Check(n, bin); err != nil {
		t.Fatalf("%s: structure: %v", path, err)
	}
	return n, bin
}

// TestQuantizeIR quantizes every example model with both presets to
// OpenVINO IR (--output-format ir) and to QDQ ONNX: the IR passes the
// structural check, has FakeQuantize layers and integer weights, and its
// integer weights are byte for byte those of the QDQ model.
func TestQuantizeIR(t *testing.T) {
	for _, ex := range irExamples {
		for _, preset := range []string{"performance", "mixed"} {
			t.Run(ex.model+"/"+preset, func(t *testing.T) {
				dir := t.TempDir()
				args := []string{"-m", testenv.Example("models", ex.model+".onnx"), "--data", testenv.Example("data", ex.data), "--preset", preset}
				xmlPath := filepath.Join(dir, "q.xml")
				res := quantizeJSON(t, append(args, "--output-format", "ir", "-o", xmlPath)...)
				if res.Output != xmlPath {
					t.Errorf("output %q, want %q", res.Output, xmlPath)
				}
				qdqPath := filepath.Join(dir, "q.onnx")
				quantizeJSON(t, append(args, "-o", qdqPath)...)
				net, bin := readIR(t, xmlPath)
				fq, ints := 0, 0
				for _, l := range net.Layers {
					if l.Type == "FakeQuantize" {
						fq++
					}
				}
				m, err := onnx.ReadFile(qdqPath)
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range net.Layers {
					et, _ := l.Attr("element_type")
					if l.Type != "Const" || (et != "i8" && et != "u8") {
						continue
					}
					ints++
					w := strings.TrimSuffix(l.Name, "/quantized")
					off, _ := l.Attr("offset")
					size, _ := l.Attr("size")
					o, _ := strconv.Atoi(off)
					s, _ := strconv.Atoi(size)
					found := false
					for _, init := range m.GetGraph().GetInitializer() {
						if init.GetName() == w+"_quantized" {
							found = true
							if string(init.GetRawData()) != string(bin[o:o+s]) {
								t.Errorf("weights %s: the IR's integers differ from the QDQ model's", w)
							}
						}
					}
					if !found {
						t.Errorf("weights %s: no %s_quantized in the QDQ model", w, w)
					}
				}
				if fq == 0 || ints == 0 {
					t.Errorf("%d FakeQuantize layers and %d integer weights", fq, ints)
				}
				xi, _ := os.Stat(xmlPath)
				qi, _ := os.Stat(qdqPath)
				t.Logf("IR %d+%d bytes (%d FakeQuantize, %d int8 weights); QDQ %d bytes", xi.Size(), len(bin), fq, ints, qi.Size())
			})
		}
	}
}

// TestQuantizeIRLayout writes POT's layout with --output-format ir:
// optimized/<model>.xml and .bin.
func TestQuantizeIRLayout(t *testing.T) {
	dir := t.TempDir()
	quantizeJSON(t, "-q", "default", "-m", testenv.Example("models", "lenet_mnist.onnx"), "--data", testenv.Example("data", "mnist-calib.json"),
		"--output-dir", dir, "-d", "--output-format", "ir")
	readIR(t, filepath.Join(dir, "optimized", "lenet_mnist.xml"))
	if _, err := os.Stat(filepath.Join(dir, "optimized", "lenet_mnist.onnx")); err == nil {
		t.Errorf("an ONNX model was written too")
	}
}

// TestQuantizeIRErrors: a format that does not fit -o is refused before
// any work, and a failure to place the .bin leaves no .xml.
func TestQuantizeIRErrors(t *testing.T) {
	dir := t.TempDir()
	args := []string{"quantize", "-m", testenv.Example("models", "lenet_mnist.onnx"), "--data", testenv.Example("data", "mnist-calib.json")}
	for _, c := range []struct{ format, out, want string }{
		{"ir", "q.onnx", "name the .xml"},
		{"onnx", "q.xml", "not an .xml file"},
		{"tflite", "q.xml", "not onnx or ir"},
	} {
		_, stderr, code := pot(t, append(args, "--output-format", c.format, "-o", filepath.Join(dir, c.out))...)
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("--output-format %s -o %s: exit %d, stderr %s", c.format, c.out, code, stderr)
		}
	}
	// q.bin is a folder: the .bin cannot be put in place, and q.xml is not
	// left behind.
	if err := os.Mkdir(filepath.Join(dir, "q.bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "q.bin", "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := pot(t, append(args, "-o", filepath.Join(dir, "q.xml"))...)
	if code == 0 {
		t.Fatalf("quantize over a folder q.bin succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "q.xml")); err == nil {
		t.Errorf("q.xml was left behind: %s", stderr)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "q.bin" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// TestConvert converts every example model to float IR with pot convert.
func TestConvert(t *testing.T) {
	dir := t.TempDir()
	for _, ex := range irExamples {
		out := filepath.Join(dir, ex.model+".xml")
		stdout, stderr, code := pot(t, "convert", "-m", testenv.Example("models", ex.model+".onnx"), "-o", out, "--json")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", ex.model, code, stderr)
		}
		var res convertResult
		mustJSON(t, stdout, &res)
		net, bin := readIR(t, out)
		if res.Layers != len(net.Layers) || res.BinBytes != len(bin) || res.Weights != irBin(out) {
			t.Errorf("%s: result %+v for %d layers, %d bytes of weights", ex.model, res, len(net.Layers), len(bin))
		}
		for _, l := range net.Layers {
			if l.Type == "FakeQuantize" {
				t.Errorf("%s: FakeQuantize in a float IR", ex.model)
			}
		}
	}
	_, stderr, code := pot(t, "convert", "-m", testenv.Example("models", "lenet_mnist.onnx"), "-o", filepath.Join(dir, "x.onnx"))
	if code == 0 || !strings.Contains(stderr, "name the .xml") {
		t.Errorf("-o x.onnx: exit %d, stderr %s", code, stderr)
	}
	// IR → ONNX: the graph pot reads the IR as; an .xml output is refused.
	ir := filepath.Join(dir, "lenet_mnist.xml")
	stdout, stderr, code := pot(t, "convert", "-m", ir, "--json")
	if code != 0 {
		t.Fatalf("IR → ONNX: exit %d: %s", code, stderr)
	}
	var res convertResult
	mustJSON(t, stdout, &res)
	want := filepath.Join(dir, "lenet_mnist.onnx")
	_, g, err := ReadIR(ir, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Output != want || res.Layers != len(g.Nodes) || res.ONNXBytes == 0 {
		t.Errorf("IR → ONNX: result %+v, want %s with %d nodes", res, want, len(g.Nodes))
	}
	if _, err := onnx.ReadFile(want); err != nil {
		t.Errorf("IR → ONNX output: %v", err)
	}
	_, stderr, code = pot(t, "convert", "-m", ir, "-o", filepath.Join(dir, "y.xml"))
	if code == 0 || !strings.Contains(stderr, "name the .onnx") {
		t.Errorf("IR -o y.xml: exit %d, stderr %s", code, stderr)
	}
}
