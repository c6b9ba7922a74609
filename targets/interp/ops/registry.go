package ops

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/targets/interp/tensor"
)

// Kernel computes a node's outputs.
//
// in has one entry per node input, nil for an omitted optional input. out
// has one entry per node output, nil for an output nobody reads; a kernel
// calls out[i].Reset (or ResetZero) to give it a type and shape, which
// reuses storage across runs.
type Kernel interface {
	Run(ctx *Context, in, out []*tensor.Tensor) error
}

// KernelFunc adapts a function to Kernel.
type KernelFunc func(ctx *Context, in, out []*tensor.Tensor) error

// Run calls f.
func (f KernelFunc) Run(ctx *Context, in, out []*tensor.Tensor) error { return f(ctx, in, out) }

// Factory builds the kernel of one node.
type Factory func(n *Node) (Kernel, error)

// UnsupportedError says that an operator, or one of its attribute values
// or input types, is not implemented. It is not a wrong result: a model
// with such a node is refused before it runs.
type UnsupportedError struct {
	Node   string
	OpType string
	Reason string
}

func (e *UnsupportedError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("node %q: operator %s is not supported", e.Node, e.OpType)
	}
	return fmt.Sprintf("node %q: %s: %s not supported", e.Node, e.OpType, e.Reason)
}

// Unsupported returns an *UnsupportedError for n with a formatted reason,
// such as Unsupported(n, "auto_pad %q is", pad).
func Unsupported(n *Node, format string, args ...any) error {
	return &UnsupportedError{Node: n.Name(), OpType: n.OpType(), Reason: fmt.Sprintf(format, args...)}
}

// IsUnsupported reports whether err is, or wraps, an *UnsupportedError.
func IsUnsupported(err error) bool {
	var u *UnsupportedError
	return errors.As(err, &u)
}

type version struct {
	since   int64
	factory Factory
}

// Registry holds operator implementations by domain, type and opset
// version. The operators of this package are in a registry that only
// this package fills (Lookup, Registered read it); a program may be given
// another one (interp.Options.Kernels) whose implementations it prefers,
// so that a target adds or replaces operators for its own programs only.
type Registry struct {
	mu  sync.RWMutex
	ops map[string][]version // key: domain + "/" + op type
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{ops: map[string][]version{}} }

// registry is the interpreter's, which the operators of this package
// register into (from this package's init functions only: a target's
// operators go in a Registry of its own, interp.Options.Kernels).
var registry = NewRegistry()

// Domains of operators.
const (
	DomainONNX = ""
	// DomainPot holds pot's own operators (FakeQuantize).
	DomainPot = "ai.pot"
)

func key(domain, opType string) string {
	return graph.CanonicalDomain(domain) + "/" + opType
}

// register adds the implementation of an operator to the interpreter's
// registry; see Registry.Register. It panics on a duplicate, which is a
// programming error found at init.
func register(domain, opType string, since int64, f Factory) {
	if err := registry.Register(domain, opType, since, f); err != nil {
		panic(err)
	}
}

// Lookup finds an implementation in the runtime's registry; see
// Registry.Lookup.
func Lookup(domain, opType string, opset int64) (Factory, bool) {
	return registry.Lookup(domain, opType, opset)
}

// Registered lists every implementation of the runtime's registry,
// sorted.
func Registered() []Operator { return registry.Registered() }

// Register adds the implementation of an operator valid from opset version
// since (until the next registered version). Registering a version twice
// is an error.
func (r *Registry) Register(domain, opType string, since int64, f Factory) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := key(domain, opType)
	for _, v := range r.ops[k] {
		if v.since == since {
			return fmt.Errorf("ops: %s registered twice for opset %d", k, since)
		}
	}
	vs := append(r.ops[k], version{since, f})
	sort.Slice(vs, func(i, j int) bool { return vs[i].since < vs[j].since })
	r.ops[k] = vs
	return nil
}

// Lookup finds the implementation of an operator for a model importing
// the given opset version of its domain: the one with the greatest
// since-version not above opset. Its factory refuses a node that leaves
// out an input the operator requires.
func (r *Registry) Lookup(domain, opType string, opset int64) (Factory, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	vs := r.ops[key(domain, opType)]
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i].since <= opset {
			f := vs[i].factory
			if n := required(domain, opType, opset); n > 0 {
				return func(nd *Node) (Kernel, error) {
					if err := checkArity(nd, n); err != nil {
						return nil, err
					}
					return f(nd)
				}, true
			}
			return f, true
		}
	}
	return nil, false
}

// Operator names one registered implementation.
type Operator struct {
	Domain string
	OpType string
	Since  int64
}

