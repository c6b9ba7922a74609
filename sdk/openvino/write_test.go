package openvino

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/sdk/opset"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var exampleModels = []string{"lenet_mnist", "mlp_mnist", "resnet_fmnist", "mobilenet_fmnist", "vit_fmnist"}

// readExample reads an example model in pot's working form (opset 13 or
// later), as pot's host imports it.
func readExample(t *testing.T, name string) *potv1.Graph {
	t.Helper()
	g, err := onnx.ReadGraph(filepath.Join("..", "..", "examples", "models", name+".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if graph.Opset(g) < 13 {
		if g, _, err = opset.Upgrade(g, 13); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// TestWriteExamples writes the float IR of every example model and checks
// its structure, that it encodes and decodes to the same document, and
// that every graph input and output is there by name.
func TestWriteExamples(t *testing.T) {
	for _, name := range exampleModels {
		t.Run(name, func(t *testing.T) {
			g := readExample(t, name)
			m, err := Write(g, WriteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := Check(m.Net, m.Bin); err != nil {
				t.Fatalf("structure: %v", err)
			}
			x, err := m.XML()
			if err != nil {
				t.Fatal(err)
			}
			back, err := Decode(x)
			if err != nil {
				t.Fatal(err)
			}
			x2, err := back.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(x, x2) {
				t.Errorf("the IR does not encode the same after decoding")
			}
			if err := Check(back, m.Bin); err != nil {
				t.Errorf("decoded structure: %v", err)
			}
			names := map[string]string{}
			for _, l := range back.Layers {
				for _, p := range l.Output {
					for _, n := range strings.Split(p.Names, ",") {
						names[n] = l.Type
					}
				}
			}
			for _, in := range g.GetInputs() {
				if names[in.GetName()] != "Parameter" {
					t.Errorf("input %q: no Parameter port of that name", in.GetName())
				}
			}
			for _, o := range g.GetOutputs() {
				if names[o.GetName()] == "" {
					t.Errorf("output %q: no port of that name", o.GetName())
				}
			}
			var weights int64
			for _, ini := range g.GetInitializers() {
				weights += int64(len(ini.GetData()))
			}
			t.Logf("%s: %d layers, %d constants, xml %d bytes, bin %d bytes (initializers %d bytes)", name, m.Stats.Layers, m.Stats.Constants, len(x), len(m.Bin), weights)
		})
	}
}

// TestWriteGolden compares LeNet's float IR with testdata/lenet_mnist.xml
// (go test -update rewrites it): ids, offsets and attributes are
// deterministic.
func TestWriteGolden(t *testing.T) {
	m, err := Write(readExample(t, "lenet_mnist"), WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x, err := m.XML()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "lenet_mnist.xml")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, x, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(x, want) {
		t.Errorf("LeNet's IR differs from %s (go test -update rewrites it)", path)
	}
}

// TestWriteRefusesUnmapped lists every node the writer cannot map, before
// writing anything.
func TestWriteRefusesUnmapped(t *testing.T) {
	g := readExample(t, "lenet_mnist")
	g.Nodes[1].OpType = "NonMaxSuppression"
	g.Nodes[3].Domain = "com.example"
	_, err := Write(g, WriteOptions{})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{g.Nodes[1].GetName() + " (NonMaxSuppression", g.Nodes[3].GetName() + " (com.example." + g.Nodes[3].GetOpType(), "2 node(s)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

// TestCheckFindsBreakage breaks LeNet's IR in the ways Check looks for.
func TestCheckFindsBreakage(t *testing.T) {
	for _, c := range []struct {
		name   string
		break_ func(n *Net, bin []byte) []byte
		want   string
	}{
		{"duplicate id", func(n *Net, b []byte) []byte { n.Layers[2].ID = n.Layers[1].ID; return b }, "used twice"},
		{"dims mismatch", func(n *Net, b []byte) []byte { n.Layers[2].Input[0].Dims[1] = "3"; return b }, "dims"},
		{"precision mismatch", func(n *Net, b []byte) []byte { n.Layers[2].Input[0].Precision = "FP16"; return b }, "precisions"},
		{"unconnected input", func(n *Net, b []byte) []byte { n.Edges = n.Edges[1:]; return b }, "connected 0 times"},
		{"short bin", func(n *Net, b []byte) []byte { return b[:len(b)-1] }, "beyond"},
		{"wrong size", func(n *Net, b []byte) []byte { n.Layers[1].SetAttr("size", "12"); return b }, "needs 1600 bytes"},
		{"unknown type", func(n *Net, b []byte) []byte { n.Layers[1].SetAttr("element_type", "q7"); return b }, "not known"},
		{"no version", func(n *Net, b []byte) []byte { n.Layers[3].Version = ""; return b }, "all are required"},
		{"cycle", func(n *Net, b []byte) []byte {
			e := n.Edges[len(n.Edges)-2]
			n.Edges = append(n.Edges, Edge{FromLayer: e.ToLayer, FromPort: n.Layers[e.ToLayer].Output[0].ID, ToLayer: 2, ToPort: 0})
			return b
		}, "cycle"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := Write(readExample(t, "lenet_mnist"), WriteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			bin := c.break_(m.Net, m.Bin)
			err = Check(m.Net, bin)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Check = %v, want an error with %q", err, c.want)
			}
		})
	}
}
