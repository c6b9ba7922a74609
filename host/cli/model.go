package cli

import (
	"fmt"

	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/onnx"
)

// loadModel reads an ONNX model and converts its graph.
func loadModel(path string) (*onnxpb.ModelProto, *potv1.Graph, error) {
	if path == "" {
		return nil, nil, fmt.Errorf("no model given (--model)")
	}
	m, err := onnx.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if err := onnx.CheckOpset(m); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	g, err := onnx.ToGraph(m)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, g, nil
}

// inputShape is the shape of the model's single input, symbolic
// dimensions as -1.
func inputShape(g *potv1.Graph) ([]int, error) {
	inits := map[string]bool{}
	for _, t := range g.GetInitializers() {
		inits[t.GetName()] = true
	}
	for _, vi := range g.GetInputs() {
		if inits[vi.GetName()] {
			continue
		}
		shape := make([]int, len(vi.GetShape()))
		for i, d := range vi.GetShape() {
			shape[i] = -1
			if s, ok := d.GetValue().(*potv1.Dim_Size); ok && s.Size > 0 {
				shape[i] = int(s.Size)
			}
		}
		return shape, nil
	}
	return nil, fmt.Errorf("the model has no input")
}
