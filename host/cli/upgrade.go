package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/potgo/pot/internal/outfile"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/sdk/opset"
)

type upgradeFlags struct {
	opset  int64
	output string
}

// upgradeResult is the JSON of `pot upgrade --json`.
type upgradeResult struct {
	Model   string          `json:"model"`
	Output  string          `json:"output"`
	From    int64           `json:"from"`
	To      int64           `json:"to"`
	Nodes   int             `json:"nodes"`
	Changes []upgradeChange `json:"changes"`
}

type upgradeChange struct {
	Graph  string `json:"graph,omitempty"`
	Node   string `json:"node"`
	OpType string `json:"op_type"`
	What   string `json:"what"`
}

func newUpgrade(g *globals) *cobra.Command {
	f := &upgradeFlags{}
	cmd := &cobra.Command{
		Use:   "upgrade MODEL -o OUTPUT",
		Short: "Convert a model's default ONNX opset to a newer one (7 to 13), as quantize does on import",
		Long: `upgrade converts a float model of an old default ONNX opset (1 to 12) to opset
--opset, rewriting every operator whose definition changed on the way (as
onnx.version_converter does). quantize, eval, analyze and bench do the same
to a model below opset 13 when they load it; this command writes the result,
for inspection or for another runtime.`,
		Example: `  pot upgrade model_opset9.onnx -o model_opset13.onnx`,
		Args:    cobra.ExactArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return runUpgrade(cmd.Context(), g, f, args[0]) },
	}
	fl := cmd.Flags()
	fl.Int64Var(&f.opset, "opset", workOpset, fmt.Sprintf("target default opset (%d to %d)", opset.MinTarget, opset.MaxTarget))
	fl.StringVarP(&f.output, "output", "o", "", "output model (written atomically)")
	fl.BoolVar(&g.jsonOut, "json", false, "print the result, with every converted node, as JSON on stdout")
	return cmd
}

func runUpgrade(_ context.Context, g *globals, f *upgradeFlags, model string) error {
	if f.output == "" {
		return fmt.Errorf("no output given (-o)")
	}
	if f.opset < opset.MinTarget || f.opset > opset.MaxTarget {
		return fmt.Errorf("--opset %d: pot upgrades to opsets %d to %d", f.opset, opset.MinTarget, opset.MaxTarget)
	}
	if err := checkOutputModel(f.output, model); err != nil {
		return err
	}
	if err := checkWritable(f.output, true); err != nil {
		return err
	}
	for _, p := range outfile.CleanStale(filepath.Dir(f.output)) {
		g.logger().Info("removed a temporary file of an interrupted run", "file", p)
	}
	m, graph, _, rep, err := readModel(model, f.opset)
	if err != nil {
		return err
	}
	if rep == nil {
		v, _ := onnx.DefaultOpset(m)
		if v > f.opset {
			return fmt.Errorf("%s has opset %d, newer than %d (pot does not downgrade models)", model, v, f.opset)
		}
		rep = &opset.Report{From: v, To: v}
	}
	out, err := onnx.FromGraph(graph, m)
	if err != nil {
		return fmt.Errorf("write %s: %w", f.output, err)
	}
	if err := os.MkdirAll(filepath.Dir(f.output), 0o755); err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	if err := onnx.WriteFile(f.output, out, onnx.WriteOptions{}); err != nil {
		return err
	}
	if g.jsonOut {
		res := upgradeResult{Model: model, Output: f.output, From: rep.From, To: rep.To, Nodes: rep.Nodes, Changes: []upgradeChange{}}
		for _, c := range rep.Changes {
			res.Changes = append(res.Changes, upgradeChange{Graph: c.Graph, Node: c.Node, OpType: c.OpType, What: c.What})
		}
		return printJSON(g.stdout, res)
	}
	fmt.Fprintf(g.stdout, "wrote %s: %s\n", f.output, rep.Summary())
	for _, c := range rep.Changes {
		fmt.Fprintf(g.stdout, "  %s\n", c)
	}
	return nil
}
