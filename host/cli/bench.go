package cli

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/potgo/pot/host/config"
	"github.com/potgo/pot/host/feed"
	"github.com/potgo/pot/host/pipeline"
	"github.com/potgo/pot/proto/potv1"
)

type benchFlags struct {
	model   string
	target  string
	batch   int
	samples int
	rounds  int
	shape   []string
	inputs  inputFlags
}

// benchResult is the JSON of `pot bench --json`.
type benchResult struct {
	MsPerSample       float64 `json:"ms_per_sample"`
	SamplesPerSecond  float64 `json:"samples_per_second"`
	Batch             int     `json:"batch"`
	BatchNote         string  `json:"batch_note,omitempty"`
	Threads           int     `json:"threads"`
	Samples           int     `json:"samples"`
	Target            string  `json:"target"`
	Model             string  `json:"model"`
	BestOfRounds      int     `json:"rounds"`
	FirstRoundSeconds float64 `json:"first_round_seconds"`
}

func newBench(g *globals) *cobra.Command {
	f := &benchFlags{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure inference speed of a model (float or QDQ) on a target",
		Long: `bench uploads random inputs of the model's input shapes to the target once, then
times the target's evaluation of them in batches (outputs reduced to the top-1 index,
so transfer costs nothing) and reports the best of several rounds. A model whose batch
is fixed runs in batches of that size; integer inputs need a value (--constant).`,
		Example: "  pot bench --model examples/models/resnet_fmnist.onnx --target cpu --batch 64 --threads 1 --json",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runBench(cmd.Context(), g, f) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.model, "model", "m", "", "ONNX model")
	fl.StringVar(&f.target, "target", "cpu", "target plugin")
	fl.IntVar(&f.batch, "batch", 64, "samples per inference")
	fl.IntVar(&f.samples, "samples", 0, "samples per round (default: 16 batches, at least 512)")
	fl.IntVar(&f.rounds, "rounds", 5, "rounds; the fastest counts")
	fl.BoolVar(&g.jsonOut, "json", false, "print JSON")
	fl.StringArrayVar(&f.shape, "shape", nil, "sample shape of an input with symbolic sizes, DIMS or NAME=DIMS (repeatable)")
	f.inputs.add(fl, false)
	return cmd
}

func runBench(ctx context.Context, g *globals, f *benchFlags) error {
	if f.batch < 1 || f.rounds < 1 {
		return fmt.Errorf("--batch and --rounds must be positive")
	}
	_, graph, err := g.importModel(f.model)
	if err != nil {
		return err
	}
	n := f.samples
	if n <= 0 {
		n = max(16*f.batch, 512)
	}
	consts, err := f.inputs.constantMap()
	if err != nil {
		return err
	}
	one, byName, err := config.ParseShapes(f.shape)
	if err != nil {
		return err
	}
	inputs := feed.Inputs(graph)
	ds, err := config.Generate(inputs, one, byName, consts, n, 1)
	if err != nil {
		return fmt.Errorf("%s", strings.Replace(err.Error(), "data_free engine: ", "", 1))
	}
	fd, err := feed.Bind(ctx, inputs, ds, feed.Options{Constants: consts})
	if err != nil {
		return err
	}
	batch, note := f.batch, ""
	if fd.Batch > 0 && fd.Batch != f.batch {
		batch, note = fd.Batch, fd.BatchReason
		g.logger().Info("batch set by the model", "batch", batch, "reason", note)
	}
	mgr, err := g.manager()
	if err != nil {
		return err
	}
	defer mgr.Close()
	t, err := mgr.Target(ctx, f.target)
	if err != nil {
		return err
	}
	resp, err := t.LoadModel(ctx, graph)
	if err != nil {
		return err
	}
	if len(resp.GetUnsupported()) > 0 {
		return &pipeline.UnsupportedError{Target: f.target, Nodes: resp.GetUnsupported(),
			Hint: "bench runs a model as the target loads it: a float model, or a QDQ model the target runs; measure another target, or the float model on this one"}
	}
	dataID, err := t.UploadData(ctx, fd.Dataset("bench"))
	if err != nil {
		return err
	}
	req := &potv1.EvaluateRequest{ModelId: resp.GetModelId(), Samples: &potv1.Samples{DataId: dataID, BatchSize: int32(batch)}, TopK: 1}
	best := math.Inf(1)
	var first float64
	for round := 0; round < f.rounds; round++ {
		start := time.Now()
		if err := t.Evaluate(ctx, req, func(*potv1.EvaluateResponse) error { return nil }); err != nil {
			return err
		}
		sec := time.Since(start).Seconds()
		if round == 0 {
			first = sec
		}
		best = math.Min(best, sec)
	}
	threads := g.threads
	if threads == 0 {
		threads = runtime.NumCPU()
	}
	res := benchResult{MsPerSample: best * 1000 / float64(n), SamplesPerSecond: float64(n) / best, Batch: batch, BatchNote: note,
		Threads: threads, Samples: n, Target: f.target, Model: f.model, BestOfRounds: f.rounds, FirstRoundSeconds: first}
	if g.jsonOut {
		return printJSON(g.stdout, res)
	}
	fmt.Fprintf(g.stdout, "%.4f ms/sample (%.0f samples/s), batch %d, %d threads, target %s, best of %d rounds of %d samples\n",
		res.MsPerSample, res.SamplesPerSecond, batch, threads, f.target, f.rounds, n)
	if note != "" {
		fmt.Fprintf(g.stdout, "batch %d, not %d: %s\n", batch, f.batch, note)
	}
	return nil
}
