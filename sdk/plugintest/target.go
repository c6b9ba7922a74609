package plugintest

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
)

// TestTarget runs the target conformance suite against impl, served
// in-process through go-plugin's test mode.
func TestTarget(t *testing.T, impl sdk.Target, opts ...Option) {
	t.Helper()
	obs := &observedTarget{Target: impl}
	conn := &Conn{Target: ServeTarget(t, obs)}
	targetSuite(t, conn, obs, newConfig(opts))
}

// TestTargetBinary runs the target conformance suite against a target
// plugin binary, started out of process as pot starts it.
func TestTargetBinary(t *testing.T, path string, opts ...Option) {
	t.Helper()
	c := newConfig(opts)
	if c.name == "" {
		c.name = nameOf(plugins.KindTarget, path)
	}
	targetSuite(t, StartTarget(t, path), nil, c)
}

// observedTarget notes when the implementation's CollectStatistics calls
// return, to check that cancellation reaches the implementation.
type observedTarget struct {
	sdk.Target
	mu       sync.Mutex
	inFlight int
	idle     chan struct{}
}

func (o *observedTarget) CollectStatistics(ctx context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	o.mu.Lock()
	o.inFlight++
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		o.inFlight--
		if o.inFlight == 0 && o.idle != nil {
			close(o.idle)
			o.idle = nil
		}
		o.mu.Unlock()
	}()
	return o.Target.CollectStatistics(ctx, req)
}

// whenIdle returns a channel closed once no CollectStatistics runs.
func (o *observedTarget) whenIdle() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	ch := make(chan struct{})
	if o.inFlight == 0 {
		close(ch)
	} else {
		o.idle = ch
	}
	return ch
}

const referenceSamples = 64

