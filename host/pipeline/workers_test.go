package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/potgo/pot/internal/plugins"
)

// workerStarter makes workers named w1, w2, ...; the one numbered fail
// (when > 0) fails to start.
func workerStarter(fail int32) (func(context.Context, int) (*worker, error), *atomic.Int32) {
	var started atomic.Int32
	return func(context.Context, int) (*worker, error) {
		i := started.Add(1)
		if i == fail {
			return nil, errors.New("target plugin exited")
		}
		return &worker{target: &fakeTarget{}, modelID: fmt.Sprint("w", i)}, nil
	}, &started
}

func TestStartWorkers(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{1, 3} {
		start, started := workerStarter(0)
		prog := &progressLog{}
		p, err := startWorkers(ctx, n, &worker{modelID: "w0"}, start, prog.stage)
		if err != nil {
			t.Fatal(err)
		}
		if p.size() != n || int(started.Load()) != n-1 {
			t.Errorf("%d workers: size %d, %d started; want %d, %d", n, p.size(), started.Load(), n, n-1)
		}
		var want []string
		if n > 1 {
			want = []string{"start evaluation workers 0/2", "start evaluation workers 2/2"}
		}
		if !slices.Equal(prog.updates, want) {
			t.Errorf("%d workers: progress %q, want %q", n, prog.updates, want)
		}
	}
	start, _ := workerStarter(2)
	if _, err := startWorkers(ctx, 3, &worker{}, start, nil); err == nil || err.Error() != "start evaluation worker: target plugin exited" {
		t.Errorf("a worker that fails to start: %v", err)
	}
}

// TestWorkerPoolParallel: the pool lends all its workers at once, never
// one to two callers.
func TestWorkerPoolParallel(t *testing.T) {
	const n = 3
	start, _ := workerStarter(0)
	p, err := startWorkers(context.Background(), n, &worker{modelID: "w0"}, start, nil)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		inUse   = map[*worker]bool{}
		used    = map[string]bool{}
		holding atomic.Int32
		all     = make(chan struct{}) // closed once n callers hold a worker
	)
	// A pool that kept a worker would leave callers waiting: a deadline
	// makes that a failure.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := make(chan error, 4*n)
	for i := 0; i < 4*n; i++ {
		go func() {
			errs <- p.with(ctx, func(w *worker) error {
				mu.Lock()
				if inUse[w] {
					mu.Unlock()
					return fmt.Errorf("worker %s lent twice at once", w.modelID)
				}
				inUse[w], used[w.modelID] = true, true
				mu.Unlock()
				if holding.Add(1) == n {
					close(all)
				}
				select {
				case <-all:
				case <-ctx.Done():
					return errors.New("the pool never lent all its workers at once")
				}
				mu.Lock()
				delete(inUse, w)
				mu.Unlock()
				return nil
			})
		}()
	}
	for i := 0; i < 4*n; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if len(used) != n {
		t.Errorf("workers used: %v, want %d", used, n)
	}
}

func TestWorkerPoolCancel(t *testing.T) {
	start, _ := workerStarter(0)
	p, err := startWorkers(context.Background(), 1, &worker{modelID: "w0"}, start, nil)
	if err != nil {
		t.Fatal(err)
	}
	held, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- p.with(context.Background(), func(*worker) error { close(held); <-release; return nil })
	}()
	<-held
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	if err := p.with(ctx, func(*worker) error { called = true; return nil }); !errors.Is(err, context.Canceled) || called {
		t.Errorf("with, all workers busy, context cancelled: %v (fn called: %v)", err, called)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The worker came back.
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.with(ctx, func(w *worker) error { called = w.modelID == "w0"; return nil }); err != nil || !called {
		t.Errorf("with after the release: %v (got worker w0: %v)", err, called)
	}
}

// TestWithWorker: only evaluations of the session's model on the
// evaluation data go to the pool (whose workers hold that model and
// data under their own ids); the rest run on the session's target.
func TestWithWorker(t *testing.T) {
	session, other := &fakeTarget{}, &fakeTarget{}
	eval := &data{name: "evaluation", id: "eval"}
	calib := &data{name: "calibration", id: "calib"}
	pool, err := startWorkers(context.Background(), 1, &worker{target: other, modelID: "w-model", evalID: "w-eval"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &evaluator{target: session, modelID: "m0", eval: eval, pool: pool}
	tests := []struct {
		name   string
		model  string
		d      *data
		target *fakeTarget
		want   string
	}{
		{"the session's model on the evaluation data", "m0", eval, other, "w-model w-eval"},
		{"another model", "model-2", eval, session, "model-2 eval"},
		{"the calibration data", "m0", calib, session, "m0 calib"},
	}
	for _, tc := range tests {
		var got string
		var gotTarget plugins.Target
		err := e.withWorker(context.Background(), tc.model, tc.d, func(t plugins.Target, model, dataID string) error {
			gotTarget, got = t, model+" "+dataID
			return nil
		})
		if err != nil || got != tc.want || gotTarget != tc.target {
			t.Errorf("%s: ran %q (on the session's target: %v), %v; want %q", tc.name, got, gotTarget == session, err, tc.want)
		}
	}
	e.pool = nil
	if err := e.withWorker(context.Background(), "m0", eval, func(t plugins.Target, model, dataID string) error {
		if t != session || model != "m0" || dataID != "eval" {
			return fmt.Errorf("ran %s %s elsewhere", model, dataID)
		}
		return nil
	}); err != nil {
		t.Errorf("without a pool: %v", err)
	}
}
