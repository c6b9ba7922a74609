package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/potgo/pot/host/dataset"
	"github.com/potgo/pot/host/feed"
	"github.com/potgo/pot/host/pipeline"
	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/proto/potv1"
	sg "github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/sdk/openvino"
	"github.com/potgo/pot/sdk/opset"
)

// workOpset is the default ONNX opset pot works at: a model of an older
// opset is upgraded to it on import (QDQ export needs opset 10, and
// per-channel quantizers need 13).
const workOpset = 13

// loadModel reads an ONNX model and converts its graph, upgrading a model
// below opset 13 to opset 13, so that the whole run — statistics,
// algorithms, export — works on the upgraded graph.
func loadModel(path string) (*onnxpb.ModelProto, *potv1.Graph, error) {
	m, g, _, _, err := readModel(path, workOpset)
	return m, g, err
}

// importModel is loadModel for a command: it logs an upgrade at info
// level (the opsets and how many nodes were converted) and each converted
// node at debug level.
func (g *globals) importModel(path string) (*onnxpb.ModelProto, *potv1.Graph, error) {
	m, graph, _, err := g.importModelFiles(path)
	return m, graph, err
}

// importModelFiles is importModel that also tells the files the model
// was read from.
func (g *globals) importModelFiles(path string) (*onnxpb.ModelProto, *potv1.Graph, onnx.ModelFiles, error) {
	return g.importModelWeights(path, "")
}

// importModelWeights is importModelFiles for a model whose weights may be
// in a file of their own (an OpenVINO IR's .bin; empty for the one
// beside the .xml).
func (g *globals) importModelWeights(path, weights string) (*onnxpb.ModelProto, *potv1.Graph, onnx.ModelFiles, error) {
	m, graph, files, rep, err := readModelWeights(path, weights, workOpset)
	if err != nil {
		return nil, nil, files, err
	}
	if rep != nil && rep.From != rep.To {
		log := g.logger()
		log.Info(rep.Summary(), "model", path)
		for _, c := range rep.Changes {
			log.Debug("opset upgrade", "node", c.String())
		}
	}
	return m, graph, files, nil
}

// quantizable readies graph, the model read from path, for quantize and
// analyze: a model already quantized is refused (checkFloat), one that
// computes in 16-bit floats widened (widenHalf).
func (g *globals) quantizable(path string, gr *potv1.Graph) error {
	if err := checkFloat(path, gr); err != nil {
		return err
	}
	return g.widenHalf(path, gr)
}

// widenHalf makes graph, the model read from path, compute in float32
// when it computes in float16 or bfloat16 (sdk/graph.WidenHalf), and says so:
// quantize and analyze work on that float32 twin, as a QDQ model's
// scales and the quantizers' statistics are float32.
func (g *globals) widenHalf(path string, gr *potv1.Graph) error {
	n, err := sg.WidenHalf(gr)
	if err != nil {
		return fmt.Errorf("%s: widening 16-bit floats to float32: %w", path, err)
	}
	if n > 0 {
		g.logger().Info("the model computes in 16-bit floats: quantizing its float32 twin (same weights, no rounding to 16 bits between operators); the quantized model's inputs and outputs are float32",
			"model", path, "widened", n)
	}
	return nil
}

// quantizedOps are the operators of a model that is already quantized:
// QDQ (QuantizeLinear and DequantizeLinear, pot's output among them),
// ONNX Runtime's dynamic quantization (DynamicQuantizeLinear with
// ConvInteger or MatMulInteger) and the QOperator format.
var quantizedOps = map[string]bool{
	"QuantizeLinear": true, "DequantizeLinear": true, "DynamicQuantizeLinear": true,
	"ConvInteger": true, "MatMulInteger": true, "QLinearConv": true, "QLinearMatMul": true,
	"QLinearAdd": true, "QLinearMul": true, "QLinearSigmoid": true, "QLinearLeakyRelu": true,
	"QLinearConcat": true, "QLinearAveragePool": true, "QLinearGlobalAveragePool": true,
	"QGemm": true, "DynamicQuantizeMatMul": true, "MatMulIntegerToFloat": true,
}