// Registered lists every implementation, sorted.
func (r *Registry) Registered() []Operator {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []Operator
	for k, vs := range r.ops {
		var domain, op string
		for i := 0; i < len(k); i++ {
			if k[i] == '/' {
				domain, op = k[:i], k[i+1:]
				break
			}
		}
		for _, v := range vs {
			out = append(out, Operator{domain, op, v.since})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Domain != b.Domain {
			return a.Domain < b.Domain
		}
		if a.OpType != b.OpType {
			return a.OpType < b.OpType
		}
		return a.Since < b.Since
	})
	return out
}

// Node is what a Factory sees of a graph node: its attributes, the opset
// it is interpreted under, and the values of inputs that are constants.
type Node struct {
	Proto *potv1.Node
	// Opset is the version of the node's domain the model imports.
	Opset int64
	// Consts holds, per input, the constant value (initializer or Constant
	// output) or nil.
	Consts []*tensor.Tensor
	// InputTypes holds the element type of each input when known at
	// compile time, Undefined otherwise.
	InputTypes []tensor.DType
	// Rounding is how the node rounds if it is a quantizer
	// (FakeQuantize, QuantizeLinear, DynamicQuantizeLinear): the
	// program's numeric policy (runtime.Options.Rounding).
	Rounding Rounding
	// Env is the compiling runtime's state for operators with graph
	// attributes (If, Loop, Scan, which package interp implements):
	// what they need to compile their subgraphs. Package ops does not
	// read it.
	Env   any
	attrs map[string]*potv1.Attribute
	used  map[string]bool
}

// NewNode wraps a proto node for a Factory.
func NewNode(p *potv1.Node, opset int64, consts []*tensor.Tensor) *Node {
	n := &Node{Proto: p, Opset: opset, Consts: consts, attrs: map[string]*potv1.Attribute{}, used: map[string]bool{}}
	for _, a := range p.GetAttributes() {
		n.attrs[a.GetName()] = a
	}
	if n.Consts == nil {
		n.Consts = make([]*tensor.Tensor, len(p.GetInputs()))
	}
	return n
}

// Name is the node's name.
func (n *Node) Name() string { return n.Proto.GetName() }

// OpType is the node's operator.
func (n *Node) OpType() string { return n.Proto.GetOpType() }

// NumInputs is the number of declared inputs, counting omitted ones.
func (n *Node) NumInputs() int { return len(n.Proto.GetInputs()) }

// NumOutputs is the number of declared outputs.
func (n *Node) NumOutputs() int { return len(n.Proto.GetOutputs()) }

// HasInput reports whether input i is present (declared and not empty).
func (n *Node) HasInput(i int) bool {
	in := n.Proto.GetInputs()
	return i < len(in) && in[i] != ""
}

// LargeConstBytes is the size from which a constant counts as large:
// kernels do not keep a repacked copy of it (they read it in place at
// each run) and programs do not fold nodes that read it, so that a large
// model's weights are held once.
const LargeConstBytes = 64 << 20

// IsLarge tells whether t is a large constant (see LargeConstBytes).
func IsLarge(t *tensor.Tensor) bool {
	return int64(t.Len())*int64(max(t.DType.Size(), 1)) >= LargeConstBytes
}

// Const returns the constant value of input i, or nil.
func (n *Node) Const(i int) *tensor.Tensor {
	if i < len(n.Consts) {
		return n.Consts[i]
	}
	return nil
}

// Has reports whether the attribute is set.
func (n *Node) Has(name string) bool {
	_, ok := n.attrs[name]
	return ok
}

func (n *Node) attr(name string) *potv1.Attribute {
	a := n.attrs[name]
	if a != nil {
		n.used[name] = true
	}
	return a
}

// Int returns an integer attribute or def.
func (n *Node) Int(name string, def int64) int64 {
	if a := n.attr(name); a != nil {
		return a.GetI()
	}
	return def
}

// Float returns a float attribute or def.
func (n *Node) Float(name string, def float32) float32 {
	if a := n.attr(name); a != nil {
		return a.GetF()
	}
	return def
}

// String returns a string attribute or def.
func (n *Node) String(name, def string) string {
	if a := n.attr(name); a != nil {
		return string(a.GetS())
	}
	return def
}

// Ints returns an integer-list attribute or def.
func (n *Node) Ints(name string, def []int64) []int64 {
	if a := n.attr(name); a != nil {
		return a.GetInts()
	}
	return def
}

// Floats returns a float-list attribute or def.
func (n *Node) Floats(name string, def []float32) []float32 {
	if a := n.attr(name); a != nil {
		return a.GetFloats()
	}
	return def
}

