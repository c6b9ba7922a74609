package target

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/stats"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// batchRun says what to do while running a data set in batches.
type batchRun struct {
	// watch lists tensors kept for after (sess.Value) and passed to
	// onValue as they are computed, with the number of samples of the
	// current batch and the rows the model ran (more than the samples
	// when a fixed batch was padded).
	watch   []string
	onValue func(b batchInfo, name string, t *tensor.Tensor) error
	// onSamples, instead of onValue, takes the watched tensors sample by
	// sample: a sample-parallel program runs the batch in chunks and
	// calls it concurrently with each chunk's rows, first being the
	// chunk's first row in the batch and n its rows; a batch run whole
	// calls it once per value with first and n 0
	// (rt.Session.ObserveSamples).
	onSamples func(b batchInfo, name string, first, n int, t *tensor.Tensor) error
	// after is called once per batch, after it ran.
	after func(b batchInfo, sess *rt.Session) error
}

// batchInfo describes one run of a batch.
type batchInfo struct {
	offset  int // of the batch's first sample in the selection
	samples int // in the batch
	// rows is the batch the model ran: more than samples when a fixed
	// batch was padded; only the first samples rows are real.
	rows int
	// whole is set when an input is fed whole samples (one per run):
	// the outputs are the sample's, of any shape.
	whole bool
}

// selection resolves the samples of a request.
func (e *Engine) selection(s *potv1.Samples) (*dataset, []int, int, error) {
	ds, err := e.dataset(s.GetDataId())
	if err != nil {
		return nil, nil, 0, err
	}
	idx := make([]int, 0, max(len(s.GetIndices()), ds.n))
	for _, i := range s.GetIndices() {
		if i < 0 || int(i) >= ds.n {
			return nil, nil, 0, fmt.Errorf("sample %d outside the data set of %d", i, ds.n)
		}
		idx = append(idx, int(i))
	}
	if len(s.GetIndices()) == 0 {
		for i := 0; i < ds.n; i++ {
			idx = append(idx, i)
		}
	}
	bs := int(s.GetBatchSize())
	if bs <= 0 {
		bs = e.cfg.BatchSize
	}
	return ds, idx, bs, nil
}

// feeding says how a data set feeds a program's inputs.
//
// A data set tensor holds one sample per row (axis 0). For a model input
// of rank R, rows of rank R-1 are stacked into batches (the model input's
// first dimension is the batch); rows of rank R are whole inputs, their
// batch dimension included, fed one sample per run. A model input whose
// first dimension is fixed (a batch of 1, or of N) gets batches of exactly
// that size; a last, partial batch is padded by repeating its last sample
// and the padding is dropped from every result.
type feeding struct {
	order    []int  // program input -> data set input; -1: the input's default
	whole    []bool // per program input: rows are whole inputs
	batch    int    // samples per run
	fixed    bool   // batch is the model's: pad the last batch to it
	anyWhole bool   // some input is fed whole samples (batch is 1)
}

