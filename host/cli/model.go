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
