package pipeline

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/host/dataset"
	"github.com/potgo/pot/host/feed"
	"github.com/potgo/pot/host/pluginmgr"
	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	sdkgraph "github.com/potgo/pot/sdk/graph"
)

// Progress receives progress of long stages.
type Progress interface {
	// Update reports done of total units of a stage; total may be 0 when
	// unknown. A stage ends when done == total.
	Update(stage string, done, total int64, msg string)
}

// Options of a session.
type Options struct {
	Manager *pluginmgr.Manager
	Target  string
	Graph   *potv1.Graph
	// Calibration and Evaluation data; either may be nil.
	Calibration dataset.Dataset
	Evaluation  dataset.Dataset
	Logger      hclog.Logger
	Progress    Progress
	// Metric is the metric spec of Measure and of algorithms' Evaluate
	// calls that name none (see host/metrics: top1, top5, agreement,
	// sqnr, cosine, mse, psnr[:range]); empty: top1 with labels,
	// agreement without.
	Metric string
	// Checkpoint is the base path of algorithm checkpoints (SaveState);
	// empty keeps none. Resume makes LoadState return them.
	Checkpoint string
	Resume     bool
	// Workers is the number of target processes that evaluations and
	// statistics passes spread over (and the accuracy-aware search ranks
	// on in parallel); 0 or 1 means one.
	Workers int
	// Remotes are targets on other machines (sessions of host/remote),
	// which evaluations and statistics spread over with the local target
	// processes; Workers counts them too.
	Remotes []Remote
	// Constants feed model inputs a fixed value (overriding the data set
	// descriptors' constants); see package feed.
	Constants map[string]dataset.Constant
	// Output is the model output metrics read; empty: the first.
	Output string
	// HardwareConfig, when set, replaces the hardware config the target
	// describes, as the algorithms see it; the target's name, device and
	// presets are kept.
	HardwareConfig *potv1.HardwareConfig
	// Algorithms are algorithm plugins already started (to learn from
	// their descriptions what the run needs), by name; the session uses
	// them instead of starting others.
	Algorithms map[string]*pluginmgr.Algorithm
	// Described, when set, is called with the target's description
	// (with HardwareConfig in it) before the model is loaded and the data
	// uploaded: an error ends Open before that work, as for a preset the
	// target does not publish (see ResolvePresets).
	Described func(*potv1.TargetDescription) error
}

// Session is a model loaded on a target with its data. It is the facade
// of its parts, each with its own state: the Host service over the
// target, model and data (embedded: Session is the plugins.Host of its
// algorithms), the algorithm plugins, the parameter checker, the chain
// runner, the evaluator (with its worker pool and caches) and the
// checkpoint store.
type Session struct {
	*hostService
	opts Options
	desc *potv1.TargetDescription
	log  hclog.Logger

	algos  *algorithmSet
	params *paramChecker
	chain  *chainRunner
	evals  *evaluator
	states *checkpointStore
}

// data is a data set uploaded to the target.
type data struct {
	name   string
	id     string
	n      int
	labels []int // nil when unlabelled
	feed   *feed.Feed
}

