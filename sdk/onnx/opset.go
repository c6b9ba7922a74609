package onnx

import (
	"fmt"

	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/sdk/graph"
)

// MaxOpset is the newest version of the default ONNX operator set
// ("" or "ai.onnx") that pot supports.
const MaxOpset = 21

// DefaultOpset is the version of the default operator set a model has,
// or 0 and false when it imports none.
func DefaultOpset(m *onnxpb.ModelProto) (int64, bool) {
	for _, o := range m.GetOpsetImport() {
		if graph.IsONNXDomain(o.GetDomain()) {
			return o.GetVersion(), true
		}
	}
	return 0, false
}

// CheckOpset returns an error unless the model imports the default ONNX
// operator set in a version pot supports (1 to MaxOpset).
func CheckOpset(m *onnxpb.ModelProto) error {
	v, ok := DefaultOpset(m)
	switch {
	case !ok:
		return fmt.Errorf("model imports no default ONNX opset (domain \"\" or \"ai.onnx\"); pot supports opsets 1 to %d", MaxOpset)
	case v > MaxOpset:
		return fmt.Errorf("model uses ONNX opset %d; the newest pot supports is %d (convert the model to opset %d or older)", v, MaxOpset, MaxOpset)
	case v < 1:
		return fmt.Errorf("model uses ONNX opset %d; pot supports opsets 1 to %d", v, MaxOpset)
	}
	return nil
}

// IRVersionFor is the IR version ONNX released together with a default
// opset version, used when a graph does not say its IR version.
func IRVersionFor(opset int64) int64 {
	switch {
	case opset <= 0:
		return 8
	case opset <= 8:
		return 3
	case opset <= 9:
		return 4
	case opset <= 10:
		return 5
	case opset <= 11:
		return 6
	case opset <= 14:
		return 7
	case opset <= 18:
		return 8
	case opset <= 20:
		return 9
	}
	return 10
}
