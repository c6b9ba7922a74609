package cli

import (
	"context"
	"fmt"

	"github.com/potgo/pot/host/dataset"
	"github.com/potgo/pot/host/feed"
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

// openData opens a data set for a model with these inputs (the one input
// it feeds shapes images).
func openData(path string, inputs []feed.Input, consts map[string]dataset.Constant) (dataset.Dataset, error) {
	opts := []dataset.Option{dataset.WithInputNames(feed.Names(inputs))}
	if in, ok := feed.Main(inputs, consts); ok {
		opts = append(opts, dataset.WithInputShape(in.Shape))
	}
	return dataset.Open(path, opts...)
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
func (g *globals) openOn(ctx context.Context, modelPath, dataPath, target string, eval bool, metric string, inputs *inputFlags) (*opened, error) {
	_, graph, err := loadModel(modelPath)
	if err != nil {
		return nil, err
	}
	consts, err := inputs.constantMap()
	if err != nil {
		return nil, err
	}
	ds, err := openData(dataPath, feed.Inputs(graph), consts)
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
	opts := pipeline.Options{Manager: mgr, Target: target, Graph: graph, Logger: g.logger(), Progress: prog, Metric: metric,
		Constants: consts, Output: inputs.metricOutput}
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
