package onnx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadGraph reads the example models as graphs, and names the file
// of a model it cannot read or convert.
func TestReadGraph(t *testing.T) {
	models := filepath.Join("..", "..", "examples", "models")
	notModel := filepath.Join(t.TempDir(), "notes.onnx")
	if err := os.WriteFile(notModel, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path  string
		nodes int    // of the main graph
		first string // its first node
		err   string
	}{
		{path: filepath.Join(models, "lenet_mnist.onnx"), nodes: 10, first: "/c1/Conv"},
		{path: filepath.Join(models, "mlp_mnist.onnx"), nodes: 6, first: "/Flatten"},
		{path: filepath.Join(models, "missing.onnx"), err: "missing.onnx"},
		{path: notModel, err: "notes.onnx"},
	} {
		g, err := ReadGraph(tc.path)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want one naming %s", tc.path, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if len(g.GetNodes()) != tc.nodes || g.GetNodes()[0].GetName() != tc.first {
			t.Errorf("%s: %d nodes, the first %q; want %d, %q", tc.path, len(g.GetNodes()), g.GetNodes()[0].GetName(), tc.nodes, tc.first)
		}
	}
}
