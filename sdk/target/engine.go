package target

import (
	"cmp"
	"container/list"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// Engine is a target over pot's runtime: it implements sdk.Target (the
// Target service) for a Config. Serve serves one; plugintest.TestTarget
// tests one in-process.
type Engine struct {
	cfg     Config
	kernels *ops.Registry   // Config.Operators; nil without
	opSet   map[string]bool // Config.OpSet; nil without
	mu      sync.Mutex
	seq     int
	models  map[string]*model
	data    map[string]*dataset
	// responseEvery is how far apart Evaluate sends its responses
	// (responseInterval; tests set 0 to see one response per batch).
	responseEvery time.Duration
}

var _ plugins.Target = (*Engine)(nil)

type model struct {
	id    string
	graph *potv1.Graph
	mu    sync.Mutex
	cache map[[32]byte]*list.Element // plan digest -> *compiled
	lru   *list.List
}

type compiled struct {
	key     [32]byte
	prog    *rt.Program
	applied *plan.Applied
	// refs counts the calls using the program; an evicted program is
	// closed when the last of them ends.
	refs    int
	evicted bool
}

// cacheSize bounds the compiled programs kept per model.
const cacheSize = 6

type dataset struct {
	id      string
	inputs  []string
	tensors []*tensor.Tensor
	n       int
}

// New checks cfg and returns the target it declares. An invalid Config
// (a required field left empty, an unknown preset or operator) is an
// error naming every problem.
func New(cfg Config) (*Engine, error) {
	kernels, opSet, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	cfg.defaults()
	return &Engine{cfg: cfg, kernels: kernels, opSet: opSet, models: map[string]*model{}, data: map[string]*dataset{}, responseEvery: responseInterval}, nil
}

// MustNew is New for a Config known good, as in tests: it panics on an
// error.
func MustNew(cfg Config) *Engine {
	e, err := New(cfg)
	if err != nil {
		panic(err)
	}
	return e
}

// Describe implements sdk.Target.
func (e *Engine) Describe(context.Context) (*potv1.TargetDescription, error) {
	d := &potv1.TargetDescription{
		Name:             e.cfg.Name,
		Version:          e.cfg.Version,
		Device:           e.cfg.Device,
		ProtocolVersions: []int32{plugins.ProtocolVersion},
		HardwareConfig:   e.cfg.HardwareConfig,
		Presets:          e.cfg.Presets,
		Capabilities:     e.cfg.Capabilities,
		Properties:       e.cfg.Properties,
		BatchSize:        int32(e.cfg.BatchSize),
	}
	// The operators the target runs: the runtime's and its own, less
	// those its op set and check refuse by type.
	all := rt.Registered()
	if e.kernels != nil {
		all = append(all, e.kernels.Registered()...)
		slices.SortStableFunc(all, func(a, b ops.Operator) int {
			return cmp.Or(cmp.Compare(a.Domain, b.Domain), cmp.Compare(a.OpType, b.OpType), cmp.Compare(a.Since, b.Since))
		})
		all = slices.CompactFunc(all, func(a, b ops.Operator) bool { return a == b })
	}
	for _, op := range all {
		if e.check(&potv1.Node{OpType: op.OpType, Domain: op.Domain}) != nil {
			continue
		}
		d.Operators = append(d.Operators, &potv1.OperatorSupport{Domain: op.Domain, OpType: op.OpType, SinceVersion: op.Since})
	}
	return d, nil
}

func (e *Engine) nextID(prefix string) string {
	e.seq++
	return fmt.Sprintf("%s%d", prefix, e.seq)
}

// LoadModel implements sdk.Target. Every node, those of subgraphs
// included, is checked against the op set and Check; then the float
// graph is compiled once to find the nodes the runtime cannot run.
func (e *Engine) LoadModel(ctx context.Context, g *potv1.Graph) (*potv1.LoadModelResponse, error) {
	var unsupported []string
	graph.Walk(g, func(n *potv1.Node, _ *potv1.Graph, _ *potv1.Node) {
		if err := e.check(n); err != nil {
			unsupported = append(unsupported, fmt.Sprintf("%s (%s): %v", n.GetName(), n.GetOpType(), err))
		}
	})
	if len(unsupported) > 0 {
		// Refused by the target's own check: no compilation.
		return &potv1.LoadModelResponse{Unsupported: unsupported}, nil
	}
	m := &model{graph: g, cache: map[[32]byte]*list.Element{}, lru: list.New()}
	_, release, err := m.program(e, nil)
	if err == nil {
		release()
	} else {
		var u *rt.UnsupportedOpsError
		if !errors.As(err, &u) {
			return nil, err
		}
		for _, n := range u.Nodes {
			unsupported = append(unsupported, n.Error())
		}
	}
	if len(unsupported) > 0 {
		return &potv1.LoadModelResponse{Unsupported: unsupported}, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	m.id = e.nextID("m")
	e.models[m.id] = m
	return &potv1.LoadModelResponse{ModelId: m.id}, nil
}

// Model implements sdk.Target.
func (e *Engine) Model(_ context.Context, id string) (*potv1.Graph, error) {
	m, err := e.model(id)
	if err != nil {
		return nil, err
	}
	return m.graph, nil
}

// UnloadModel implements sdk.Target.
func (e *Engine) UnloadModel(_ context.Context, id string) error {
	e.mu.Lock()
	m, ok := e.models[id]
	delete(e.models, id)
	e.mu.Unlock()
	if !ok {
		return fmt.Errorf("no model %q", id)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for el := m.lru.Front(); el != nil; el = el.Next() {
		c := el.Value.(*compiled)
		c.evicted = true
		if c.refs == 0 {
			c.prog.Close()
		}
	}
	m.lru.Init()
	clear(m.cache)
	return nil
}

func (e *Engine) model(id string) (*model, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	m, ok := e.models[id]
	if !ok {
		return nil, fmt.Errorf("no model %q loaded", id)
	}
	return m, nil
}

// program returns the compiled program of the model under a plan,
// compiling it on first use and keeping the most recent ones. The caller
// calls release when it no longer uses the program.
//
// keep lists tensors the caller reads besides the graph outputs; it
// matters only with Numerics.LowerKeeping, and is part of the cache key.
func (m *model) program(e *Engine, p *potv1.QuantizationPlan, keep ...string) (*compiled, func(), error) {
	num := e.cfg.Numerics
	var key [32]byte
	if num.LowerKeeping == nil {
		keep = nil
	}
	keep = keepList(m.graph, keep)
	if len(keep) > 0 {
		// The program lowered without keep serves when its lowering left
		// the nodes computing keep as they are (a float model, say): one
		// program, and its sessions' buffers, for every set of tensors.
		base, release, err := m.program(e, p)
		if err != nil {
			return nil, nil, err
		}
		if untouched(m.graph, base.applied.Graph, keep) {
			return base, release, nil
		}
		release()
	}
	if p != nil || len(keep) > 0 {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(p)
		if err != nil {
			return nil, nil, err
		}
		for _, k := range keep {
			b = append(append(b, 0), k...)
		}
		key = sha256.Sum256(b)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.cache[key]; ok {
		m.lru.MoveToFront(el)
		c := el.Value.(*compiled)
		c.refs++
		return c, m.releaser(c), nil
	}
	lower := num.Lower
	if lower == nil {
		lower = plan.Apply
	}
	if len(keep) > 0 {
		lower = func(g *potv1.Graph, p *potv1.QuantizationPlan) (*plan.Applied, error) {
			return num.LowerKeeping(g, p, keep)
		}
	}
	applied, err := lower(m.graph, p)
	if err != nil {
		return nil, nil, err
	}
	prog, err := rt.Compile(applied.Graph, e.options())
	if err != nil {
		return nil, nil, err
	}
	c := &compiled{key: key, prog: prog, applied: applied, refs: 1}
	m.cache[key] = m.lru.PushFront(c)
	for m.lru.Len() > cacheSize {
		old := m.lru.Back()
		m.lru.Remove(old)
		oc := old.Value.(*compiled)
		delete(m.cache, oc.key)
		oc.evicted = true
		if oc.refs == 0 {
			oc.prog.Close()
		}
	}
	return c, m.releaser(c), nil
}

// untouched reports whether every tensor of keep is computed in lowered
// by the very node that computes it in g, at the top level.
func untouched(g, lowered *potv1.Graph, keep []string) bool {
	producers := func(g *potv1.Graph) map[string]*potv1.Node {
		m := map[string]*potv1.Node{}
		for _, n := range g.GetNodes() {
			for _, o := range n.GetOutputs() {
				m[o] = n
			}
		}
		return m
	}
	was, is := producers(g), producers(lowered)
	for _, k := range keep {
		if was[k] == nil || !proto.Equal(was[k], is[k]) {
			return false
		}
	}
	return true
}

// keepList sorts the names, without duplicates and graph outputs.
func keepList(g *potv1.Graph, names []string) []string {
	if len(names) == 0 {
		return nil
	}
	skip := map[string]bool{}
	for _, o := range g.GetOutputs() {
		skip[o.GetName()] = true
	}
	var out []string
	for _, n := range names {
		if !skip[n] {
			skip[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func (m *model) releaser(c *compiled) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			m.mu.Lock()
			defer m.mu.Unlock()
			c.refs--
			if c.evicted && c.refs == 0 {
				c.prog.Close()
			}
		})
	}
}

// UploadData implements sdk.Target.
func (e *Engine) UploadData(_ context.Context, d *plugins.Dataset) (string, error) {
	ds := &dataset{inputs: d.Inputs, n: int(d.Samples())}
	if len(d.Inputs) != len(d.Tensors) {
		return "", fmt.Errorf("data set %q: %d input names for %d tensors", d.Name, len(d.Inputs), len(d.Tensors))
	}
	for i, t := range d.Tensors {
		v, err := rt.FromProto(t)
		if err != nil {
			return "", fmt.Errorf("data set %q: input %q: %w", d.Name, d.Inputs[i], err)
		}
		ds.tensors = append(ds.tensors, v)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	ds.id = e.nextID("d")
	e.data[ds.id] = ds
	return ds.id, nil
}

func (e *Engine) dataset(id string) (*dataset, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	d, ok := e.data[id]
	if !ok {
		return nil, fmt.Errorf("no data set %q uploaded", id)
	}
	return d, nil
}

// KnownTensor implements plugins.KnownTensors: a loaded graph that
// repeats an initializer of a model already loaded (a bias correction
// sub-model reusing the weights) shares its data.
func (e *Engine) KnownTensor(name string) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, m := range e.models {
		for _, t := range m.graph.GetInitializers() {
			if t.GetName() == name {
				return t.GetData()
			}
		}
	}
	return nil
}