// Open starts the target, loads the graph and uploads the data.
func Open(ctx context.Context, opts Options) (*Session, error) {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	s := &Session{hostService: newHostService(opts.Target, opts.Graph, opts.Metric, opts.Progress), opts: opts, log: opts.Logger,
		algos: newAlgorithmSet(opts.Manager, opts.Algorithms), states: newCheckpointStore(opts.Checkpoint, opts.Resume)}
	s.params = newParamChecker(s.algos)
	opened := false
	defer func() {
		if !opened {
			// Plugins started ahead finish starting before the caller
			// stops them: killed during their handshake, they would
			// leave go-plugin's warnings beside the error.
			s.algos.close()
		}
	}()
	if err := checkOutput(opts.Graph, opts.Output); err != nil {
		return nil, err
	}
	// Bind the data to the model's inputs before starting anything: a
	// data set that cannot feed the model is refused here.
	feeds, err := s.bind(ctx, opts)
	if err != nil {
		return nil, err
	}
	t, err := opts.Manager.Target(ctx, opts.Target)
	if err != nil {
		return nil, err
	}
	s.log.Debug("target started", "target", opts.Target)
	// The chain's plugins start while the model loads and the data go up
	// (not before the target: a run whose target cannot start starts
	// nothing else).
	s.algos.startAhead(ctx, opts.Algorithms)
	s.target = t
	if s.desc, err = t.Describe(ctx); err != nil {
		return nil, err
	}
	if opts.HardwareConfig != nil {
		if dev, own := opts.HardwareConfig.GetTargetDevice(), s.desc.GetDevice(); dev != "" && !strings.EqualFold(dev, own) {
			s.log.Warn("the hardware config given is for another device; the target's device is kept", "config", dev, "target", opts.Target, "device", own)
		}
		s.desc = proto.CloneOf(s.desc)
		s.desc.HardwareConfig = opts.HardwareConfig
	}
	if opts.Described != nil {
		if err := opts.Described(s.desc); err != nil {
			return nil, err
		}
	}
	resp, err := t.LoadModel(ctx, opts.Graph)
	if err != nil {
		return nil, fmt.Errorf("load the model on target %q: %w", opts.Target, err)
	}
	if len(resp.GetUnsupported()) > 0 {
		return nil, &UnsupportedError{Target: opts.Target, Nodes: resp.GetUnsupported()}
	}
	s.modelID = resp.GetModelId()
	s.log.Debug("model loaded", "model_id", s.modelID)
	var calibData, evalData *plugins.Dataset // for the workers
	if f := feeds["calibration"]; f != nil {
		if s.calib, calibData, err = s.upload(ctx, "calibration", f); err != nil {
			return nil, err
		}
	}
	if f := feeds["evaluation"]; f != nil {
		if s.eval, evalData, err = s.upload(ctx, "evaluation", f); err != nil {
			return nil, err
		}
	}
	// One sample through the float model before any real work: a model
	// that fails on its data fails now, not after statistics.
	s.log.Debug("data uploaded")
	for _, d := range []*data{s.calib, s.eval} {
		if d == nil {
			continue
		}
		resp, err := t.Infer(ctx, &potv1.InferRequest{ModelId: s.modelID, Samples: &potv1.Samples{DataId: d.id, Indices: []int64{0}}})
		if err != nil {
			return nil, fmt.Errorf("the float model does not run on the first sample of the %s data (%s): %w", d.name, d.feed.Describe(), err)
		}
		if bad := nonFinite(resp.GetOutputs()); bad != "" {
			return nil, s.overflowError(ctx, d, bad)
		}
	}
	s.evals = newEvaluator(t, s.modelID, s.eval, opts.Metric, opts.Output, s.progress)
	s.evals.calib = s.calib
	s.chain = &chainRunner{algos: s.algos, params: s.params, host: s, desc: s.desc, modelID: s.modelID, log: s.log}
	if err := s.startPool(ctx, t, opts, evalData, calibData); err != nil {
		return nil, err
	}
	opened = true
	return s, nil
}