// checkFloat refuses to quantize a model that is already quantized:
// quantizing it again would quantize its dequantization arithmetic, or
// stack a second set of quantizers on the first, and nothing good comes
// of either.
func checkFloat(path string, gr *potv1.Graph) error {
	counts := map[string]int{}
	sg.Walk(gr, func(n *potv1.Node, _ *potv1.Graph, _ *potv1.Node) {
		if quantizedOps[n.GetOpType()] && (sg.IsONNX(n) || n.GetDomain() == "com.microsoft") {
			counts[n.GetOpType()]++
		}
	})
	if len(counts) == 0 {
		return nil
	}
	ops := make([]string, 0, len(counts))
	for op := range counts {
		ops = append(ops, op)
	}
	sort.Slice(ops, func(i, j int) bool {
		return counts[ops[i]] > counts[ops[j]] || counts[ops[i]] == counts[ops[j]] && ops[i] < ops[j]
	})
	parts := make([]string, len(ops))
	for i, op := range ops {
		parts[i] = fmt.Sprintf("%d %s", counts[op], op)
	}
	return fmt.Errorf("%s is already quantized (%s): pot quantizes float models (float32 or float16); give it the float model this one was made from (pot eval and pot bench run this one as it is)",
		path, strings.Join(parts, ", "))
}

// readModel reads an ONNX model, converts its graph and upgrades it to
// opset `to` when it is older (rep is then the upgrade's report). files
// are the files it was read from.
func readModel(path string, to int64) (m *onnxpb.ModelProto, g *potv1.Graph, files onnx.ModelFiles, rep *opset.Report, err error) {
	return readModelWeights(path, "", to)
}

// readModelWeights is readModel for a model that may be an OpenVINO IR
// (path ends in .xml): its weights are read from weights, or from the
// .bin beside the .xml when weights is empty. An IR maps to a graph of
// ONNX opset-13 operators; m is then the ONNX model of that graph, the
// base the QDQ export writes over.
func readModelWeights(path, weights string, to int64) (m *onnxpb.ModelProto, g *potv1.Graph, files onnx.ModelFiles, rep *opset.Report, err error) {
	if path == "" {
		return nil, nil, files, nil, fmt.Errorf("no model given (--model)")
	}
	if openvino.IsIR(path) {
		files = onnx.ModelFiles{Model: path}
		m, g, err = ReadIR(path, weights)
		return m, g, files, nil, err
	}
	m, files, err = onnx.ReadModel(path)
	if err != nil {
		return nil, nil, files, nil, err
	}
	if err := onnx.CheckOpset(m); err != nil {
		return nil, nil, files, nil, fmt.Errorf("%s: %w", path, err)
	}
	if g, err = onnx.ToGraph(m); err != nil {
		return nil, nil, files, nil, fmt.Errorf("%s: %w", path, err)
	}
	// ONNX wants nodes in topological order; some writers do not keep it
	// (ONNX Runtime's float16 converter appends its Casts at the end).
	// Sorting keeps a sorted graph as it is; a graph that cannot be sorted
	// is left for the target to refuse with its own words.
	_ = sg.Sort(g, nil)
	if v, _ := onnx.DefaultOpset(m); v < to {
		if g, rep, err = opset.Upgrade(g, to); err != nil {
			return nil, nil, files, nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return m, g, files, rep, nil
}

// ReadIR reads an OpenVINO IR (model.xml, and weights or the .bin beside
// it when weights is empty) as a pot graph and the ONNX model of that
// graph: what pot convert needs to turn an IR into ONNX
// (onnx.WriteFile of the model).
func ReadIR(xmlPath, weights string) (*onnxpb.ModelProto, *potv1.Graph, error) {
	g, err := openvino.ReadFiles(xmlPath, weights)
	if err != nil {
		return nil, nil, err
	}
	m, err := onnx.FromGraph(g, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", xmlPath, err)
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
// rf, when not nil, names remote targets to spread the work over.
func (g *globals) openOn(ctx context.Context, modelPath, dataPath, target string, eval bool, metric string, inputs *inputFlags, rf *remoteFlags) (*opened, error) {
	_, graph, err := g.importModel(modelPath)
	if err != nil {
		return nil, err
	}
	if !eval {
		// The data calibrates: the model is about to be quantized.
		if err := g.quantizable(modelPath, graph); err != nil {
			return nil, err
		}
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
	if rf != nil && len(rf.endpoints) > 0 {
		remotes, closeRemotes, err := g.dialAll(ctx, rf.tls(), rf.endpoints)
		if err != nil {
			o.Close()
			return nil, err
		}
		o.close = append(o.close, closeRemotes)
		for _, r := range remotes {
			opts.Remotes = append(opts.Remotes, r)
		}
	}
	if o.sess, err = pipeline.Open(ctx, opts); err != nil {
		o.Close()
		return nil, err
	}
	o.close = append(o.close, o.sess.Close)
	return o, nil
}
