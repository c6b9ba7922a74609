package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/potgo/pot/internal/outfile"
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
	Weights   string `json:"weights,omitempty"`
	Layers    int    `json:"layers"`
	Constants int    `json:"constants"`
	XMLBytes  int    `json:"xml_bytes"`
	BinBytes  int    `json:"bin_bytes"`
}

func newConvert(g *globals) *cobra.Command {
	f := &convertFlags{}
	cmd := &cobra.Command{
		Use:   "convert -m MODEL.onnx -o MODEL.xml",
		Short: "Convert a float ONNX model to OpenVINO IR (model.xml and model.bin)",
		Long: `convert writes a float ONNX model as OpenVINO IR v11: model.xml (layers and
edges, OpenVINO's operation names and attributes) and model.bin beside it
(the constants). The model is read as quantize reads it (upgraded to opset 13
when older); operations pot cannot map are listed, and nothing is written.
Both files are written atomically.`,
		Example: `  pot convert -m examples/models/lenet_mnist.onnx -o lenet_mnist.xml`,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runConvert(cmd.Context(), g, f) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.model, "model", "m", "", "float ONNX model")
	fl.StringVarP(&f.output, "output", "o", "", "output model.xml (model.bin goes beside it; default: MODEL.xml beside the model)")
	fl.BoolVar(&g.jsonOut, "json", false, "print the result as JSON on stdout")
	return cmd
}

func runConvert(_ context.Context, g *globals, f *convertFlags) (err error) {
	if f.model == "" {
		return fmt.Errorf("no model given (-m)")
	}
	out := f.output
	if out == "" {
		out = strings.TrimSuffix(f.model, filepath.Ext(f.model)) + ".xml"
	}
	if !strings.EqualFold(filepath.Ext(out), ".xml") {
		return fmt.Errorf("-o %s: OpenVINO IR is MODEL.xml with MODEL.bin beside it; name the .xml", out)
	}
	if err := checkOutputModel(out, f.model); err != nil {
		return err
	}
	if err := checkOutputModel(irBin(out), f.model); err != nil {
		return err
	}
	if err := checkWritable(out, true); err != nil {
		return err
	}
	for _, p := range outfile.CleanStale(filepath.Dir(out)) {
		g.logger().Info("removed a temporary file of an interrupted run", "file", p)
	}
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
	if err := stageIR(tx, out, m); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	res := convertResult{Model: f.model, Output: out, Weights: irBin(out), Layers: m.Stats.Layers, Constants: m.Stats.Constants,
		XMLBytes: len(x), BinBytes: len(m.Bin)}
	if g.jsonOut {
		return printJSON(g.stdout, res)
	}
	fmt.Fprintf(g.stdout, "wrote %s and %s: %d layers, %d constants (%d bytes of weights)\n", out, res.Weights, res.Layers, res.Constants, res.BinBytes)
	return nil
}