func (e *Engine) feeding(c *compiled, ds *dataset, requested int) (*feeding, error) {
	names := c.prog.InputNames()
	infos := map[string]*potv1.ValueInfo{}
	inits := map[string]bool{}
	for _, t := range c.applied.Graph.GetInitializers() {
		inits[t.GetName()] = true
	}
	fed := 0
	for _, vi := range c.applied.Graph.GetInputs() {
		infos[vi.GetName()] = vi
		if !inits[vi.GetName()] {
			fed++
		}
	}
	f := &feeding{order: make([]int, len(names)), whole: make([]bool, len(names)), batch: requested}
	fixedBy := ""
	anyWhole := ""
	for i, n := range names {
		f.order[i] = -1
		for j, dn := range ds.inputs {
			if dn == n {
				f.order[i] = j
			}
		}
		if f.order[i] < 0 && fed == 1 && len(ds.inputs) == 1 && !inits[n] {
			f.order[i] = 0
		}
		if f.order[i] < 0 {
			if inits[n] {
				continue // fed its default
			}
			return nil, fmt.Errorf("the data set has no input %q (it has %v)", n, ds.inputs)
		}
		vi := infos[n]
		if !vi.GetHasShape() {
			continue
		}
		rank := len(vi.GetShape())
		rows := ds.tensors[f.order[i]].Rank()
		switch rows {
		case rank + 1:
			f.whole[i] = true
			anyWhole = n
		case rank:
			if rank == 0 {
				break
			}
			if sz, ok := vi.GetShape()[0].GetValue().(*potv1.Dim_Size); ok && sz.Size > 0 {
				b := int(sz.Size)
				if fixedBy != "" && b != f.batch {
					return nil, fmt.Errorf("inputs %q and %q have different fixed batch sizes (%d and %d)", fixedBy, n, f.batch, b)
				}
				f.batch, f.fixed, fixedBy = b, true, n
			}
		default:
			return nil, fmt.Errorf("input %q: the data holds samples of shape %v, the model input is %s",
				n, ds.tensors[f.order[i]].Shape[1:], rt.FormatShape(vi.GetShape()))
		}
	}
	if anyWhole != "" {
		if f.fixed && f.batch != 1 {
			return nil, fmt.Errorf("input %q is fed whole samples (one per run) but input %q has a fixed batch of %d", anyWhole, fixedBy, f.batch)
		}
		f.batch, f.fixed, f.anyWhole = 1, false, true
	}
	if f.batch <= 0 {
		f.batch = e.cfg.BatchSize
	}
	return f, nil
}

// batching resolves the samples of a request and how they feed c.
func (e *Engine) batching(c *compiled, s *potv1.Samples) (*dataset, []int, *feeding, error) {
	ds, idx, bs, err := e.selection(s)
	if err != nil {
		return nil, nil, nil, err
	}
	f, err := e.feeding(c, ds, bs)
	if err != nil {
		return nil, nil, nil, err
	}
	return ds, idx, f, nil
}

// runBatches runs the selected samples through a compiled program.
func (e *Engine) runBatches(ctx context.Context, c *compiled, s *potv1.Samples, br batchRun) error {
	ds, idx, f, err := e.batching(c, s)
	if err != nil {
		return err
	}
	bs := f.batch
	names := c.prog.InputNames()
	sess := c.prog.AcquireSession()
	defer sess.Release()
	var b batchInfo
	var fn func(string, *tensor.Tensor) error
	if br.onValue != nil {
		fn = func(name string, t *tensor.Tensor) error { return br.onValue(b, name, t) }
	}
	// A run that reads values as they pass (statistics) needs no copies
	// of them after the run.
	switch {
	case br.onSamples != nil:
		err = sess.ObserveSamples(br.watch, func(name string, first, n int, t *tensor.Tensor) error { return br.onSamples(b, name, first, n, t) })
	case fn != nil:
		err = sess.Observe(br.watch, fn)
	default:
		err = sess.Watch(br.watch, nil)
	}
	if err != nil {
		return err
	}
	bufs := make([]*tensor.Tensor, len(names))
	feed := make([]*tensor.Tensor, len(names))
	for i := range bufs {
		bufs[i] = &tensor.Tensor{}
	}
	padded := make([]int, 0, bs)
	for off := 0; off < len(idx); off += bs {
		if err := ctx.Err(); err != nil {
			return err
		}
		cur := min(bs, len(idx)-off)
		batch := idx[off : off+cur]
		if f.fixed && cur < bs {
			padded = append(padded[:0], batch...)
			for len(padded) < bs {
				padded = append(padded, batch[cur-1])
			}
			batch = padded
		}
		b = batchInfo{offset: off, samples: cur, rows: len(batch), whole: f.anyWhole}
		for i := range names {
			if f.order[i] < 0 {
				feed[i] = nil
				continue
			}
			if err := gatherRows(bufs[i], ds.tensors[f.order[i]], batch); err != nil {
				return err
			}
			if f.whole[i] {
				bufs[i].Shape = bufs[i].Shape[1:]
			}
			feed[i] = bufs[i]
		}
		if err := sess.Run(ctx, feed); err != nil {
			return err
		}
		if br.after != nil {
			if err := br.after(b, sess); err != nil {
				return err
			}
		}
	}
	return nil
}

