package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/stats"
	rt "github.com/potgo/pot/targets/runtime"
	"github.com/potgo/pot/targets/runtime/ops"
	"github.com/potgo/pot/targets/runtime/tensor"
)

// batchRun says what to do while running a data set in batches.
type batchRun struct {
	// watch lists tensors kept for after (sess.Value) and passed to
	// onValue as they are computed, with the number of samples of the
	// current batch.
	watch   []string
	onValue func(samples int, name string, t *tensor.Tensor) error
	// after is called once per batch, after it ran.
	after func(offset, samples int, sess *rt.Session) error
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

// runBatches runs the selected samples through a compiled program.
func (e *Engine) runBatches(ctx context.Context, c *compiled, s *potv1.Samples, br batchRun) error {
	ds, idx, bs, err := e.selection(s)
	if err != nil {
		return err
	}
	names := c.prog.InputNames()
	order := make([]int, len(names)) // program input -> data set input
	for i, n := range names {
		order[i] = -1
		for j, dn := range ds.inputs {
			if dn == n {
				order[i] = j
			}
		}
		if order[i] < 0 && len(names) == 1 && len(ds.inputs) == 1 {
			order[i] = 0
		}
		if order[i] < 0 {
			return fmt.Errorf("the data set has no input %q (it has %v)", n, ds.inputs)
		}
	}
	sess := c.prog.NewSession()
	cur := 0
	var fn func(string, *tensor.Tensor) error
	if br.onValue != nil {
		fn = func(name string, t *tensor.Tensor) error { return br.onValue(cur, name, t) }
	}
	if err := sess.Watch(br.watch, fn); err != nil {
		return err
	}
	bufs := make([]*tensor.Tensor, len(names))
	for i := range bufs {
		bufs[i] = &tensor.Tensor{}
	}
	for off := 0; off < len(idx); off += bs {
		if err := ctx.Err(); err != nil {
			return err
		}
		cur = min(bs, len(idx)-off)
		for i := range names {
			if err := gatherRows(bufs[i], ds.tensors[order[i]], idx[off:off+cur]); err != nil {
				return err
			}
		}
		if err := sess.Run(ctx, bufs); err != nil {
			return err
		}
		if br.after != nil {
			if err := br.after(off, cur, sess); err != nil {
				return err
			}
		}
	}
	return nil
}

// Infer implements plugins.Target.
func (e *Engine) Infer(ctx context.Context, req *potv1.InferRequest) (*potv1.InferResponse, error) {
	m, err := e.model(req.GetModelId())
	if err != nil {
		return nil, err
	}
	c, release, err := m.program(e.cfg, req.GetPlan(), req.GetOutputs()...)
	if err != nil {
		return nil, err
	}
	defer release()
	names, watch, err := outputNames(c, req.GetOutputs())
	if err != nil {
		return nil, err
	}
	resp := &potv1.InferResponse{}
	if req.GetSamples() != nil {
		acc := make([]*tensor.Tensor, len(names))
		err := e.runBatches(ctx, c, req.GetSamples(), batchRun{
			watch: watch,
			after: func(_, _ int, sess *rt.Session) error {
				for i, w := range watch {
					if acc[i] == nil {
						acc[i] = &tensor.Tensor{}
					}
					if err := appendRows(acc[i], sess.Value(w)); err != nil {
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
		resp.Outputs = append(resp.Outputs, rt.ToProto(n, res[watch[i]]))
	}
	return resp, nil
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

// CollectStatistics implements plugins.Target: activations are reduced
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
	c, release, err := m.program(e.cfg, req.GetPlan(), probed...)
	if err != nil {
		return nil, err
	}
	defer release()
	resp, err := e.collect(ctx, c, req.GetProbes(), req.GetSamples())
	if errors.Is(err, errBatchLayout) && req.GetSamples().GetBatchSize() != 1 {
		// Some probed tensor mixes samples (a reshape across the batch):
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
	var scratch []float32
	var f32 tensor.Tensor
	onValue := func(batch int, name string, t *tensor.Tensor) error {
		data, err := asFloat32(t, &f32)
		if err != nil {
			return fmt.Errorf("tensor %q: %w", name, err)
		}
		shape := t.Shape
		if len(shape) == 0 || shape[0] != batch {
			if batch != 1 {
				return fmt.Errorf("tensor %q of shape %v: %w", name, shape, errBatchLayout)
			}
			shape = append([]int{1}, shape...)
		}
		per := tensor.NumElements(shape[1:])
		for _, pi := range byTensor[name] {
			p := probes[pi]
			axis := int(p.GetChannelAxis()) - 1
			if p.GetPerChannel() && axis < 0 {
				return fmt.Errorf("probe %q: channel axis %d is the batch axis", p.GetId(), p.GetChannelAxis())
			}
			for s := 0; s < batch; s++ {
				v, err := stats.Reduce(p.GetReducer(), p.GetQuantile(), data[s*per:(s+1)*per], shape[1:], p.GetPerChannel(), axis, &scratch)
				if err != nil {
					return fmt.Errorf("probe %q: %w", p.GetId(), err)
				}
				if err := accs[pi].Add(v); err != nil {
					return fmt.Errorf("probe %q: %w", p.GetId(), err)
				}
			}
		}
		return nil
	}
	if err := e.runBatches(ctx, c, samples, batchRun{watch: watch, onValue: onValue}); err != nil {
		return nil, err
	}
	resp := &potv1.StatisticsResponse{}
	for i, p := range probes {
		v, dims, err := accs[i].Result()
		if err != nil {
			return nil, fmt.Errorf("probe %q: %w", p.GetId(), err)
		}
		resp.Values = append(resp.Values, &potv1.StatisticValue{ProbeId: p.GetId(), Values: v, Dims: dims})
		resp.Samples = int64(accs[i].Samples())
	}
	return resp, nil
}

// Evaluate implements plugins.Target.
func (e *Engine) Evaluate(ctx context.Context, req *potv1.EvaluateRequest, send func(*potv1.EvaluateResponse) error) error {
	m, err := e.model(req.GetModelId())
	if err != nil {
		return err
	}
	c, release, err := m.program(e.cfg, req.GetPlan(), req.GetOutputs()...)
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
	return e.runBatches(ctx, c, req.GetSamples(), batchRun{
		watch: watch,
		after: func(off, n int, sess *rt.Session) error {
			resp := &potv1.EvaluateResponse{Offset: int64(off)}
			for i, w := range watch {
				v := sess.Value(w)
				if k <= 0 {
					resp.Outputs = append(resp.Outputs, rt.ToProto(names[i], v))
					continue
				}
				data, err := asFloat32(v, &f32)
				if err != nil {
					return fmt.Errorf("output %q: %w", names[i], err)
				}
				resp.Outputs = append(resp.Outputs, rt.ToProto(names[i], topK(data, n, k)))
			}
			return send(resp)
		},
	})
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