// startPool starts the workers that evaluations and statistics spread
// over: Options.Workers target processes in all (or one per remote and
// the session's own, when more), the remote ones among them.
func (s *Session) startPool(ctx context.Context, t plugins.Target, opts Options, evalData, calibData *plugins.Dataset) error {
	n := max(opts.Workers, 1+len(opts.Remotes))
	if n <= 1 || (s.eval == nil && s.calib == nil) {
		return nil
	}
	for _, r := range opts.Remotes {
		if err := sameTarget(s.desc, r, opts.HardwareConfig != nil, s.log); err != nil {
			return err
		}
	}
	local := n - len(opts.Remotes) // the session's target is worker 0
	start := func(ctx context.Context, i int) (*worker, error) {
		if i < local {
			w, err := newWorker(ctx, opts.Manager, opts.Target, s.graph, evalData, calibData)
			if err != nil {
				return nil, err
			}
			w.name = fmt.Sprintf("local target %d", i)
			return w, nil
		}
		r := opts.Remotes[i-local]
		w, err := loadWorker(ctx, r, opts.Target, s.graph, evalData, calibData)
		if err != nil {
			if isLost(err) {
				s.log.Warn("remote target lost while loading the model and data; the run goes on without it", "error", err)
			}
			return nil, fmt.Errorf("%s: %w", r, err)
		}
		w.name, w.remote = r.String(), true
		return w, nil
	}
	first := &worker{target: t, name: "local target 0", modelID: s.modelID}
	if s.eval != nil {
		first.evalID = s.eval.id
	}
	if s.calib != nil {
		first.calibID = s.calib.id
	}
	pool, err := startWorkers(ctx, n, first, start, s.progress)
	if err != nil {
		return err
	}
	pool.log = s.log
	batch := rangeAlignment(s.graph, int(s.desc.GetBatchSize()))
	s.evals.pool, s.evals.batch = pool, batch
	s.hostService.pool, s.hostService.batch = pool, batch
	if len(opts.Remotes) > 0 {
		s.log.Info("work spreads over target processes", "local", local, "remote", len(opts.Remotes), "batch", batch)
	}
	return nil
}

// rangeAlignment is what the ranges of spread work start at multiples
// of: the target's batch size, and a model input's fixed batch N (the
// target then runs batches of N, padding the last), so that every batch
// of a range holds the samples it holds on one target. 0 (the target does
// not say its batch size) means no spreading.
func rangeAlignment(g *potv1.Graph, batch int) int {
	if batch <= 0 {
		return 0
	}
	inits := map[string]bool{}
	for _, t := range g.GetInitializers() {
		inits[t.GetName()] = true
	}
	for _, vi := range g.GetInputs() {
		if inits[vi.GetName()] || len(vi.GetShape()) == 0 {
			continue
		}
		if sz, ok := vi.GetShape()[0].GetValue().(*potv1.Dim_Size); ok && sz.Size > 1 {
			batch = lcm(batch, int(sz.Size))
		}
	}
	return batch
}

func lcm(a, b int) int {
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	return a / x * b
}

// Remote is a target process on another machine: a session on a target
// served by `pot target serve` (host/remote.Target).
type Remote interface {
	plugins.Target
	// Description is the target's, as the server gave it.
	Description() *potv1.TargetDescription
	// String names it in logs and errors: "remote target HOST:PORT".
	String() string
}

// sameTarget refuses a remote target whose arithmetic may differ from
// the local one's: another target, hardware config (unless the run
// replaces it), capabilities, operators, batch size or float summation
// (sameFloatSums). Another version is only logged.
func sameTarget(local *potv1.TargetDescription, r Remote, ownHW bool, log hclog.Logger) error {
	d := r.Description()
	differs := func(what string) error {
		return fmt.Errorf("%s runs target %q %s, whose %s differs from the local %q %s: results would not match a local run; serve the same target and release",
			r, d.GetName(), d.GetVersion(), what, local.GetName(), local.GetVersion())
	}
	switch {
	case d.GetName() != local.GetName():
		return fmt.Errorf("%s serves target %q, not %q", r, d.GetName(), local.GetName())
	case !ownHW && !proto.Equal(d.GetHardwareConfig(), local.GetHardwareConfig()):
		return differs("hardware config")
	case !proto.Equal(d.GetCapabilities(), local.GetCapabilities()):
		return differs("capabilities")
	case d.GetBatchSize() != local.GetBatchSize():
		return differs("batch size")
	case !sameFloatSums(local, d):
		return differs(fmt.Sprintf("float summation (%s, not %s: the float_sums property; float 3×3 convolutions run as Winograd on AVX2 machines without AVX-512)",
			d.GetProperties()["float_sums"], local.GetProperties()["float_sums"]))
	case !slices.EqualFunc(d.GetOperators(), local.GetOperators(), func(a, b *potv1.OperatorSupport) bool { return proto.Equal(a, b) }):
		return differs("operator list")
	}
	if d.GetVersion() != local.GetVersion() {
		log.Warn("a remote target has another version", "remote", r.String(), "version", d.GetVersion(), "local", local.GetVersion())
	}
	return nil
}

