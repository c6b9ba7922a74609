package pipeline

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// Result of evaluating a plan on the evaluation data.
type Result struct {
	Metric  string
	Value   float64
	Samples int
}

// Measure evaluates a plan (nil: the float model) on the evaluation data.
func (s *Session) Measure(ctx context.Context, plan *potv1.QuantizationPlan) (*Result, error) {
	return s.evals.measure(ctx, plan)
}

// evaluator measures plans on the session's data sets with the run's
// metric, on the session's target or on a free worker of its pool. It
// keeps the last full-set evaluations and the float model's predictions
// per data set; it is safe for concurrent use.
type evaluator struct {
	target  plugins.Target // the session's target
	modelID string         // the session's model
	eval    *data          // the evaluation data, which the pool's workers hold
	calib   *data          // the calibration data, which they hold too
	pool    *workerPool    // nil: the session's target only
	// batch is the target's batch size (0: not said); evaluations spread
	// over the pool in ranges of multiples of it.
	batch int
	// metric is Options.Metric; output is Options.Output.
	metric, output string
	progress       func(stage string, done, total int64)

	cache  *evalCache
	refs   *floatRefs
	floats *floatOutputCache
}

// newEvaluator returns an evaluator of the session's model on target
// (pool is set once workers start).
func newEvaluator(target plugins.Target, modelID string, eval *data, metric, output string, progress func(string, int64, int64)) *evaluator {
	return &evaluator{target: target, modelID: modelID, eval: eval, metric: metric, output: output, progress: progress,
		cache: newEvalCache(evalCacheSize), refs: newFloatRefs(), floats: newFloatOutputCache(floatOutputsMax)}
}

// measure is Session.Measure.
func (e *evaluator) measure(ctx context.Context, plan *potv1.QuantizationPlan) (*Result, error) {
	if e.eval == nil {
		return nil, fmt.Errorf("no evaluation data")
	}
	r, err := e.evaluate(ctx, e.modelID, plan, e.eval, nil, "", "", 0)
	if err != nil {
		return nil, err
	}
	return &Result{Metric: r.GetMetric(), Value: r.GetValue(), Samples: int(r.GetSamples())}, nil
}

// metricName is the metric of evaluations on d that name none: spec
// (Options.Metric), else top1 with labels, agreement without.
func metricName(spec string, d *data) string {
	if spec != "" {
		return spec
	}
	if d != nil && d.labels != nil {
		return "top1"
	}
	return "agreement"
}

// outputs of a model over samples: per sample the top-k class indices,
// and optionally the whole first output.
type outputs struct {
	top  [][]int64
	full [][]float32
}

