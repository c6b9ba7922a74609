package pipeline

import (
	"context"
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
}

var _ algorithmSource = (*algorithmSet)(nil)

// newAlgorithmSet returns the set of the algorithms given, starting
// others through mgr.
func newAlgorithmSet(mgr *pluginmgr.Manager, given map[string]*pluginmgr.Algorithm) *algorithmSet {
	a := &algorithmSet{mgr: mgr, started: map[string]*pluginmgr.Algorithm{}, descs: map[string]*potv1.AlgorithmDescription{}}
	maps.Copy(a.started, given)
	return a
}

// algorithm returns the running plugin of an algorithm, starting it (or
// starting it again, when it exited) on demand.
func (s *algorithmSet) algorithm(ctx context.Context, name string) (plugins.Algorithm, error) {
	s.mu.Lock()
	a, ok := s.started[name]
	s.mu.Unlock()
	if ok && !a.Exited() {
		return a, nil
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
