package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// missing is a figure that could not be measured.
var missing = math.NaN()

// bench holds one sitting's measurements.
type bench struct {
	cfg    config
	stderr io.Writer
	ms     map[string]float64 // "model/kind/threads/pot|ort" -> ms per sample
	quant  map[string][3]float64
	search struct {
		wall, seconds, drop float64
		reverted, evals     int
		ok                  bool
	}
	goBench  []goBench
	convOps  float64 // resnet_fmnist's convolution operations per sample
	torchErr bool
}

// run measures every figure and prints the table to stdout; what could
// not be measured is said on stderr and left "-" in the table.
func run(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	b := &bench{cfg: cfg, stderr: stderr, ms: map[string]float64{}, quant: map[string][3]float64{}}
	if cfg.ORT != "" {
		if fi, err := os.Stat(filepath.Join(cfg.ORT, "ort.sh")); err != nil || fi.Mode()&0o111 == 0 {
			b.say("%s/ort.sh is missing or not executable: ONNX Runtime columns left out", cfg.ORT)
			b.cfg.ORT = ""
		}
	} else {
		b.say("POT_BENCH_ORT is not set: ONNX Runtime columns left out (set it to the folder of ort.sh)")
	}
	if cfg.Torch == "" {
		b.say("POT_BENCH_TORCH is not set: no PyTorch figure for goal 4 (set it to the folder of torch_ptq.py)")
	}
	if err := os.MkdirAll(b.path(cfg.Dir), 0o755); err != nil {
		return fmt.Errorf("bench folder: %w", err)
	}
	for _, m := range cfg.Models {
		if err := b.quantize(ctx, m); err != nil {
			return err
		}
		b.inference(ctx, m)
	}
	if cfg.Search {
		b.accuracyAware(ctx)
	}
	if cfg.GoBench {
		b.goBenchmarks(ctx)
	}
	if hasModel(cfg.Models, "resnet_fmnist") {
		ops, err := convOpsPerSample(ctx, b.path(filepath.Join("examples", "models", "resnet_fmnist.onnx")))
		if err != nil {
			b.say("counting resnet_fmnist's convolution operations: %v", err)
			ops = missing
		}
		b.convOps = ops
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	cpu := cpuInfo{}
	if data, err := os.ReadFile(cfg.CPUInfo); err == nil {
		cpu = parseCPUInfo(data)
	}
	printTable(stdout, cpu, b.cfg, b.rows())
	return nil
}

func (b *bench) say(format string, args ...any) {
	fmt.Fprintf(b.stderr, "bench: "+format+"\n", args...)
}

func (b *bench) path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(b.cfg.Root, p)
}

// exec runs name with args in the repository and returns its stdout and
// wall time; the error carries the end of its stderr.
func (b *bench) exec(ctx context.Context, name string, args ...string) ([]byte, time.Duration, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = b.cfg.Root
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		tail := strings.TrimSpace(errb.String())
		if len(tail) > 400 {
			tail = "..." + tail[len(tail)-400:]
		}
		return out.Bytes(), wall, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, tail)
	}
	return out.Bytes(), wall, nil
}

// minOf keeps the smaller of a and v, NaN meaning none.
func minOf(a, v float64) float64 {
	if math.IsNaN(a) || v < a {
		return v
	}
	return a
}

func (b *bench) int8Path(model string) string {
	return filepath.Join(b.cfg.Dir, model+"_int8.onnx")
}

