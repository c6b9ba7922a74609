package graph_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// TestValueTypesOfAnExportedTransformer compares Index.ValueType on
// examples/models/vit_fmnist.onnx (PyTorch's export of
// nn.TransformerEncoder: shape arithmetic on int64, Cast, Equal/Where,
// ConstantOfShape, Expand) with what ONNX's shape inference gives every
// tensor. testdata/vit_fmnist_dtypes.json was written by
// testdata/dtypes_golden.py with python3-onnx 1.12. The model's own
// value_info is dropped first, so the types come from the rules alone.
func TestValueTypesOfAnExportedTransformer(t *testing.T) {
	g := readGraph(t, testenv.Example("models", "vit_fmnist.onnx"))
	g.ValueInfo = nil
	b, err := os.ReadFile(filepath.Join("testdata", "vit_fmnist_dtypes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]int32
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	x := graph.NewIndex(g)
	ints := 0
	for name, dt := range want {
		if got := x.ValueType(name); got != potv1.DataType(dt) {
			t.Errorf("%s: %v, ONNX says %v", name, got, potv1.DataType(dt))
		}
		if !graph.IsFloatType(potv1.DataType(dt)) {
			ints++
		}
	}
	for _, n := range g.GetNodes() {
		for _, o := range n.GetOutputs() {
			if _, ok := want[o]; !ok {
				t.Errorf("%s (output of %s %s) is not in the golden file", o, n.GetOpType(), n.GetName())
			}
		}
	}
	if ints == 0 {
		t.Error("the model has no integer or boolean tensors: not the exported transformer")
	}
}
