package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/potgo/pot/internal/outfile"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/sdk/openvino"
)

type convertFlags struct {
	model  string
	output string
}

// convertResult is the JSON of `pot convert --json`.
type convertResult struct {
	Model  string `json:"model"`
	Output string `json:"output"`
	// Weights is the .bin written beside an IR output.
	Weights string `json:"weights,omitempty"`
	// Layers and Constants count the IR's layers and constants, or, for
	// an IR converted to ONNX, the ONNX graph's nodes and initializers.
	Layers    int `json:"layers"`
	Constants int `json:"constants"`
	XMLBytes  int `json:"xml_bytes,omitempty"`
	BinBytes  int `json:"bin_bytes,omitempty"`
	// ONNXBytes is the size of an ONNX output.
	ONNXBytes int `json:"onnx_bytes,omitempty"`
}

func newConvert(g *globals) *cobra.Command {
	f := &convertFlags{}
	cmd := &cobra.Command{
		Use:   "convert -m MODEL.onnx -o MODEL.xml | -m MODEL.xml -o MODEL.onnx",
		Short: "Convert a model between ONNX and OpenVINO IR (model.xml and model.bin)",
		Long: `convert writes an ONNX model as OpenVINO IR v11: model.xml (layers and
edges, OpenVINO's operation names and attributes) and model.bin beside it
(the constants). The model is read as quantize reads it (upgraded to opset 13
when older); operations pot cannot map are listed, and nothing is written.

Given an IR (-m MODEL.xml, with MODEL.bin beside it), convert writes the
ONNX model pot reads it as (ONNX opset 13): a quantized IR's FakeQuantize
layers and compressed weights become QuantizeLinear/DequantizeLinear, as
pot's QDQ export writes them. Outputs are written atomically.`,
		Example: `  pot convert -m examples/models/lenet_mnist.onnx -o lenet_mnist.xml
  pot convert -m lenet_mnist.xml -o lenet_mnist_ir.onnx`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runConvert(cmd.Context(), g, f) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.model, "model", "m", "", "ONNX model, or OpenVINO IR model.xml")
	fl.StringVarP(&f.output, "output", "o", "", "output model.xml (model.bin goes beside it) for an ONNX model, model.onnx for an IR (default: beside the model)")
	fl.BoolVar(&g.jsonOut, "json", false, "print the result as JSON on stdout")
	return cmd
}

func runConvert(_ context.Context, g *globals, f *convertFlags) (err error) {
	if f.model == "" {
		return fmt.Errorf("no model given (-m)")
	}
	fromIR := openvino.IsIR(f.model)
	out := f.output
	if out == "" {
		ext := ".xml"
		if fromIR {
			ext = ".onnx"
		}
		out = strings.TrimSuffix(f.model, filepath.Ext(f.model)) + ext
	}
	switch {
	case fromIR && !strings.EqualFold(filepath.Ext(out), ".onnx"):
		return fmt.Errorf("-o %s: an IR converts to ONNX; name the .onnx", out)
	case !fromIR && !strings.EqualFold(filepath.Ext(out), ".xml"):
		return fmt.Errorf("-o %s: OpenVINO IR is MODEL.xml with MODEL.bin beside it; name the .xml", out)
	}
	if err := checkOutputModel(out, f.model); err != nil {
		return err
	}
	if fromIR {
		if err := checkOutputModel(out, irBin(f.model)); err != nil {
			return err
		}
	} else if err := checkOutputModel(irBin(out), f.model); err != nil {
		return err
	}
	if err := checkWritable(out, true); err != nil {
		return err
	}
	for _, p := range outfile.CleanStale(filepath.Dir(out)) {
		g.logger().Info("removed a temporary file of an interrupted run", "file", p)
	}
	var res convertResult
	var stage func(*outfile.Txn) error
	if fromIR {
		m, graph, err := ReadIR(f.model, "")
		if err != nil {
			return err
		}
		stage = func(tx *outfile.Txn) error { return onnx.WriteStaged(tx, out, m, onnx.WriteOptions{}) }
		res = convertResult{Model: f.model, Output: out, Layers: len(graph.GetNodes()), Constants: len(graph.GetInitializers())}
	} else {
		_, graph, _, err := g.importModelFiles(f.model)
		if err != nil {
			return err
		}
		m, err := openvino.Write(graph, openvino.WriteOptions{Name: strings.TrimSuffix(filepath.Base(f.model), filepath.Ext(f.model))})
		if err != nil {
			return fmt.Errorf("%s: %w", f.model, err)
		}
		x, err := m.XML()
		if err != nil {
			return err
		}
		stage = func(tx *outfile.Txn) error { return stageIR(tx, out, m) }
		res = convertResult{Model: f.model, Output: out, Weights: irBin(out), Layers: m.Stats.Layers, Constants: m.Stats.Constants,
			XMLBytes: len(x), BinBytes: len(m.Bin)}
	}
	tx := outputTxn()
	undo, err := makeDirs(filepath.Dir(out))
	if err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Abort()
			undo()
		}
	}()
	if err := stage(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if fromIR {
		if fi, err := os.Stat(out); err == nil {
			res.ONNXBytes = int(fi.Size())
		}
	}
	if g.jsonOut {
		return printJSON(g.stdout, res)
	}
	if fromIR {
		fmt.Fprintf(g.stdout, "wrote %s: %d nodes, %d initializers (%d bytes)\n", out, res.Layers, res.Constants, res.ONNXBytes)
		return nil
	}
	fmt.Fprintf(g.stdout, "wrote %s and %s: %d layers, %d constants (%d bytes of weights)\n", out, res.Weights, res.Layers, res.Constants, res.BinBytes)
	return nil
}
