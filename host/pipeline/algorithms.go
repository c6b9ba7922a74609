package pipeline

import (
	"context"
	"errors"
	"maps"
	"sync"

	"github.com/potgo/pot/host/pluginmgr"
	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
)

// describer returns an algorithm's description by name.
type describer interface {
	describe(ctx context.Context, name string) (*potv1.AlgorithmDescription, error)
}

// algorithmSource starts algorithms by name and describes them: what the
// chain runner needs of the plugin manager.
type algorithmSource interface {
	describer
	algorithm(ctx context.Context, name string) (plugins.Algorithm, error)
}

// algorithmSet is the session's algorithm plugins: those given in
// Options.Algorithms and those started on first use, with their
// descriptions kept for the session.
type algorithmSet struct {
	mgr *pluginmgr.Manager

	mu      sync.Mutex
	started map[string]*pluginmgr.Algorithm
	descs   map[string]*potv1.AlgorithmDescription
	// starting holds the starts ahead of use (prestart) not yet done;
	// closed refuses new ones once the session closes.
	starting map[string]*pendingStart
	pending  sync.WaitGroup
	closed   bool
}

// errSessionClosed is the error of a start ahead of use that ended after
// the session closed.
var errSessionClosed = errors.New("the session closed while the plugin started")

// pendingStart is a plugin start running in the background: done is
// closed when a and err are set.
type pendingStart struct {
	done chan struct{}
	a    *pluginmgr.Algorithm
	err  error
}

var _ algorithmSource = (*algorithmSet)(nil)

// newAlgorithmSet returns the set of the algorithms given, starting
// others through mgr.
func newAlgorithmSet(mgr *pluginmgr.Manager, given map[string]*pluginmgr.Algorithm) *algorithmSet {
	a := &algorithmSet{mgr: mgr, started: map[string]*pluginmgr.Algorithm{}, descs: map[string]*potv1.AlgorithmDescription{},
		starting: map[string]*pendingStart{}}
	maps.Copy(a.started, given)
	return a
}

// algorithm returns the running plugin of an algorithm, starting it (or
// starting it again, when it exited) on demand.
func (s *algorithmSet) algorithm(ctx context.Context, name string) (plugins.Algorithm, error) {
	s.mu.Lock()
	a, ok := s.started[name]
	p := s.starting[name]
	s.mu.Unlock()
	if ok && !a.Exited() {
		return a, nil
	}
	if p != nil {
		select {
		case <-p.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if p.err == nil && !p.a.Exited() {
			return p.a, nil
		}
		// A start ahead of use that failed is tried again here, where
		// its error is reported.
	}
	a, err := s.mgr.Algorithm(ctx, name)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.started[name] = a
	s.mu.Unlock()
	return a, nil
}

// prestart starts the plugins of algorithms that will run soon, in the
// background and concurrently, unless they are running or starting: a
// later algorithm call waits for its start instead of starting it. A
// start that fails is forgotten; the algorithm call starts it again and
// reports the error. Once started, a plugin is described and the
// algorithms it says it runs (AlgorithmCapabilities.runs) are started
// ahead in turn.
func (s *algorithmSet) prestart(ctx context.Context, names []string) {
	ctx = context.WithoutCancel(ctx) // the plugin serves the session, not the call that named it
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, name := range names {
		if s.closed || s.starting[name] != nil {
			continue
		}
		if a, ok := s.started[name]; ok && !a.Exited() {
			continue
		}
		if _, err := s.mgr.Find(plugins.KindAlgorithm, name); err != nil {
			continue
		}
		p := &pendingStart{done: make(chan struct{})}
		s.starting[name] = p
		s.pending.Add(1)
		go func() {
			defer s.pending.Done()
			a, err := s.mgr.Algorithm(ctx, name)
			s.mu.Lock()
			if err == nil && s.closed {
				a.Kill() // the session closed while it started
				err = errSessionClosed
			}
			p.a, p.err = a, err
			delete(s.starting, name)
			if err == nil {
				s.started[name] = a
			}
			s.mu.Unlock()
			close(p.done)
			if err == nil {
				s.startRuns(ctx, name)
			}
		}()
	}
}

// startAhead starts ahead the algorithms that the given ones (running
// plugins) say they run, and theirs in turn: a chain's plugins start
// while the model loads and the data go up, not when the first algorithm
// calls them.
func (s *algorithmSet) startAhead(ctx context.Context, given map[string]*pluginmgr.Algorithm) {
	ctx = context.WithoutCancel(ctx)
	for name := range given {
		s.pending.Add(1)
		go func() {
			defer s.pending.Done()
			s.startRuns(ctx, name)
		}()
	}
}

// startRuns describes a running plugin (describe keeps the description)
// and starts ahead the algorithms it runs. A plugin that does not answer
// is left to the calls that need it, which report the error.
func (s *algorithmSet) startRuns(ctx context.Context, name string) {
	if d, err := s.describe(ctx, name); err == nil {
		s.prestart(ctx, d.GetCapabilities().GetRuns())
	}
}

// close waits for the starts ahead of use and refuses new ones; the
// manager stops the plugins.
func (s *algorithmSet) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.pending.Wait()
}

// describe returns an algorithm's description, starting its plugin on
// first use; the answer is kept for the session.
func (s *algorithmSet) describe(ctx context.Context, name string) (*potv1.AlgorithmDescription, error) {
	s.mu.Lock()
	d, ok := s.descs[name]
	s.mu.Unlock()
	if ok {
		return d, nil
	}
	a, err := s.algorithm(ctx, name)
	if err != nil {
		return nil, err
	}
	if d, err = a.Describe(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.descs[name] = d
	s.mu.Unlock()
	return d, nil
}