// quantize times `pot quantize` of model on the cpu target (the int8
// model the inference rows run) against PyTorch's PTQ, alternating,
// best of Repeat each: [pot wall s, pot's own seconds, torch s].
func (b *bench) quantize(ctx context.Context, model string) error {
	b.say("quantize %s (pot%s) x%d", model, map[bool]string{true: " and PyTorch", false: ""}[b.cfg.Torch != ""], b.cfg.Repeat)
	q := [3]float64{missing, missing, missing}
	torch := b.cfg.Torch != ""
	for i := 0; i < b.cfg.Repeat; i++ {
		out, wall, err := b.exec(ctx, b.cfg.Pot, "quantize", "--model", filepath.Join("examples", "models", model+".onnx"),
			"--data", filepath.Join("examples", "data", "fmnist-calib.json"), "--target", "cpu", "--subset", "300",
			"--progress-bar=false", "--json", "-o", b.int8Path(model))
		if err != nil {
			return fmt.Errorf("quantizing %s: %w", model, err)
		}
		q[0] = minOf(q[0], wall.Seconds())
		if s, ok := num(out, "seconds"); ok {
			q[1] = minOf(q[1], s)
		}
		if !torch {
			continue
		}
		out, _, err = b.exec(ctx, b.cfg.Python, filepath.Join(b.cfg.Torch, "torch_ptq.py"), model)
		s, ok := num(out, "quantize_seconds")
		if err != nil || !ok {
			if err == nil {
				err = errors.New("no quantize_seconds in its output")
			}
			b.say("PyTorch's PTQ of %s failed, its column is left out: %v", model, err)
			torch = false
			continue
		}
		q[2] = minOf(q[2], s)
	}
	b.quant[model] = q
	return nil
}

// inference measures pot and ONNX Runtime on model's float and int8
// files on every thread count, alternating, best of Repeat.
func (b *bench) inference(ctx context.Context, model string) {
	for _, kind := range []string{"float", "int8"} {
		file := filepath.Join("examples", "models", model+".onnx")
		if kind == "int8" {
			file = b.int8Path(model)
		}
		for _, t := range b.cfg.Threads {
			b.say("inference %s %s, %d thread(s)", model, kind, t)
			key := fmt.Sprintf("%s/%s/%d/", model, kind, t)
			p, o := missing, missing
			for i := 0; i < b.cfg.Repeat && ctx.Err() == nil; i++ {
				out, _, err := b.exec(ctx, b.cfg.Pot, "bench", "--model", file, "--target", "cpu",
					"--batch", strconv.Itoa(b.cfg.Batch), "--threads", strconv.Itoa(t), "--json")
				if v, ok := num(out, "ms_per_sample"); err == nil && ok {
					p = minOf(p, v)
				} else if err != nil {
					b.say("pot bench: %v", err)
				}
				if b.cfg.ORT == "" {
					continue
				}
				out, _, err = b.exec(ctx, filepath.Join(b.cfg.ORT, "ort.sh"), file, filepath.Join("examples", "data", "fmnist-test.json"),
					"--threads", strconv.Itoa(t), "--batch", strconv.Itoa(b.cfg.Batch), "--limit", "2048")
				if v, ok := num(out, "ms_per_sample_b"+strconv.Itoa(b.cfg.Batch)); err == nil && ok {
					o = minOf(o, v)
				} else if err != nil {
					b.say("ONNX Runtime: %v", err)
				}
			}
			b.ms[key+"pot"], b.ms[key+"ort"] = p, o
		}
	}
}

// accuracyAware runs issue 7's search once (it takes a minute).
func (b *bench) accuracyAware(ctx context.Context) {
	b.say("accuracy-aware search of mobilenet_fmnist (vpu, 4-bit weights, budget 0.0018; BENCH_SEARCH=0 skips it)")
	out, wall, err := b.exec(ctx, b.cfg.Pot, "quantize", "-q", "accuracy_aware",
		"-m", filepath.Join("examples", "models", "mobilenet_fmnist.onnx"),
		"--data", filepath.Join("examples", "data", "fmnist-calib.json"),
		"--eval-data", filepath.Join("examples", "data", "fmnist-test.json"),
		"--target", "vpu", "--weight-bits", "4", "--max-drop", "0.0018", "--json", "--progress-bar=false",
		"-o", filepath.Join(b.cfg.Dir, "mobilenet_fmnist_aa.onnx"))
	if err != nil {
		b.say("accuracy-aware search: %v", err)
		return
	}
	s := &b.search
	s.wall = wall.Seconds()
	m, ok := lastJSON(out)
	if !ok {
		b.say("accuracy-aware search: no JSON in its output")
		return
	}
	if v, ok := find(m, "seconds"); ok {
		s.seconds, _ = v.(float64)
	}
	if v, ok := find(m, "final_drop"); ok {
		s.drop, _ = v.(float64)
	} else {
		s.drop = missing
	}
	if v, ok := find(m, "reverted"); ok {
		l, _ := v.([]any)
		s.reverted = len(l)
	}
	if v, ok := find(m, "evaluations"); ok {
		e, _ := v.(float64)
		s.evals = int(e)
	}
	s.ok = true
}