func targetSuite(t *testing.T, conn *Conn, obs *observedTarget, c *config) {
	t.Helper()
	tg := conn.Target
	ctx := func(t *testing.T) context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		t.Cleanup(cancel)
		return ctx
	}
	ref := ReferenceModel(referenceSamples)
	var desc *potv1.TargetDescription
	t.Run("describe", func(t *testing.T) {
		d, err := tg.Describe(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		desc = d
		if err := CheckTargetDescription(d, c.name); err != nil {
			t.Error(err)
		}
	})
	var modelID, dataID string
	t.Run("load and fetch", func(t *testing.T) {
		resp, err := tg.LoadModel(ctx(t), ref.Graph)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetUnsupported()) > 0 || resp.GetModelId() == "" {
			t.Fatalf("LoadModel of MatMul, Add and Relu: %v", resp)
		}
		modelID = resp.GetModelId()
		back, err := tg.Model(ctx(t), modelID)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(back, ref.Graph) {
			t.Error("FetchModel returned another graph than the one loaded")
		}
		if dataID, err = tg.UploadData(ctx(t), ref.Data); err != nil || dataID == "" {
			t.Fatalf("UploadData: %q, %v", dataID, err)
		}
	})
	if modelID == "" || dataID == "" {
		t.Fatal("plugintest: the reference model could not be loaded; the remaining checks need it")
	}
	t.Run("infer", func(t *testing.T) {
		resp, err := tg.Infer(ctx(t), &potv1.InferRequest{ModelId: modelID, Samples: &potv1.Samples{DataId: dataID, BatchSize: 16},
			Outputs: []string{"mm", "biased", "out"}})
		if err != nil {
			t.Fatal(err)
		}
		checkOutputs(t, ref, resp.GetOutputs(), []string{"mm", "biased", "out"}, c.tolerance)
		// Inputs given in the request instead of a data set.
		resp, err = tg.Infer(ctx(t), &potv1.InferRequest{ModelId: modelID, Inputs: ref.Data.Tensors})
		if err != nil {
			t.Fatal(err)
		}
		checkOutputs(t, ref, resp.GetOutputs(), []string{"out"}, c.tolerance)
	})
	t.Run("infer shapes only", func(t *testing.T) {
		// Batches of 16 over the reference's samples: the shapes join
		// along the first axis, and no values travel.
		names := []string{"mm", "biased", "out"}
		full, err := tg.Infer(ctx(t), &potv1.InferRequest{ModelId: modelID, Samples: &potv1.Samples{DataId: dataID, BatchSize: 16}, Outputs: names})
		if err != nil {
			t.Fatal(err)
		}
		only, err := tg.Infer(ctx(t), &potv1.InferRequest{ModelId: modelID, Samples: &potv1.Samples{DataId: dataID, BatchSize: 16}, Outputs: names, ShapesOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(only.GetOutputs()) != len(names) {
			t.Fatalf("%d outputs, want %d", len(only.GetOutputs()), len(names))
		}
		for i, o := range only.GetOutputs() {
			f := full.GetOutputs()[i]
			if o.GetName() != names[i] || o.GetDtype() != f.GetDtype() || !slices.Equal(o.GetDims(), f.GetDims()) {
				t.Errorf("shapes only: %s %v %v, want %s %v %v", o.GetName(), o.GetDtype(), o.GetDims(), names[i], f.GetDtype(), f.GetDims())
			}
			if len(o.GetData()) != 0 || len(o.GetStringData()) != 0 {
				t.Errorf("shapes only: %s carries %d bytes of data", o.GetName(), len(o.GetData()))
			}
		}
	})
	t.Run("evaluate", func(t *testing.T) {
		var got []float32
		next := int64(0)
		err := tg.Evaluate(ctx(t), &potv1.EvaluateRequest{ModelId: modelID, Samples: &potv1.Samples{DataId: dataID, BatchSize: 16}},
			func(r *potv1.EvaluateResponse) error {
				if r.GetOffset() != next || len(r.GetOutputs()) != 1 {
					return errors.New("batches out of order or without one output")
				}
				v, err := floatValues(r.GetOutputs()[0])
				if err != nil {
					return err
				}
				next += r.GetOutputs()[0].GetDims()[0]
				got = append(got, v...)
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		if err := compareValues("out", got, ref.Values["out"], c.tolerance, ref.scale("out")); err != nil {
			t.Error(err)
		}
	})
	t.Run("statistics", func(t *testing.T) {
		probes := ReferenceProbes()
		resp, err := tg.CollectStatistics(ctx(t), &potv1.StatisticsRequest{ModelId: modelID,
			Samples: &potv1.Samples{DataId: dataID, BatchSize: 16}, Probes: probes})
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckStatistics(ref, probes, resp, c.tolerance); err != nil {
			t.Error(err)
		}
	})
	t.Run("plan", func(t *testing.T) {
		q, ok := inputQuantizer(desc, ref)
		if !ok {
			t.Skip("the hardware config has no activation option for MatMul")
		}
		p := &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{q}}
		if err := CheckPlan(ref.Graph, p); err != nil {
			t.Fatalf("the kit's plan: %v", err)
		}
		resp, err := tg.Infer(ctx(t), &potv1.InferRequest{ModelId: modelID, Plan: p, Samples: &potv1.Samples{DataId: dataID}, Outputs: []string{"mm"}})
		if err != nil {
			t.Fatal(err)
		}
		// Targets may run quantized operators with their own integer or
		// float16 arithmetic: the outputs must stay near the fake-quantized
		// float reference, within a looser bound.
		checkOutputs(t, ref.withQuantizedInput(q), resp.GetOutputs(), []string{"mm"}, max(4*c.tolerance, 0.02))
	})
	t.Run("cancellation", func(t *testing.T) {
		checkTargetCancellation(t, tg, obs, c)
	})
	t.Run("errors", func(t *testing.T) {
		bad := "no-such-model"
		calls := map[string]error{}
		_, calls["Infer with an unknown model"] = tg.Infer(ctx(t), &potv1.InferRequest{ModelId: bad, Samples: &potv1.Samples{DataId: dataID}})
		_, calls["CollectStatistics with an unknown model"] = tg.CollectStatistics(ctx(t), &potv1.StatisticsRequest{ModelId: bad,
			Samples: &potv1.Samples{DataId: dataID}, Probes: ReferenceProbes()[:1]})
		calls["Evaluate with an unknown model"] = tg.Evaluate(ctx(t), &potv1.EvaluateRequest{ModelId: bad, Samples: &potv1.Samples{DataId: dataID}},
			func(*potv1.EvaluateResponse) error { return nil })
		_, calls["FetchModel with an unknown model"] = tg.Model(ctx(t), bad)
		_, calls["Infer with an unknown data set"] = tg.Infer(ctx(t), &potv1.InferRequest{ModelId: modelID, Samples: &potv1.Samples{DataId: "no-such-data"}})
		_, calls["CollectStatistics of an unknown tensor"] = tg.CollectStatistics(ctx(t), &potv1.StatisticsRequest{ModelId: modelID,
			Samples: &potv1.Samples{DataId: dataID}, Probes: []*potv1.StatisticProbe{{Id: "p", Tensor: "no-such-tensor", Reducer: potv1.Reducer_REDUCER_MAX, Aggregator: potv1.Aggregator_AGGREGATOR_MAX}}})
		for name, err := range calls {
			if err == nil {
				t.Errorf("%s: no error", name)
			}
		}
		g := proto.Clone(ref.Graph).(*potv1.Graph)
		g.Nodes[2].OpType = "NoSuchOperator"
		resp, err := tg.LoadModel(ctx(t), g)
		if err == nil && len(resp.GetUnsupported()) == 0 {
			t.Error("LoadModel of an unknown operator: neither an error nor an unsupported node")
		}
	})
	t.Run("alive", func(t *testing.T) {
		if conn.Exited() {
			t.Fatal("the plugin process ended during the suite")
		}
		if _, err := tg.Describe(ctx(t)); err != nil {
			t.Fatalf("Describe after the suite: %v", err)
		}
		if err := tg.UnloadModel(ctx(t), modelID); err != nil {
			t.Errorf("UnloadModel: %v", err)
		}
		if _, err := tg.Infer(ctx(t), &potv1.InferRequest{ModelId: modelID, Samples: &potv1.Samples{DataId: dataID}}); err == nil {
			t.Error("Infer on an unloaded model succeeded")
		}
	})
}

// checkOutputs compares named outputs of an Infer with the reference.
func checkOutputs(t *testing.T, ref *Reference, outs []*potv1.Tensor, names []string, tol float64) {
	t.Helper()
	byName := map[string]*potv1.Tensor{}
	for _, o := range outs {
		byName[o.GetName()] = o
	}
	for _, n := range names {
		o := byName[n]
		if o == nil {
			t.Errorf("no output %q (got %d outputs)", n, len(outs))
			continue
		}
		v, err := floatValues(o)
		if err != nil {
			t.Error(err)
			continue
		}
		if err := compareValues(n, v, ref.Values[n], tol, ref.scale(n)); err != nil {
			t.Error(err)
		}
	}
}

// inputQuantizer builds, from the target's own hardware config, a
// quantizer on the MatMul's activation input.
func inputQuantizer(d *potv1.TargetDescription, ref *Reference) (*potv1.Quantizer, bool) {
	var opt *potv1.QuantizationOption
	for _, op := range d.GetHardwareConfig().GetOperations() {
		if op.GetType() == "MatMul" && len(op.GetActivations()) > 0 {
			opt = op.GetActivations()[0]
		}
	}
	if opt == nil || opt.GetBits() <= 0 || opt.GetBits() > 16 {
		return nil, false
	}
	levels := int64(1) << opt.GetBits()
	lo, hi := -(levels / 2), levels/2-1
	if opt.GetHasLevels() {
		lo, hi = opt.GetLevelLow(), opt.GetLevelHigh()
		levels = hi - lo + 1
	}
	minX, maxX := math.Inf(1), math.Inf(-1)
	for _, x := range ref.Values["X"] {
		minX, maxX = math.Min(minX, x), math.Max(maxX, x)
	}
	var il, ih float64
	if opt.GetMode() == potv1.QuantizationMode_QUANTIZATION_MODE_ASYMMETRIC {
		s := (maxX - minX) / float64(levels-1)
		zp := math.Round(-minX / s)
		il = -zp * s
		ih = il + s*float64(levels-1)
	} else {
		// Zero on the grid: level -lo of levels-1 steps.
		a := math.Max(-minX, maxX)
		s := a / float64(-lo)
		il, ih = float64(lo)*s, float64(hi)*s
	}
	return &potv1.Quantizer{
		Id: "plugintest/X", Location: &potv1.Location{Tensor: "X", Node: "matmul", Input: 0},
		Bits: opt.GetBits(), Levels: levels, LevelLow: lo, LevelHigh: hi,
		Mode: opt.GetMode(), Granularity: potv1.Granularity_GRANULARITY_PER_TENSOR,
		InputLow: []float32{float32(il)}, InputHigh: []float32{float32(ih)},
		OutputLow: []float32{float32(il)}, OutputHigh: []float32{float32(ih)},
		Consumers: []string{"matmul"},
	}, true
}

// withQuantizedInput returns the reference with X replaced by its
// fake-quantized values and mm recomputed.
func (r *Reference) withQuantizedInput(q *potv1.Quantizer) *Reference {
	out := &Reference{N: r.N, Values: map[string][]float64{}}
	il, ih := float64(q.GetInputLow()[0]), float64(q.GetInputHigh()[0])
	ol, oh := float64(q.GetOutputLow()[0]), float64(q.GetOutputHigh()[0])
	steps := float64(q.GetLevels() - 1)
	x := make([]float64, len(r.Values["X"]))
	for i, v := range r.Values["X"] {
		v = math.Min(math.Max(v, il), ih)
		k := math.RoundToEven((v - il) / (ih - il) * steps)
		x[i] = float64(float32(k/steps*(oh-ol) + ol))
	}
	out.Values["X"] = x
	for i := 0; i < r.N; i++ {
		for c := 0; c < 3; c++ {
			var s float64
			for k := 0; k < 4; k++ {
				s += x[i*4+k] * float64(r.W[k*3+c])
			}
			out.Values["mm"] = append(out.Values["mm"], s)
		}
	}
	return out
}

// checkTargetCancellation cancels a long CollectStatistics and checks
// that the call ends, that the implementation stops (in-process) and that
// the plugin lives on.
func checkTargetCancellation(t *testing.T, tg sdk.Target, obs *observedTarget, c *config) {
	bg := context.Background()
	g, d := heavyModel(8192, 8)
	resp, err := tg.LoadModel(bg, g)
	if err != nil || len(resp.GetUnsupported()) > 0 {
		t.Fatalf("LoadModel of MatMul and Relu layers: %v %v", resp, err)
	}
	defer tg.UnloadModel(bg, resp.GetModelId())
	dataID, err := tg.UploadData(bg, d)
	if err != nil {
		t.Fatal(err)
	}
	var probes []*potv1.StatisticProbe
	for _, n := range g.GetNodes() {
		probes = append(probes, &potv1.StatisticProbe{Id: n.GetOutputs()[0], Tensor: n.GetOutputs()[0],
			Reducer: potv1.Reducer_REDUCER_QUANTILE, Quantile: 0.99, Aggregator: potv1.Aggregator_AGGREGATOR_MEDIAN})
	}
	ctx, cancel := context.WithCancel(bg)
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := tg.CollectStatistics(ctx, &potv1.StatisticsRequest{ModelId: resp.GetModelId(), Samples: &potv1.Samples{DataId: dataID}, Probes: probes})
		done <- err
	}()
	select {
	case err := <-done:
		cancel()
		t.Skipf("the call ended after %s, before it could be cancelled (error %v)", time.Since(start), err)
	case <-time.After(300 * time.Millisecond):
	}
	cancel()
	cancelled := time.Now()
	select {
	case err := <-done:
		if err == nil {
			t.Error("the cancelled call succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the call did not end within 5 s of its cancellation")
	}
	if obs != nil {
		select {
		case <-obs.whenIdle():
			t.Logf("the implementation returned %s after the cancellation", time.Since(cancelled).Round(time.Millisecond))
		case <-time.After(5 * time.Second):
			t.Error("the implementation still runs 5 s after its context was cancelled")
		}
	}
	if _, err := tg.Describe(bg); err != nil {
		t.Errorf("Describe after the cancellation: %v", err)
	}
}
