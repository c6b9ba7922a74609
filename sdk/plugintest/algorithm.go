package plugintest

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
)

// TestAlgorithm runs the algorithm conformance suite against impl, served
// in-process through go-plugin's test mode. The algorithm runs against
// the target given with WithTarget or WithTargetBinary.
func TestAlgorithm(t *testing.T, impl sdk.Algorithm, opts ...Option) {
	t.Helper()
	obs := &observedAlgorithm{Algorithm: impl}
	conn := &Conn{Algorithm: ServeAlgorithm(t, obs)}
	algorithmSuite(t, conn, obs, newConfig(opts))
}

// TestAlgorithmBinary runs the algorithm conformance suite against an
// algorithm plugin binary, started out of process as pot starts it.
func TestAlgorithmBinary(t *testing.T, path string, opts ...Option) {
	t.Helper()
	c := newConfig(opts)
	if c.name == "" {
		c.name = nameOf(plugins.KindAlgorithm, path)
	}
	algorithmSuite(t, StartAlgorithm(t, path), nil, c)
}

// observedAlgorithm notes when the implementation's Run returns.
type observedAlgorithm struct {
	sdk.Algorithm
	mu       sync.Mutex
	returned []chan struct{}
}

func (o *observedAlgorithm) Run(ctx context.Context, h sdk.Host, req *sdk.RunRequest) (*potv1.RunResponse, error) {
	defer func() {
		o.mu.Lock()
		for _, ch := range o.returned {
			close(ch)
		}
		o.returned = nil
		o.mu.Unlock()
	}()
	return o.Algorithm.Run(ctx, h, req)
}

// Prefetch passes on to the implementation's, when it has one.
func (o *observedAlgorithm) Prefetch(ctx context.Context, h sdk.Host, req *sdk.RunRequest) ([]*potv1.StatisticsRequest, error) {
	if p, ok := o.Algorithm.(sdk.Prefetcher); ok {
		return p.Prefetch(ctx, h, req)
	}
	return nil, nil
}

// nextReturn returns a channel closed when a Run returns.
func (o *observedAlgorithm) nextReturn() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	ch := make(chan struct{})
	o.returned = append(o.returned, ch)
	return ch
}

// target returns the target of an algorithm run.
func (c *config) runTarget(t *testing.T) sdk.Target {
	t.Helper()
	switch {
	case c.target != nil:
		return ServeTarget(t, c.target)
	case c.targetBinary != "":
		return StartTarget(t, c.targetBinary).Target
	}
	t.Fatal("plugintest: an algorithm needs a target: give WithTarget or WithTargetBinary")
	return nil
}

func algorithmSuite(t *testing.T, conn *Conn, obs *observedAlgorithm, c *config) {
	t.Helper()
	a := conn.Algorithm
	ctx := func(t *testing.T) context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		t.Cleanup(cancel)
		return ctx
	}
	t.Run("describe", func(t *testing.T) {
		d, err := a.Describe(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckAlgorithmDescription(d, c.name); err != nil {
			t.Error(err)
		}
		if sch, err := CompileSchema(d.GetParamsSchema()); err == nil {
			if err := ValidateParams(sch, c.params); err != nil {
				t.Errorf("the suite's parameters %s do not satisfy the schema: %v", c.params, err)
			}
		}
	})
	g, data := c.model, c.data
	if g == nil {
		g, data = CNNModel(64)
	}
	host := NewHost(t, c.runTarget(t), g, data, WithAlgorithms(c.algorithms), WithPluginDir(c.pluginDir))
	t.Run("run", func(t *testing.T) {
		resp, err := a.Run(ctx(t), host, host.Request(c.params))
		if err != nil {
			t.Fatal(err)
		}
		p := resp.GetPlan()
		if p == nil {
			t.Fatal("no plan")
		}
		if err := CheckPlan(g, p); err != nil {
			t.Errorf("invalid plan: %v", err)
		}
		if r := resp.GetReport(); r != "" && !validJSONObject(r) {
			t.Errorf("the report is not a JSON object: %s", r)
		}
		// The target runs the plan.
		out, err := host.Infer(ctx(t), &potv1.InferRequest{ModelId: host.ModelID(), Plan: p, Samples: &potv1.Samples{Indices: []int64{0, 1, 2, 3}}})
		if err != nil {
			t.Fatalf("the target cannot run the plan: %v", err)
		}
		for _, o := range out.GetOutputs() {
			v, err := floatValues(o)
			if err != nil {
				continue
			}
			for _, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("output %q of the plan has %g", o.GetName(), x)
				}
			}
		}
		t.Logf("plan: %d quantizers, %d tensor updates, %d precision overrides; host calls %v",
			len(p.GetQuantizers()), len(p.GetTensorUpdates()), len(p.GetPrecisions()), host.Calls())
	})
	t.Run("prefetch", func(t *testing.T) {
		pf, ok := a.(sdk.Prefetcher)
		if !ok {
			t.Skip("the connection does not prefetch")
		}
		reqs, err := pf.Prefetch(ctx(t), host, host.Request(c.params))
		if err != nil {
			t.Fatal(err)
		}
		if len(reqs) == 0 {
			t.Skip("the algorithm tells no statistics ahead")
		}
		if err := CheckPrefetch(g, reqs); err != nil {
			t.Error(err)
		}
	})
	t.Run("cancellation", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var once sync.Once
		var cancelled time.Time
		host.OnCall = func(string) {
			once.Do(func() {
				cancelled = time.Now()
				cancel()
			})
		}
		defer func() { host.OnCall = nil }()
		var returned <-chan struct{}
		if obs != nil {
			returned = obs.nextReturn()
		}
		done := make(chan error, 1)
		go func() {
			_, err := a.Run(ctx, host, host.Request(c.params))
			done <- err
		}()
		select {
		case err := <-done:
			if cancelled.IsZero() {
				t.Skipf("Run made no host call to cancel it at (error %v)", err)
			}
			if err == nil {
				t.Error("Run succeeded after its context was cancelled")
			}
		case <-time.After(c.timeout):
			t.Fatal("Run did not end after its context was cancelled")
		}
		if returned != nil {
			select {
			case <-returned:
				t.Logf("the implementation returned %s after the cancellation", time.Since(cancelled).Round(time.Millisecond))
			case <-time.After(10 * time.Second):
				t.Error("the implementation's Run still runs 10 s after its context was cancelled")
			}
		}
	})
	t.Run("errors", func(t *testing.T) {
		req := host.Request(c.params)
		req.ModelID = "no-such-model"
		if _, err := a.Run(ctx(t), host, req); err == nil {
			t.Error("Run on an unknown model succeeded")
		}
	})
	t.Run("alive", func(t *testing.T) {
		if conn.Exited() {
			t.Fatal("the plugin process ended during the suite")
		}
		if _, err := a.Describe(ctx(t)); err != nil {
			t.Fatalf("Describe after the suite: %v", err)
		}
	})
}