// goBenchmarks runs the peak loops and GNA's convolution benchmark,
// Repeat times each, in turn: a go test per run (its -count would repeat
// each sub-benchmark in a row, and GNA's and the cpu target's
// convolutions would not alternate). The table reads the best run of
// each (metric).
func (b *bench) goBenchmarks(ctx context.Context) {
	for _, gb := range []struct{ pattern, benchtime, pkg string }{
		// A second per loop and 100 convolutions per layer, so that a
		// slow run (the first one's page faults, another process) weighs
		// little; with 3 the GNA figure came out twice the direct run's.
		{"^BenchmarkPeak$", "1s", "./targets/interp/kernels"},
		{"^BenchmarkConvVsCPU$", "100x", "./targets/gna"},
	} {
		b.say("go test -bench %s %s x%d", gb.pattern, gb.pkg, b.cfg.Repeat)
		for i := 0; i < b.cfg.Repeat && ctx.Err() == nil; i++ {
			out, _, err := b.exec(ctx, b.cfg.Go, "test", "-run", "^$", "-bench", gb.pattern, "-benchtime", gb.benchtime, gb.pkg)
			b.goBench = append(b.goBench, parseGoBench(out)...)
			if err != nil {
				b.say("go benchmark %s: %v", gb.pattern, err)
				break
			}
		}
	}
}

// convOpsPerSample counts 2·MACs of the model's convolutions for one
// sample, from the shapes of their weights and of their outputs on a
// 1x1x28x28 input.
func convOpsPerSample(ctx context.Context, path string) (float64, error) {
	m, err := onnx.ReadFile(path)
	if err != nil {
		return 0, err
	}
	g, err := onnx.ToGraph(m)
	if err != nil {
		return 0, err
	}
	weights := map[string][]int{}
	for _, t := range g.GetInitializers() {
		dims := make([]int, len(t.GetDims()))
		for i, d := range t.GetDims() {
			dims[i] = int(d)
		}
		weights[t.GetName()] = dims
	}
	perOutput := map[string]int{}
	for _, n := range g.GetNodes() {
		if n.GetOpType() != "Conv" || len(n.GetInputs()) < 2 {
			continue
		}
		if w, ok := weights[n.GetInputs()[1]]; ok && len(w) > 1 {
			perOutput[n.GetOutputs()[0]] = tensor.NumElements(w) / w[0]
		}
	}
	if len(perOutput) == 0 {
		return 0, errors.New("no convolution with constant weights")
	}
	p, err := interp.Compile(g, interp.Options{Threads: 1})
	if err != nil {
		return 0, err
	}
	defer p.Close()
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 28*28)
	for i := range x {
		x[i] = r.Float32()
	}
	var names []string
	for n := range perOutput {
		names = append(names, n)
	}
	res, err := p.Run(ctx, map[string]*tensor.Tensor{p.InputNames()[0]: tensor.From([]int{1, 1, 28, 28}, x)}, names...)
	if err != nil {
		return 0, err
	}
	ops := 0.0
	for n, macs := range perOutput {
		ops += 2 * float64(res[n].Len()) * float64(macs)
	}
	return ops, nil
}

func hasModel(models []string, m string) bool {
	for _, x := range models {
		if x == m {
			return true
		}
	}
	return false
}