// Infer implements sdk.Target.
func (e *Engine) Infer(ctx context.Context, req *potv1.InferRequest) (*potv1.InferResponse, error) {
	m, err := e.model(req.GetModelId())
	if err != nil {
		return nil, err
	}
	c, release, err := m.program(e, req.GetPlan(), req.GetOutputs()...)
	if err != nil {
		return nil, err
	}
	defer release()
	names, watch, err := outputNames(c, req.GetOutputs())
	if err != nil {
		return nil, err
	}
	resp := &potv1.InferResponse{}
	if req.GetShapesOnly() && req.GetSamples() != nil {
		return e.inferShapes(ctx, c, req.GetSamples(), names, watch)
	}
	if req.GetSamples() != nil {
		acc := make([]*tensor.Tensor, len(names))
		err := e.runBatches(ctx, c, req.GetSamples(), batchRun{
			watch: watch,
			after: func(b batchInfo, sess *rt.Session) error {
				for i, w := range watch {
					if acc[i] == nil {
						acc[i] = &tensor.Tensor{}
					}
					// Batches are joined along the first axis, the batch's
					// (whole samples bring their own batch dimension).
					v, err := computed(sess, w, b)
					if err != nil {
						return err
					}
					if err := appendRows(acc[i], headRows(v, b.samples, b.rows)); err != nil {
						return fmt.Errorf("output %q: %w", names[i], err)
					}
				}
				return nil
			},
		})
		if err != nil {
			return nil, err
		}
		for i, n := range names {
			resp.Outputs = append(resp.Outputs, rt.ToProto(n, acc[i]))
		}
		return resp, nil
	}
	in := map[string]*tensor.Tensor{}
	for _, t := range req.GetInputs() {
		v, err := rt.FromProto(t)
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", t.GetName(), err)
		}
		in[t.GetName()] = v
	}
	res, err := c.prog.Run(ctx, in, watch...)
	if err != nil {
		return nil, rpcError(err)
	}
	for i, n := range names {
		if req.GetShapesOnly() {
			resp.Outputs = append(resp.Outputs, shapeOnly(n, res[watch[i]].DType, res[watch[i]].Shape))
			continue
		}
		resp.Outputs = append(resp.Outputs, rt.ToProto(n, res[watch[i]]))
	}
	return resp, nil
}