// Strings returns a string-list attribute or def.
func (n *Node) Strings(name string, def []string) []string {
	if a := n.attr(name); a != nil {
		out := make([]string, len(a.GetStrings()))
		for i, s := range a.GetStrings() {
			out[i] = string(s)
		}
		return out
	}
	return def
}

// Attr returns the raw attribute, or nil.
func (n *Node) Attr(name string) *potv1.Attribute { return n.attr(name) }

// Context is the per-run state of kernels: the thread budget.
type Context struct {
	// Threads is the number of goroutines kernels may use; <= 1 runs inline.
	Threads int
	pool    *Pool
}

// NewContext returns a context using up to threads goroutines.
func NewContext(threads int) *Context {
	if threads < 1 {
		threads = 1
	}
	c := &Context{Threads: threads}
	if threads > 1 {
		c.pool = NewPool(threads)
	}
	return c
}

// Close stops the context's worker goroutines.
func (c *Context) Close() {
	if c.pool != nil {
		c.pool.Close()
	}
}

// Parallel calls fn over [0, n) split into contiguous ranges, one per
// worker, and waits. Ranges smaller than grain are not split further.
func (c *Context) Parallel(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	parts := c.Threads
	if maxParts := (n + grain - 1) / grain; parts > maxParts {
		parts = maxParts
	}
	if parts <= 1 || c.pool == nil {
		fn(0, n)
		return
	}
	c.pool.Run(parts, func(p int) {
		lo := n * p / parts
		hi := n * (p + 1) / parts
		if lo < hi {
			fn(lo, hi)
		}
	})
}

// Pool is a fixed set of worker goroutines.
//
// Workers poll the queue for a short while (workerSpin) before they
// block on it: a batch's parallel sections follow each other within
// microseconds, and a worker that has gone to sleep costs a wake-up of
// its thread, on virtual machines an exit to the hypervisor to wake an
// idle vCPU, every time. On a 2-core KVM guest, pot bench of int8
// resnet_fmnist on two threads ran 12-15% faster with the poll.
type Pool struct {
	work chan func()
	wg   sync.WaitGroup
}

// workerSpin is how long an idle worker polls the queue before it
// blocks; it yields its thread between polls.
const workerSpin = 200 * time.Microsecond

// NewPool starts n-1 workers; the caller's goroutine is the n-th.
func NewPool(n int) *Pool {
	p := &Pool{work: make(chan func(), max(n, 1))}
	for i := 0; i < n-1; i++ {
		go p.worker()
	}
	return p
}

// worker runs queued tasks until the pool closes.
func (p *Pool) worker() {
	for {
		f, ok := p.next()
		if !ok {
			return
		}
		f()
	}
}

// next returns the next task, polling for workerSpin before blocking;
// ok is false once the pool is closed.
func (p *Pool) next() (func(), bool) {
	start := time.Now()
	for {
		select {
		case f, ok := <-p.work:
			return f, ok
		default:
		}
		if time.Since(start) > workerSpin {
			f, ok := <-p.work
			return f, ok
		}
		runtime.Gosched()
	}
}

// Run calls fn(0..parts-1), part 0 on the calling goroutine, and waits.
// While it waits, the caller runs queued tasks itself (its own or those
// of a nested Run), so that a Run inside a task cannot wait for workers
// that are all busy in the tasks around it.
func (p *Pool) Run(parts int, fn func(part int)) {
	var wg sync.WaitGroup
	wg.Add(parts - 1)
	for i := 1; i < parts; i++ {
		f := func() { defer wg.Done(); fn(i) }
		select {
		case p.work <- f:
		default:
			go f() // the queue is full: never block the caller
		}
	}
	fn(0)
	for {
		select {
		case f, ok := <-p.work:
			if ok {
				f()
				continue
			}
		default:
		}
		break
	}
	wg.Wait()
}

// Close stops the workers.
func (p *Pool) Close() { close(p.work) }

// Broadcast returns the numpy-style broadcast of shapes, or an error.
func Broadcast(shapes ...[]int) ([]int, error) {
	rank := 0
	for _, s := range shapes {
		rank = max(rank, len(s))
	}
	out := make([]int, rank)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		off := rank - len(s)
		for i, d := range s {
			switch {
			case out[off+i] == d || d == 1:
			case out[off+i] == 1:
				out[off+i] = d
			default:
				return nil, fmt.Errorf("shapes %v cannot be broadcast together", shapes)
			}
		}
	}
	return out, nil
}

// RoundHalfEven rounds to the nearest integer, ties to even, as ONNX's
// QuantizeLinear and Round do.
func RoundHalfEven(x float32) float32 { return float32(math.RoundToEven(float64(x))) }