// sameFloatSums reports whether two targets sum float convolutions the
// same way (their float_sums property), so that their float results are
// the same bits; a target that does not say (an older SDK) is taken to
// agree.
func sameFloatSums(a, b *potv1.TargetDescription) bool {
	x, okx := a.GetProperties()["float_sums"]
	y, oky := b.GetProperties()["float_sums"]
	return !okx || !oky || x == y
}

// checkOutput refuses a metric output (Options.Output) the model does
// not have.
func checkOutput(g *potv1.Graph, output string) error {
	if output == "" || slices.ContainsFunc(g.GetOutputs(), func(o *potv1.ValueInfo) bool { return o.GetName() == output }) {
		return nil
	}
	var names []string
	for _, o := range g.GetOutputs() {
		names = append(names, o.GetName())
	}
	return fmt.Errorf("metric output %q (--metric-output): the model has no output of that name (its outputs: %s)%s", output, strings.Join(names, ", "), dataset.Suggest(output, names))
}

// bind binds the calibration and evaluation data sets to the model's
// inputs, by name ("calibration", "evaluation"); evaluation data that is
// the calibration data shares its feed.
func (s *Session) bind(ctx context.Context, opts Options) (map[string]*feed.Feed, error) {
	feeds := map[string]*feed.Feed{}
	for _, d := range []struct {
		name string
		ds   dataset.Dataset
	}{{"calibration", opts.Calibration}, {"evaluation", opts.Evaluation}} {
		if d.ds == nil {
			continue
		}
		if d.name == "evaluation" && d.ds == opts.Calibration {
			feeds[d.name] = feeds["calibration"]
			continue
		}
		stage := "read " + d.name + " data"
		f, err := feed.Bind(ctx, s.inputs, d.ds, feed.Options{Constants: opts.Constants,
			Progress: func(done, total int) { s.progress(stage, int64(done), int64(total)) }})
		if err != nil {
			return nil, fmt.Errorf("%s data: %w", d.name, err)
		}
		s.log.Info("data", "set", d.name, "feed", f.Describe())
		feeds[d.name] = f
	}
	return feeds, nil
}

// UnsupportedError lists the nodes a target cannot run.
type UnsupportedError struct {
	Target string
	Nodes  []string
	// Hint says what to do; empty: the hint for quantizing.
	Hint string
}

// unsupportedShown is how many nodes an UnsupportedError names; the rest
// are counted.
const unsupportedShown = 5

func (e *UnsupportedError) Error() string {
	hint := e.Hint
	if hint == "" {
		hint = "pot quantizes a model on a target that runs it in float first: try another target, --target cpu runs the most operators, or export the model without these operators"
	}
	nodes := strings.Join(e.Nodes[:min(len(e.Nodes), unsupportedShown)], "; ")
	if more := len(e.Nodes) - unsupportedShown; more > 0 {
		nodes += fmt.Sprintf("; and %d more", more)
	}
	return fmt.Sprintf("target %q cannot run %d node(s) of the model: %s (%s)", e.Target, len(e.Nodes), nodes, hint)
}

// Close stops the session's plugins.
func (s *Session) Close() {
	s.algos.close()
	s.opts.Manager.Close()
}

// Target is the target's description.
func (s *Session) Target() *potv1.TargetDescription { return s.desc }

// ModelID is the id of the loaded model on the target.
func (s *Session) ModelID() string { return s.modelID }