func (e *evaluator) infer(ctx context.Context, model string, plan *potv1.QuantizationPlan, d *data, idx []int64, k int, full bool) (*outputs, error) {
	n := len(idx)
	if n == 0 {
		n = d.n
	}
	out := &outputs{top: make([][]int64, n)}
	if full {
		out.full = make([][]float32, n)
	}
	kk := k
	if full {
		kk = 0
	}
	stage := "evaluate on " + d.name + " data"
	e.progress(stage, 0, int64(n))
	var done atomic.Int64
	// run evaluates samples [lo, hi) of the request on t, writing their
	// outputs at their positions.
	run := func(t plugins.Target, model, dataID string, lo, hi int) error {
		req := evalRequest(model, plan, dataID, sampleRange(idx, lo, hi, n), kk)
		if e.output != "" {
			req.Outputs = []string{e.output}
		}
		got := 0
		err := t.Evaluate(ctx, req, func(r *potv1.EvaluateResponse) error {
			if len(r.GetOutputs()) == 0 {
				return fmt.Errorf("evaluation returned no output")
			}
			t := r.GetOutputs()[0]
			b := int(r.GetSamples())
			if b == 0 { // a target that does not say: the batch is the first dimension
				dims := t.GetDims()
				if len(dims) == 0 {
					return fmt.Errorf("output %q is a scalar", t.GetName())
				}
				b = int(dims[0])
			}
			off := lo + int(r.GetOffset())
			if off+b > hi {
				return fmt.Errorf("evaluation returned samples past the %d asked for", hi-lo)
			}
			if full {
				vals, err := graph.Float32s(t)
				if err != nil {
					return err
				}
				per := len(vals) / max(b, 1)
				for i := 0; i < b; i++ {
					row := vals[i*per : (i+1)*per]
					out.full[off+i] = row
					out.top[off+i] = topIndices(row, k)
				}
			} else {
				top, err := graph.Int64s(t)
				if err != nil {
					return fmt.Errorf("top-k output: %w", err)
				}
				kk := len(top) / max(b, 1)
				for i := 0; i < b; i++ {
					out.top[off+i] = top[i*kk : (i+1)*kk]
				}
			}
			got += b
			e.progress(stage, done.Add(int64(b)), int64(n))
			return nil
		})
		if err != nil {
			done.Add(-int64(got)) // the range runs again elsewhere
		}
		return err
	}
	var err error
	if e.pool != nil && e.batch > 0 && model == e.modelID && (d == e.eval || d == e.calib) {
		// Every worker holds the model and the data: spread the samples
		// over them in ranges cut at batch boundaries, so that each batch
		// holds the samples it holds on one target.
		err = e.pool.spread(ctx, n, e.batch, func(w *worker, lo, hi int) error {
			return run(w.target, w.modelID, w.dataID(d, e.eval, e.calib), lo, hi)
		})
	} else {
		err = e.withWorker(ctx, model, d, func(t plugins.Target, model, dataID string) error {
			return run(t, model, dataID, 0, n)
		})
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// evaluate computes the metric (and per-sample values, and distances to
// the float model when asked) of a plan on a data set. metric overrides
// the run's metric ("agreement" for annotation-free search); with the
// agreement metric, samples whose float top-1 probability is below conf
// are left out (their per-sample value is NaN).
func (e *evaluator) evaluate(ctx context.Context, model string, plan *potv1.QuantizationPlan, d *data, idx []int64, distance, metric string, conf float64) (*potv1.HostEvaluateResponse, error) {
	if metric == "" {
		metric = metricName(e.metric, d)
	}
	// Full-set evaluations repeat (the accuracy-aware search measures the
	// float and default models that quantize --eval-data measures again):
	// keep the last few.
	var key string
	if len(idx) == 0 {
		key = evalKey(model, plan, d.id, distance, metric, conf)
		if r, ok := e.cache.get(key); ok {
			return r, nil
		}
	}
	r, err := e.evaluateUncached(ctx, model, plan, d, idx, distance, metric, conf)
	if err == nil && key != "" {
		e.cache.put(key, r)
	}
	return r, err
}

func (e *evaluator) evaluateUncached(ctx context.Context, model string, plan *potv1.QuantizationPlan, d *data, idx []int64, distance, metric string, conf float64) (*potv1.HostEvaluateResponse, error) {
	if metric != "top1" && metric != "agreement" {
		return e.evaluateMetric(ctx, model, plan, d, idx, distance, metric)
	}
	if metric == "top1" && d.labels == nil {
		return nil, fmt.Errorf("metric top1 needs labels; the %s data has none", d.name)
	}
	full := distance != ""
	var out *outputs
	var err error
	if plan == nil && model == e.modelID && (full || e.floats.has(d.id)) {
		// The float model: its kept outputs, or the whole set's, kept.
		out, err = e.floatOutputs(ctx, d, idx, 5)
	} else {
		out, err = e.infer(ctx, model, plan, d, idx, 5, full)
	}
	if err != nil {
		return nil, err
	}
	n := len(out.top)
	resp := &potv1.HostEvaluateResponse{Metric: metric, PerSample: make([]float64, n)}
	sample := func(i int) int {
		if len(idx) == 0 {
			return i
		}
		return int(idx[i])
	}
	var ref *floatRef
	if metric == "agreement" {
		if ref, err = e.floatReference(ctx, d); err != nil {
			return nil, err
		}
	}
	var sum float64
	kept := 0
	for i := 0; i < n; i++ {
		want := 0
		if metric == "top1" {
			want = d.labels[sample(i)]
		} else {
			if ref.conf[sample(i)] < conf {
				resp.PerSample[i] = math.NaN()
				continue
			}
			want = ref.top1[sample(i)]
		}
		kept++
		if len(out.top[i]) > 0 && int(out.top[i][0]) == want {
			resp.PerSample[i] = 1
			sum++
		}
	}
	resp.Samples = int64(kept)
	if kept > 0 {
		resp.Value = sum / float64(kept)
	}
	if full {
		fl, err := e.floatOutputs(ctx, d, idx, 1)
		if err != nil {
			return nil, err
		}
		resp.Distances = make([]float64, n)
		for i := 0; i < n; i++ {
			if resp.Distances[i], err = distanceOf(distance, fl.full[i], out.full[i]); err != nil {
				return nil, err
			}
		}
	}
	return resp, nil
}

// floatRef is the float model's top-1 and its softmax probability per
// sample: the reference of the annotation-free metric.
type floatRef struct {
	top1 []int
	conf []float64
}

// floatReference returns (and caches) the float model's predictions on a
// data set.
func (e *evaluator) floatReference(ctx context.Context, d *data) (*floatRef, error) {
	if ref, ok := e.refs.get(d.id); ok {
		return ref, nil
	}
	out, err := e.floatOutputs(ctx, d, nil, 1)
	if err != nil {
		return nil, err
	}
	ref := &floatRef{top1: make([]int, len(out.top)), conf: make([]float64, len(out.top))}
	for i, t := range out.top {
		ref.top1[i] = int(t[0])
		ref.conf[i] = softmaxMax(out.full[i])
	}
	e.refs.put(d.id, ref)
	return ref, nil
}

// floatOutputs returns the float model's whole first output on samples
// idx of d (nil: all), with each sample's top k. The outputs on the whole
// set are inferred once per data set and kept (when they hold at most
// floatOutputsMax values): distances to the float model, reference
// metrics and the annotation-free metric's predictions all compare with
// them, and later float metrics on the set read them.
func (e *evaluator) floatOutputs(ctx context.Context, d *data, idx []int64, k int) (*outputs, error) {
	all, ok := e.floats.get(d.id)
	if !ok {
		if len(idx) > 0 {
			return e.infer(ctx, e.modelID, nil, d, idx, k, true)
		}
		out, err := e.infer(ctx, e.modelID, nil, d, nil, k, true)
		if err != nil {
			return nil, err
		}
		e.floats.put(d.id, out.full)
		return out, nil
	}
	n := len(idx)
	if n == 0 {
		n = len(all)
	}
	out := &outputs{top: make([][]int64, n), full: make([][]float32, n)}
	for i := range out.full {
		j := i
		if len(idx) > 0 {
			j = int(idx[i])
			if j < 0 || j >= len(all) {
				return nil, fmt.Errorf("sample %d of %d", j, len(all))
			}
		}
		out.full[i] = all[j]
		out.top[i] = topIndices(all[j], k)
	}
	return out, nil
}

// softmaxMax is the largest softmax probability of logits.
func softmaxMax(logits []float32) float64 {
	if len(logits) == 0 {
		return 0
	}
	m := float64(logits[0])
	for _, v := range logits {
		m = math.Max(m, float64(v))
	}
	var z float64
	for _, v := range logits {
		z += math.Exp(float64(v) - m)
	}
	return 1 / z
}

func topIndices(row []float32, k int) []int64 {
	k = min(k, len(row))
	out := make([]int64, 0, k)
	used := make([]bool, len(row))
	for len(out) < k {
		best := -1
		for i, v := range row {
			if !used[i] && (best < 0 || v > row[best]) {
				best = i
			}
		}
		used[best] = true
		out = append(out, int64(best))
	}
	return out
}

// distanceOf compares a float output with a quantized one.
func distanceOf(kind string, ref, got []float32) (float64, error) {
	if len(ref) != len(got) {
		return 0, fmt.Errorf("outputs differ in size: %d and %d", len(ref), len(got))
	}
	switch kind {
	case "cosine":
		var dot, na, nb float64
		for i := range ref {
			a, b := float64(ref[i]), float64(got[i])
			dot += a * b
			na += a * a
			nb += b * b
		}
		if na == 0 || nb == 0 {
			if na == nb {
				return 0, nil
			}
			return 1, nil
		}
		return 1 - dot/math.Sqrt(na*nb), nil
	case "mse":
		var s float64
		for i := range ref {
			d := float64(ref[i] - got[i])
			s += d * d
		}
		return s / float64(len(ref)), nil
	case "nmse":
		var s, n float64
		for i := range ref {
			d := float64(ref[i] - got[i])
			s += d * d
			n += float64(ref[i]) * float64(ref[i])
		}
		if n == 0 {
			return s, nil
		}
		return s / n, nil
	}
	return 0, fmt.Errorf("unknown distance %q (cosine, mse, nmse)", kind)
}