// inferShapes answers an InferRequest with shapes_only over samples: the
// type and dims each output would have, its batches joined along the
// first axis, without keeping any of its values.
func (e *Engine) inferShapes(ctx context.Context, c *compiled, samples *potv1.Samples, names, watch []string) (*potv1.InferResponse, error) {
	shapes := make([][]int, len(names))
	types := make([]tensor.DType, len(names))
	err := e.runBatches(ctx, c, samples, batchRun{
		watch: watch,
		after: func(b batchInfo, sess *rt.Session) error {
			for i, w := range watch {
				v, err := computed(sess, w, b)
				if err != nil {
					return err
				}
				v = headRows(v, b.samples, b.rows)
				switch {
				case shapes[i] == nil:
					shapes[i], types[i] = slices.Clone(v.Shape), v.DType
				case len(v.Shape) == 0 || len(v.Shape) != len(shapes[i]) || !slices.Equal(v.Shape[1:], shapes[i][1:]):
					return fmt.Errorf("output %q: a batch of shape %v does not join one of %v", names[i], v.Shape, shapes[i])
				default:
					shapes[i][0] += v.Shape[0]
				}
			}
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	resp := &potv1.InferResponse{}
	for i, n := range names {
		resp.Outputs = append(resp.Outputs, shapeOnly(n, types[i], shapes[i]))
	}
	return resp, nil
}

// shapeOnly is the wire tensor of a shapes_only answer: name, type and
// dims, no data.
func shapeOnly(name string, dt tensor.DType, shape []int) *potv1.Tensor {
	t := &potv1.Tensor{Name: name, Dtype: potv1.DataType(dt), Dims: make([]int64, len(shape))}
	for i, d := range shape {
		t.Dims[i] = int64(d)
	}
	return t
}

// outputNames resolves requested output names (the graph outputs by
// default) to the tensors that hold them under the plan.
func outputNames(c *compiled, req []string) (names, watch []string, err error) {
	names = req
	if len(names) == 0 {
		for _, o := range c.applied.Graph.GetOutputs() {
			names = append(names, o.GetName())
		}
	}
	watch = make([]string, len(names))
	for i, n := range names {
		watch[i] = n
		if !c.prog.Has(n) {
			return nil, nil, fmt.Errorf("no tensor %q in the model", n)
		}
	}
	return names, watch, nil
}

var errBatchLayout = errors.New("tensor does not have the batch as its first dimension")

// CollectStatistics implements sdk.Target: activations are reduced
// per sample as they are computed and aggregated over the samples; no
// activation is kept.
func (e *Engine) CollectStatistics(ctx context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	m, err := e.model(req.GetModelId())
	if err != nil {
		return nil, err
	}
	var probed []string
	for _, p := range req.GetProbes() {
		probed = append(probed, p.GetTensor())
	}
	c, release, err := m.program(e, req.GetPlan(), probed...)
	if err != nil {
		return nil, err
	}
	defer release()
	resp, err := e.collect(ctx, c, req.GetProbes(), req.GetSamples())
	if errors.Is(err, errBatchLayout) && req.GetSamples().GetBatchSize() != 1 {
		// Some probed tensor does not hold the samples along its first
		// axis (attention's [tokens, N, C], a reshape across the batch):
		// reduce one sample at a time.
		one := &potv1.Samples{DataId: req.GetSamples().GetDataId(), Indices: req.GetSamples().GetIndices(), BatchSize: 1}
		resp, err = e.collect(ctx, c, req.GetProbes(), one)
	}
	return resp, err
}

func (e *Engine) collect(ctx context.Context, c *compiled, probes []*potv1.StatisticProbe, samples *potv1.Samples) (*potv1.StatisticsResponse, error) {
	accs := make([]*stats.Accumulator, len(probes))
	byTensor := map[string][]int{}
	for i, p := range probes {
		var err error
		if accs[i], err = stats.NewAccumulator(p.GetAggregator(), p.GetOutlierLow(), p.GetOutlierHigh()); err != nil {
			return nil, fmt.Errorf("probe %q: %w", p.GetId(), err)
		}
		src := c.applied.Source(p.GetTensor())
		if !c.prog.Has(src) {
			return nil, fmt.Errorf("probe %q: no tensor %q in the model", p.GetId(), p.GetTensor())
		}
		byTensor[src] = append(byTensor[src], i)
	}
	watch := make([]string, 0, len(byTensor))
	for n := range byTensor {
		watch = append(watch, n)
	}
	sort.Strings(watch)
	_, idx, f, err := e.batching(c, samples)
	if err != nil {
		return nil, err
	}
	// Whether a tensor computed for a batch holds the samples along its
	// first axis cannot be told from its size alone (ViT's [tokens, N, C]
	// with 50 tokens, in a batch of 50): compare it with the tensor's
	// shape for one sample run alone. A model with a fixed batch of N > 1
	// cannot run one sample alone; there a first axis of N is the batch.
	var alone sampleShapes
	if f.batch > 1 && !f.fixed && len(idx) > 1 {
		if alone, err = e.sampleShapes(ctx, c, samples.GetDataId(), idx[0], watch); err != nil {
			return nil, err
		}
		for _, n := range watch {
			for _, s := range alone[n] {
				if len(s) == 0 || s[0] != 1 {
					return nil, fmt.Errorf("tensor %q of shape %v for one sample: %w", n, s, errBatchLayout)
				}
			}
		}
	}
	// A tensor inside a subgraph is computed for the samples that run it:
	// count, per tensor, the samples of the batches that computed it.
	computedIn := map[string]int{} // tensor -> offset+1 of the last batch
	computedFor := map[string]int{}
	total := 0
	// The values of a batch are reduced sample by sample as they are
	// computed, in the chunks of a sample-parallel run concurrently, and
	// the reductions are added to the accumulators after the batch, in
	// sample order: the same additions in the same order whether the
	// batch ran whole or in chunks, so the same statistics to the bit.
	var (
		mu      sync.Mutex
		records []reduced
		pool    = sync.Pool{New: func() any { return new(reduceScratch) }}
	)
	onSamples := func(b batchInfo, name string, first, rows int, t *tensor.Tensor) error {
		if rows == 0 { // the whole batch
			rows = b.rows
		}
		n := min(rows, b.samples-first) // samples, not padding
		if n <= 0 {
			return nil
		}
		t = headRows(t, n, rows)
		sc := pool.Get().(*reduceScratch)
		defer pool.Put(sc)
		data, err := asFloat32(t, &sc.f32)
		if err != nil {
			return fmt.Errorf("tensor %q: %w", name, err)
		}
		shape := t.Shape
		if n > 1 && alone != nil && !alone.batched(name, shape, n) {
			return fmt.Errorf("tensor %q of shape %v (for one sample: %v): %w", name, shape, alone[name], errBatchLayout)
		}
		if len(shape) == 0 || shape[0] != n {
			if n != 1 || b.samples != 1 {
				return fmt.Errorf("tensor %q of shape %v: %w", name, shape, errBatchLayout)
			}
			shape = append([]int{1}, shape...)
		}
		per := tensor.NumElements(shape[1:])
		r := reduced{name: name, first: first, values: make([][][]float32, len(byTensor[name]))}
		for j, pi := range byTensor[name] {
			p := probes[pi]
			axis := int(p.GetChannelAxis()) - 1
			if p.GetPerChannel() && axis < 0 {
				return fmt.Errorf("probe %q: channel axis %d is the batch axis", p.GetId(), p.GetChannelAxis())
			}
			r.values[j] = make([][]float32, n)
			for s := 0; s < n; s++ {
				v, err := stats.Reduce(p.GetReducer(), p.GetQuantile(), data[s*per:(s+1)*per], shape[1:], p.GetPerChannel(), axis, &sc.scratch)
				if err != nil {
					return fmt.Errorf("probe %q: %w", p.GetId(), err)
				}
				r.values[j][s] = v
			}
		}
		mu.Lock()
		records = append(records, r)
		mu.Unlock()
		return nil
	}
	after := func(b batchInfo, _ *rt.Session) error {
		total += b.samples
		// Calls on one tensor come in order within a run of the whole
		// batch (several for a loop body's tensor), or once per chunk:
		// ordered by first sample, they are in sample order either way.
		slices.SortStableFunc(records, func(x, y reduced) int { return x.first - y.first })
		for _, r := range records {
			if computedIn[r.name] != b.offset+1 {
				computedIn[r.name] = b.offset + 1
				computedFor[r.name] += b.samples
			}
			for j, pi := range byTensor[r.name] {
				for _, v := range r.values[j] {
					if err := accs[pi].Add(v); err != nil {
						return fmt.Errorf("probe %q: %w", probes[pi].GetId(), err)
					}
				}
			}
		}
		records = records[:0]
		return nil
	}
	if err := e.runBatches(ctx, c, samples, batchRun{watch: watch, onSamples: onSamples, after: after}); err != nil {
		return nil, err
	}
	resp := &potv1.StatisticsResponse{Samples: int64(total)}
	for i, p := range probes {
		src := c.applied.Source(p.GetTensor())
		sv := &potv1.StatisticValue{ProbeId: p.GetId(), Samples: int64(computedFor[src])}
		// Without samples (a tensor in a subgraph no sample ran) the
		// probe has no value.
		if accs[i].Samples() > 0 {
			v, dims, err := accs[i].Result()
			if err != nil {
				return nil, fmt.Errorf("probe %q: %w", p.GetId(), err)
			}
			sv.Values, sv.Dims = v, dims
		}
		resp.Values = append(resp.Values, sv)
	}
	return resp, nil
}

// reduced holds one call's per-sample reductions of a watched tensor:
// values[j][s] is probe byTensor[name][j] of sample first+s.
type reduced struct {
	name   string
	first  int
	values [][][]float32
}

// reduceScratch is one goroutine's buffers for reducing values.
type reduceScratch struct {
	f32     tensor.Tensor
	scratch []float32
}

// sampleShapes are the shapes tensors have when one sample runs alone:
// one per tensor, several for a tensor that a loop body computes at each
// iteration, none for a tensor of a branch the sample does not run.
type sampleShapes map[string][][]int

// sampleShapes runs sample i of a data set alone and records the shapes
// of the watched tensors.
func (e *Engine) sampleShapes(ctx context.Context, c *compiled, dataID string, i int, watch []string) (sampleShapes, error) {
	one := sampleShapes{}
	err := e.runBatches(ctx, c, &potv1.Samples{DataId: dataID, Indices: []int64{int64(i)}, BatchSize: 1}, batchRun{
		watch: watch,
		onValue: func(_ batchInfo, name string, t *tensor.Tensor) error {
			for _, s := range one[name] {
				if slices.Equal(s, t.Shape) {
					return nil
				}
			}
			one[name] = append(one[name], slices.Clone(t.Shape))
			return nil
		},
	})
	return one, err
}

// batched reports whether a tensor of this shape, computed for a batch
// of n samples, holds them along its first axis: whether its shape is
// [n, d...] where [1, d...] is a shape it has for one sample alone. A
// first axis of size n that is not the batch's (tokens as many as the
// samples) keeps its size for one sample.
func (one sampleShapes) batched(name string, shape []int, n int) bool {
	if len(shape) == 0 || shape[0] != n {
		return false
	}
	for _, s := range one[name] {
		if len(s) == len(shape) && s[0] == 1 && slices.Equal(s[1:], shape[1:]) {
			return true
		}
	}
	return false
}

// Evaluate implements sdk.Target.
func (e *Engine) Evaluate(ctx context.Context, req *potv1.EvaluateRequest, send func(*potv1.EvaluateResponse) error) error {
	m, err := e.model(req.GetModelId())
	if err != nil {
		return err
	}
	c, release, err := m.program(e, req.GetPlan(), req.GetOutputs()...)
	if err != nil {
		return err
	}
	defer release()
	names, watch, err := outputNames(c, req.GetOutputs())
	if err != nil {
		return err
	}
	k := int(req.GetTopK())
	var f32 tensor.Tensor
	co := newCoalescer(send, names, e.responseEvery, responseBytes)
	outs := make([]*tensor.Tensor, len(watch))
	err = e.runBatches(ctx, c, req.GetSamples(), batchRun{
		watch: watch,
		after: func(b batchInfo, sess *rt.Session) error {
			n := b.samples
			for i, w := range watch {
				v, err := computed(sess, w, b)
				if err != nil {
					return err
				}
				v = headRows(v, n, b.rows)
				if k <= 0 {
					outs[i] = v
					continue
				}
				data, err := asFloat32(v, &f32)
				if err != nil {
					return fmt.Errorf("output %q: %w", names[i], err)
				}
				outs[i] = topK(data, n, k)
			}
			return co.add(b.offset, n, outs, !b.whole)
		},
	})
	if err != nil {
		return err
	}
	return co.flush()
}

// computed returns a watched tensor after a batch ran, or an error when
// the batch did not compute it (it sits in a subgraph, such as an If
// branch, that the batch did not run).
func computed(sess *rt.Session, name string, b batchInfo) (*tensor.Tensor, error) {
	if v := sess.Value(name); v != nil {
		return v, nil
	}
	return nil, fmt.Errorf("tensor %q was not computed for samples %d to %d: the subgraph that computes it did not run", name, b.offset, b.offset+b.samples-1)
}

// rpcError marks an error of an operator the runtime does not implement
// (found only at run time, for example from an input value) with the
// Unimplemented code, so that callers can tell it from a wrong result.
func rpcError(err error) error {
	if ops.IsUnsupported(err) {
		return status.Error(codes.Unimplemented, err.Error())
	}
	return err
}