// Inputs are the model inputs the session feeds.
func (s *Session) Inputs() []feed.Input { return s.inputs }

// upload sends a bound data set to the target; it returns the data set
// sent too.
func (s *Session) upload(ctx context.Context, name string, f *feed.Feed) (*data, *plugins.Dataset, error) {
	set := f.Dataset(name)
	id, err := s.target.UploadData(ctx, set)
	if err != nil {
		return nil, nil, fmt.Errorf("upload %s data: %w", name, err)
	}
	return &data{name: name, id: id, n: f.Samples, labels: f.Labels, feed: f}, set, nil
}

// nonFinite names the first float tensor holding an infinity or a NaN.
func nonFinite(ts []*potv1.Tensor) string {
	for _, t := range ts {
		v, err := sdkgraph.Float32View(t)
		if err != nil {
			continue
		}
		for _, x := range v {
			if math.IsInf(float64(x), 0) || math.IsNaN(float64(x)) {
				return t.GetName()
			}
		}
	}
	return ""
}

// overflowError explains a float model whose output is not finite on the
// target: it names the first node (in graph order) whose output is not.
func (s *Session) overflowError(ctx context.Context, d *data, output string) error {
	target := fmt.Sprintf("target %q", s.opts.Target)
	if p := s.desc.GetProperties()["float_precision"]; p != "" {
		target += " (float ops in " + p + ")"
	}
	err := fmt.Errorf("the float model's output %q is not finite on %s for the first sample of the %s data", output, target, d.name)
	bad := s.nonFiniteNodes(ctx, d, s.graph.GetNodes())
	if len(bad) == 0 {
		return err
	}
	hint := "check the data (a NaN or an infinity in the input?), or run the model on another target"
	if sdk.Capabilities(s.desc).GetFloatPrecision() == potv1.FloatPrecision_FLOAT_PRECISION_FLOAT16 {
		names := make([]string, len(bad))
		for i, n := range bad {
			names[i] = n.GetName()
		}
		hint = fmt.Sprintf("its values exceed float16's range (±65504) on this target: keep the %d node(s) whose values overflow in float32 "+
			"(--target-opt float32=%s; OpenVINO: disable_fp16_compression), quantize for a target that computes in float32 (--target cpu), or scale the model's input down",
			len(bad), strings.Join(names, ","))
	}
	return fmt.Errorf("%w: node %q (%s) is the first to give an infinity or a NaN; %s", err, bad[0].GetName(), bad[0].GetOpType(), hint)
}

// nonFiniteNodes returns the nodes (of one graph, in order, and inside
// the subgraphs of its control-flow nodes that ran) whose output on the
// first sample of d holds an infinity or a NaN.
func (s *Session) nonFiniteNodes(ctx context.Context, d *data, nodes []*potv1.Node) []*potv1.Node {
	var names []string
	node := map[string]*potv1.Node{}
	for _, n := range nodes {
		for _, o := range n.GetOutputs() {
			if o != "" {
				names = append(names, o)
				node[o] = n
			}
		}
	}
	resp, err := s.target.Infer(ctx, &potv1.InferRequest{ModelId: s.modelID, Samples: &potv1.Samples{DataId: d.id, Indices: []int64{0}}, Outputs: names})
	if err != nil {
		return nil
	}
	var out []*potv1.Node
	seen := map[*potv1.Node]bool{}
	for _, t := range resp.GetOutputs() {
		n := node[t.GetName()]
		if seen[n] || nonFinite([]*potv1.Tensor{t}) == "" {
			continue
		}
		seen[n] = true
		// A control-flow node stands for the nodes of its subgraph that
		// ran (a branch not taken has none).
		var inner []*potv1.Node
		for _, sg := range sdkgraph.Subgraphs(n) {
			inner = append(inner, s.nonFiniteNodes(ctx, d, sg.GetNodes())...)
		}
		if len(inner) > 0 {
			out = append(out, inner...)
		} else {
			out = append(out, n)
		}
	}
	return out
}
