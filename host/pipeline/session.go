package pipeline

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/potgo/pot/host/dataset"
	"github.com/potgo/pot/host/pluginmgr"
	"github.com/potgo/pot/plugins"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/schema"
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
	// Workers is the number of target processes that evaluate in
	// parallel (the accuracy-aware search's ranking); 0 or 1 means one.
	Workers int
}

// Session is a model loaded on a target with its data.
type Session struct {
	opts    Options
	target  *pluginmgr.Target
	desc    *potv1.TargetDescription
	graph   *potv1.Graph
	modelID string
	input   *potv1.ValueInfo
	calib   *data
	eval    *data
	log     hclog.Logger

	mu        sync.Mutex
	algos     map[string]*pluginmgr.Algorithm
	models    map[string]*potv1.Graph // graphs loaded by algorithms
	floatRefs map[string]*floatRef    // data set -> float model predictions, cached
	schemas   map[string]*schema.Schema
	saved     []string // checkpoint files written
	// pool of evaluation workers (nil: the session's target only), and
	// the evaluation data they are given.
	pool     chan *worker
	evalData *plugins.Dataset
	// evalCache keeps recent full-set evaluations.
	evalCache []cachedEval
}

// data is a data set uploaded to the target.
type data struct {
	name   string
	id     string
	n      int
	labels []int // nil when unlabelled
}

// Open starts the target, loads the graph and uploads the data.
func Open(ctx context.Context, opts Options) (*Session, error) {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	s := &Session{opts: opts, graph: opts.Graph, log: opts.Logger, algos: map[string]*pluginmgr.Algorithm{},
		models: map[string]*potv1.Graph{}, floatRefs: map[string]*floatRef{}, schemas: map[string]*schema.Schema{}}
	in, err := modelInput(opts.Graph)
	if err != nil {
		return nil, err
	}
	s.input = in
	for _, d := range []dataset.Dataset{opts.Calibration, opts.Evaluation} {
		if d == nil {
			continue
		}
		if err := dataset.Check(d, in.GetName(), dimsOf(in)); err != nil {
			return nil, err
		}
	}
	t, err := opts.Manager.Target(ctx, opts.Target)
	if err != nil {
		return nil, err
	}
	s.target = t
	if s.desc, err = t.Describe(ctx); err != nil {
		return nil, err
	}
	resp, err := t.LoadModel(ctx, opts.Graph)
	if err != nil {
		return nil, fmt.Errorf("load the model on target %q: %w", opts.Target, err)
	}
	if len(resp.GetUnsupported()) > 0 {
		return nil, &UnsupportedError{Target: opts.Target, Nodes: resp.GetUnsupported()}
	}
	s.modelID = resp.GetModelId()
	if opts.Calibration != nil {
		if s.calib, err = s.upload(ctx, "calibration", opts.Calibration); err != nil {
			return nil, err
		}
	}
	if opts.Evaluation != nil {
		if s.eval, err = s.upload(ctx, "evaluation", opts.Evaluation); err != nil {
			return nil, err
		}
		if opts.Workers > 1 {
			if err := s.startWorkers(ctx, opts.Workers); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// UnsupportedError lists the nodes a target cannot run.
type UnsupportedError struct {
	Target string
	Nodes  []string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("target %q cannot run %d node(s) of the model: %s", e.Target, len(e.Nodes), strings.Join(e.Nodes, "; "))
}

// Close stops the session's plugins.
func (s *Session) Close() {
	s.opts.Manager.Close()
}

// Target is the target's description.
func (s *Session) Target() *potv1.TargetDescription { return s.desc }

// ModelID is the id of the loaded model on the target.
func (s *Session) ModelID() string { return s.modelID }

// modelInput returns the single non-initializer input of g.
func modelInput(g *potv1.Graph) (*potv1.ValueInfo, error) {
	inits := map[string]bool{}
	for _, t := range g.GetInitializers() {
		inits[t.GetName()] = true
	}
	var ins []*potv1.ValueInfo
	for _, vi := range g.GetInputs() {
		if !inits[vi.GetName()] {
			ins = append(ins, vi)
		}
	}
	if len(ins) != 1 {
		names := make([]string, len(ins))
		for i, vi := range ins {
			names[i] = vi.GetName()
		}
		return nil, fmt.Errorf("the model has %d inputs (%s); pot feeds models with one input", len(ins), strings.Join(names, ", "))
	}
	if dt := ins[0].GetDtype(); dt != potv1.DataType_DATA_TYPE_FLOAT && dt != potv1.DataType_DATA_TYPE_UNDEFINED {
		return nil, fmt.Errorf("the model input %q is %v; pot feeds float32 inputs", ins[0].GetName(), dt)
	}
	return ins[0], nil
}

// dimsOf returns an input's shape with symbolic dimensions as -1.
func dimsOf(vi *potv1.ValueInfo) []int {
	if !vi.GetHasShape() {
		return nil
	}
	out := make([]int, len(vi.GetShape()))
	for i, d := range vi.GetShape() {
		if sz, ok := d.GetValue().(*potv1.Dim_Size); ok && sz.Size > 0 {
			out[i] = int(sz.Size)
		} else {
			out[i] = -1
		}
	}
	return out
}

// upload reads every sample and sends the set to the target.
func (s *Session) upload(ctx context.Context, name string, ds dataset.Dataset) (*data, error) {
	n := ds.Len()
	shape := ds.SampleShape()
	per := 1
	for _, d := range shape {
		per *= d
	}
	dims := append([]int64{int64(n)}, sampleDims(s.input, shape, per)...)
	buf := make([]float32, n*per)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	s.progress("read "+name+" data", 0, int64(n))
	labels, err := dataset.ReadBatch(ctx, ds, idx, buf)
	if err != nil {
		return nil, fmt.Errorf("read %s data: %w", name, err)
	}
	s.progress("read "+name+" data", int64(n), int64(n))
	raw := make([]byte, 4*len(buf))
	for i, v := range buf {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	t := &potv1.Tensor{Name: s.input.GetName(), Dtype: potv1.DataType_DATA_TYPE_FLOAT, Dims: dims, Data: raw}
	set := &plugins.Dataset{Name: name, Inputs: []string{s.input.GetName()}, Tensors: []*potv1.Tensor{t}}
	if name == "evaluation" {
		s.evalData = set // for evaluation workers
	}
	id, err := s.target.UploadData(ctx, set)
	if err != nil {
		return nil, fmt.Errorf("upload %s data: %w", name, err)
	}
	d := &data{name: name, id: id, n: n}
	if ds.Labelled() {
		d.labels = labels
	}
	return d, nil
}

// sampleDims is the per-sample shape fed to the model: the input's own
// dimensions after the batch when they are fixed and hold the sample,
// else the data set's sample shape.
func sampleDims(in *potv1.ValueInfo, sample []int, per int) []int64 {
	dims := dimsOf(in)
	if len(dims) > 1 {
		n, fixed := 1, true
		for _, d := range dims[1:] {
			fixed = fixed && d > 0
			n *= d
		}
		if fixed && n == per {
			out := make([]int64, len(dims)-1)
			for i, d := range dims[1:] {
				out[i] = int64(d)
			}
			return out
		}
	}
	out := make([]int64, len(sample))
	for i, d := range sample {
		out[i] = int64(d)
	}
	return out
}

func (s *Session) progress(stage string, done, total int64) {
	if s.opts.Progress != nil {
		s.opts.Progress.Update(stage, done, total, "")
	}
}
