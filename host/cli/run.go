package cli

import (
	"context"
	"time"

	"github.com/potgo/pot/host/config"
	"github.com/potgo/pot/host/pluginmgr"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
)

// run is one quantization run, from flags or a configuration.
type run struct {
	g          *globals
	f          *quantizeFlags
	cfg        *config.Config
	start      time.Time
	configMode bool
	quick      bool
	chain      *chain
}

// algorithms returns the chain's plugin names.
func (r *run) algorithms() []string {
	var names []string
	for _, a := range r.cfg.Compression.Algorithms {
		names = append(names, algorithmName(a.Name))
	}
	return names
}

// chain is the run's algorithm plugins, started before the session so
// that the run follows what each says it needs.
type chain struct {
	plugins map[string]*pluginmgr.Algorithm
	caps    map[string]*potv1.AlgorithmCapabilities
}

// startChain starts and describes the chain's algorithms.
func (r *run) startChain(ctx context.Context, mgr *pluginmgr.Manager) (*chain, error) {
	c := &chain{plugins: map[string]*pluginmgr.Algorithm{}, caps: map[string]*potv1.AlgorithmCapabilities{}}
	for _, name := range r.algorithms() {
		if _, ok := c.plugins[name]; ok {
			continue
		}
		a, err := mgr.Algorithm(ctx, name)
		if err != nil {
			return nil, err
		}
		d, err := a.Describe(ctx)
		if err != nil {
			return nil, err
		}
		c.plugins[name], c.caps[name] = a, sdk.AlgorithmCapabilities(d)
	}
	return c, nil
}

// first returns the first algorithm of the chain whose capabilities
// satisfy has, or "".
func (r *run) first(has func(*potv1.AlgorithmCapabilities) bool) string {
	for _, n := range r.algorithms() {
		if has(r.chain.caps[n]) {
			return n
		}
	}
	return ""
}

// evaluates names an algorithm of the chain that measures plans, or "".
func (r *run) evaluates() string {
	return r.first(func(c *potv1.AlgorithmCapabilities) bool { return c.GetEvaluates() })
}

// quantize runs the stages of a quantization: plan (planInputs before any
// plugin starts, planChain once the chain's algorithms have described
// themselves, planSteps once the target has), execute, export, present.
func (r *run) quantize(ctx context.Context) error {
	qp, err := r.planInputs()
	if err != nil {
		return err
	}
	mgr, err := r.g.manager()
	if err != nil {
		return err
	}
	defer mgr.Close()
	// What the algorithms need, from their descriptions.
	if r.chain, err = r.startChain(ctx, mgr); err != nil {
		return err
	}
	if err := r.planChain(qp); err != nil {
		return err
	}
	if qp.threads > 0 {
		r.g.threads = qp.threads
		mgr.SetThreads(qp.threads)
	}
	prog := newProgress(r.g)
	defer prog.Close()
	ex, err := r.execute(ctx, mgr, prog, qp)
	if err != nil {
		return err
	}
	defer ex.Close()
	if err := r.export(ctx, qp, ex); err != nil {
		return err
	}
	ex.sess.RemoveCheckpoints()
	return presentQuantize(r.g.stdout, r.g.jsonOut, ex.result)
}
