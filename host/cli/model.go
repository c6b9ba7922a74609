package cli

import (
	"context"
	"fmt"

	"github.com/potgo/pot/host/dataset"
	"github.com/potgo/pot/host/pipeline"
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

// opened is a model and a data set loaded on a target.
type opened struct {
	graph *potv1.Graph
	data  dataset.Dataset
	sess  *pipeline.Session
	close []func()
}

// Close stops the session and its plugins.
func (o *opened) Close() {
	for i := len(o.close) - 1; i >= 0; i-- {
		o.close[i]()
	}
}

// openOn loads a model, opens a data set shaped for it, and starts a
// session on a target with the data as calibration data or (eval) as
// evaluation data.
func (g *globals) openOn(ctx context.Context, modelPath, dataPath, target string, eval bool, metric string) (*opened, error) {
	_, graph, err := loadModel(modelPath)
	if err != nil {
		return nil, err
	}
	in, err := inputShape(graph)
	if err != nil {
		return nil, err
	}
	ds, err := dataset.Open(dataPath, dataset.WithInputShape(in))
	if err != nil {
		return nil, err
	}
	mgr, err := g.manager()
	if err != nil {
		return nil, err
	}
	o := &opened{graph: graph, data: ds, close: []func(){mgr.Close}}
	prog := newProgress(g)
	o.close = append(o.close, prog.Close)
	opts := pipeline.Options{Manager: mgr, Target: target, Graph: graph, Logger: g.logger(), Progress: prog, Metric: metric}
	if eval {
		opts.Evaluation = ds
	} else {
		opts.Calibration = ds
	}
	if o.sess, err = pipeline.Open(ctx, opts); err != nil {
		o.Close()
		return nil, err
	}
	o.close = append(o.close, o.sess.Close)
	return o, nil
}
