package interp

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// The control-flow operators If, Loop and Scan. Their subgraphs are
// compiled into programs when the node is compiled (ops.Node.Env holds
// the enclosing program) and run in sessions owned by the enclosing
// session, so that the values they compute are watched like any other.
// Values are tensors: sequences and optionals are not supported.

// controlFlow holds the control-flow operators. They are this package's,
// not package ops': programs find them by Lookup, after their own
// Options.Kernels and before the operators of package ops.
// (It is filled by this package's init: the kernels compile subgraphs
// with Lookup, so a variable initializer would refer to itself.)
var controlFlow = ops.NewRegistry()

func init() {
	add := func(opType string, since int64, f ops.Factory) {
		if err := controlFlow.Register(ops.DomainONNX, opType, since, f); err != nil {
			panic(err) // the table below is fixed
		}
	}
	for _, v := range []int64{1, 11, 13, 16} {
		add("If", v, newIf)
		add("Loop", v, newLoop)
	}
	add("Scan", 8, newScan8)
	for _, v := range []int64{9, 11, 16} {
		add("Scan", v, newScan)
	}
}

// Lookup finds the interpreter's implementation of an operator for a
// model importing the given opset version of its domain: control flow
// (If, Loop, Scan) or an operator of package ops (see
// ops.Registry.Lookup).
func Lookup(domain, opType string, opset int64) (ops.Factory, bool) {
	if f, ok := controlFlow.Lookup(domain, opType, opset); ok {
		return f, true
	}
	return ops.Lookup(domain, opType, opset)
}

// Registered lists every operator implementation of the interpreter,
// control flow and package ops', sorted by domain, type and version.
func Registered() []ops.Operator {
	all := append(ops.Registered(), controlFlow.Registered()...)
	slices.SortFunc(all, func(a, b ops.Operator) int {
		return cmp.Or(cmp.Compare(a.Domain, b.Domain), cmp.Compare(a.OpType, b.OpType), cmp.Compare(a.Since, b.Since))
	})
	return all
}

// controlKernel is a control-flow operator's kernel.
type controlKernel interface {
	ops.Kernel
	// subprograms are the compiled subgraphs, in a fixed order.
	subprograms() []*Program
	// run computes the outputs with the sessions and buffers of cs; in
	// holds the node's inputs followed by the values its subgraphs read
	// from enclosing graphs.
	run(ctx context.Context, cs *controlState, in, out []*tensor.Tensor) error
}

// controlState is a control-flow step's run state in one session.
type controlState struct {
	subs []*Session // per subprogram
	// Loop and Scan: the body's inputs, the loop-carried values (two
	// sets, written alternately), the current scan-input elements, the
	// iteration number and condition, and the accumulated scan outputs.
	args    []*tensor.Tensor
	carried [2][]*tensor.Tensor
	elems   []*tensor.Tensor
	iter    *tensor.Tensor
	cond    *tensor.Tensor
	acc     []*tensor.Tensor
}

func newControlState(k controlKernel) *controlState {
	cs := &controlState{iter: tensor.New(tensor.Int64), cond: tensor.New(tensor.Bool)}
	for _, q := range k.subprograms() {
		cs.subs = append(cs.subs, q.NewSession())
	}
	return cs
}

// carry copies the body's outputs from, from+1, ... — the loop-carried
// values — into the buffer set of iteration t (two sets alternate, so
// that the body never reads what it writes) and makes them the next
// iteration's arguments dst.
func (cs *controlState) carry(body *Session, t, from int, dst []*tensor.Tensor) {
	next := buffers(&cs.carried[t%2], len(dst))
	for i := range dst {
		next[i].CopyFrom(body.output(from + i))
		dst[i] = next[i]
	}
}

// buffers returns n reusable tensors of list *l.
func buffers(l *[]*tensor.Tensor, n int) []*tensor.Tensor {
	for len(*l) < n {
		*l = append(*l, &tensor.Tensor{})
	}
	return (*l)[:n]
}

// runAlone runs a control-flow kernel outside a session (fresh
// subgraph sessions, nothing watched).
func runAlone(k controlKernel, in, out []*tensor.Tensor) error {
	return k.run(context.Background(), newControlState(k), in, out)
}

// compileAttr compiles a graph attribute of a control-flow node.
func compileAttr(n *ops.Node, attr string) (*Program, error) {
	env, ok := n.Env.(*subgraphEnv)
	if !ok {
		return nil, ops.Unsupported(n, "compilation outside a runtime program is")
	}
	g := n.Attr(attr).GetG()
	if g == nil {
		return nil, fmt.Errorf("attribute %q: no graph", attr)
	}
	p, err := env.compile(g)
	if err != nil {
		if _, ok := err.(*UnsupportedOpsError); ok {
			return nil, err
		}
		return nil, fmt.Errorf("%s %q: %w", attr, g.GetName(), err)
	}
	return p, nil
}

// boolScalar reads a one-element bool tensor.
func boolScalar(t *tensor.Tensor, what string) (bool, error) {
	b, ok := t.Data.([]bool)
	if !ok || len(b) != 1 {
		return false, fmt.Errorf("%s is %v of shape %v, want one bool", what, t.DType, t.Shape)
	}
	return b[0], nil
}

// ifKernel runs one of two branches.
type ifKernel struct {
	then, els *Program
}

func newIf(n *ops.Node) (ops.Kernel, error) {
	then, err := compileAttr(n, "then_branch")
	if err != nil {
		return nil, err
	}
	els, err := compileAttr(n, "else_branch")
	if err != nil {
		return nil, err
	}
	for _, b := range []*Program{then, els} {
		if len(b.outputs) != n.NumOutputs() {
			return nil, fmt.Errorf("branch %q has %d outputs, the node %d", b.graph.GetName(), len(b.outputs), n.NumOutputs())
		}
	}
	return &ifKernel{then: then, els: els}, nil
}

func (k *ifKernel) subprograms() []*Program { return []*Program{k.then, k.els} }

func (k *ifKernel) Run(_ *ops.Context, in, out []*tensor.Tensor) error { return runAlone(k, in, out) }

func (k *ifKernel) run(ctx context.Context, cs *controlState, in, out []*tensor.Tensor) error {
	cond, err := boolScalar(in[0], "the condition")
	if err != nil {
		return err
	}
	b := cs.subs[1]
	if cond {
		b = cs.subs[0]
	}
	if err := b.runSub(ctx, nil, in); err != nil {
		return err
	}
	for i, o := range out {
		if o != nil {
			o.CopyFrom(b.output(i))
		}
	}
	return nil
}

// loopKernel runs its body while the trip count and the condition allow.
type loopKernel struct {
	body *Program
	n    int // loop-carried values
	k    int // scan outputs
}

func newLoop(n *ops.Node) (ops.Kernel, error) {
	body, err := compileAttr(n, "body")
	if err != nil {
		return nil, err
	}
	if n.NumInputs() < 2 {
		return nil, fmt.Errorf("%d inputs, want at least M and cond", n.NumInputs())
	}
	carried := n.NumInputs() - 2
	if len(body.inputs) != 2+carried {
		return nil, fmt.Errorf("body has %d inputs, want %d (iteration number, condition and %d loop-carried values)", len(body.inputs), 2+carried, carried)
	}
	scans := n.NumOutputs() - carried
	if scans < 0 || len(body.outputs) != 1+carried+scans {
		return nil, fmt.Errorf("body has %d outputs and the node %d, with %d loop-carried values", len(body.outputs), n.NumOutputs(), carried)
	}
	return &loopKernel{body: body, n: carried, k: scans}, nil
}

func (k *loopKernel) subprograms() []*Program { return []*Program{k.body} }

func (k *loopKernel) Run(_ *ops.Context, in, out []*tensor.Tensor) error { return runAlone(k, in, out) }

func (k *loopKernel) run(ctx context.Context, cs *controlState, in, out []*tensor.Tensor) error {
	trips := int64(-1)
	if in[0] != nil {
		v, ok := in[0].Data.([]int64)
		if !ok || len(v) != 1 {
			return fmt.Errorf("M is %v of shape %v, want one int64", in[0].DType, in[0].Shape)
		}
		trips = max(v[0], 0)
	}
	cond := true
	if in[1] != nil {
		var err error
		if cond, err = boolScalar(in[1], "cond"); err != nil {
			return err
		}
	}
	body := cs.subs[0]
	args := buffers(&cs.args, 2+k.n)
	args[0], args[1] = cs.iter, cs.cond
	copy(args[2:], in[2:2+k.n])
	acc := buffers(&cs.acc, k.k)
	var iters int64
	for ; (trips < 0 || iters < trips) && cond; iters++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		cs.iter.I64()[0] = iters
		cs.cond.Data.([]bool)[0] = cond
		if err := body.runSub(ctx, args, in); err != nil {
			return fmt.Errorf("iteration %d: %w", iters, err)
		}
		// As in ONNX Runtime, the body's condition ends the loop even
		// when the node has no cond input (ONNX says it is ignored then).
		var err error
		if cond, err = boolScalar(body.output(0), "the body's condition"); err != nil {
			return fmt.Errorf("iteration %d: %w", iters, err)
		}
		cs.carry(body, int(iters), 1, args[2:2+k.n])
		for j := range k.k {
			if err := appendElement(acc[j], body.output(1+k.n+j), int(iters)); err != nil {
				return fmt.Errorf("iteration %d: scan output %d: %w", iters, j, err)
			}
		}
	}
	for i := range k.n {
		if out[i] != nil {
			out[i].CopyFrom(args[2+i])
		}
	}
	for j := range k.k {
		o := out[k.n+j]
		if o == nil {
			continue
		}
		if iters == 0 {
			emptyScanOutput(o, k.body.graph.GetOutputs()[1+k.n+j], 0)
			continue
		}
		a := acc[j]
		var shape [9]int
		o.Reset(a.DType, append(append(shape[:0], int(iters)), a.Shape[1:]...))
		moveBlocks(o, a, 0, 0, 0, 0, 1, o.Len())
	}
	return nil
}

// appendElement stores e as element n (counting from 0) of the stack
// acc, of shape [capacity, e...]: its capacity, kept across runs, doubles
// when it is full.
func appendElement(acc, e *tensor.Tensor, n int) error {
	per := e.Len()
	fits := acc.DType == e.DType && acc.Rank() == e.Rank()+1 && slices.Equal(acc.Shape[1:], e.Shape)
	switch {
	case n == 0 && !fits:
		var shape [9]int
		acc.Reset(e.DType, append(append(shape[:0], 4), e.Shape...))
	case !fits:
		return fmt.Errorf("element of %v%v, the earlier ones %v%v", e.DType, e.Shape, acc.DType, acc.Shape[1:])
	case n >= acc.Shape[0]:
		shape := append([]int{2 * acc.Shape[0]}, e.Shape...)
		bigger := tensor.New(e.DType, shape...)
		moveBlocks(bigger, acc, 0, 0, 0, 0, 1, n*per)
		*acc = *bigger
	}
	moveBlocks(acc, e, n*per, 0, 0, 0, 1, per)
	return nil
}

// emptyScanOutput gives o the shape of a scan output of no iteration, as
// ONNX Runtime does: the lead dimensions, then the element's declared
// dimensions, 0 for a symbolic one (none without a declared shape).
func emptyScanOutput(o *tensor.Tensor, vi *potv1.ValueInfo, lead ...int) {
	dt := tensor.DType(vi.GetDtype())
	if dt == tensor.Undefined {
		dt = tensor.Float
	}
	shape := append([]int(nil), lead...)
	for _, d := range vi.GetShape() {
		shape = append(shape, int(d.GetSize()))
	}
	o.Reset(dt, shape)
}

// scanKernel is Scan from opset 9: scan inputs are sliced along any axis,
// in either direction, and scan outputs are stacked along any axis.
type scanKernel struct {
	body       *Program
	n, m, k    int // states, scan inputs, scan outputs
	inAxes     []int64
	inReverse  []bool
	outAxes    []int64
	outReverse []bool
}

func flags(n *ops.Node, attr string, count int) ([]int64, error) {
	v := n.Ints(attr, nil)
	if v == nil {
		return make([]int64, count), nil
	}
	if len(v) != count {
		return nil, fmt.Errorf("%s has %d values, want %d", attr, len(v), count)
	}
	return v, nil
}

func directions(n *ops.Node, attr string, count int) ([]bool, error) {
	v, err := flags(n, attr, count)
	if err != nil {
		return nil, err
	}
	out := make([]bool, count)
	for i, d := range v {
		if d != 0 && d != 1 {
			return nil, fmt.Errorf("%s[%d] = %d is not 0 or 1", attr, i, d)
		}
		out[i] = d == 1
	}
	return out, nil
}

func newScan(n *ops.Node) (ops.Kernel, error) {
	body, err := compileAttr(n, "body")
	if err != nil {
		return nil, err
	}
	k := &scanKernel{body: body, m: int(n.Int("num_scan_inputs", 0))}
	k.n = n.NumInputs() - k.m
	k.k = n.NumOutputs() - k.n
	if k.m < 1 || k.n < 0 || k.k < 0 {
		return nil, fmt.Errorf("num_scan_inputs %d with %d inputs and %d outputs", k.m, n.NumInputs(), n.NumOutputs())
	}
	if len(body.inputs) != k.n+k.m || len(body.outputs) != k.n+k.k {
		return nil, fmt.Errorf("body has %d inputs and %d outputs, want %d and %d", len(body.inputs), len(body.outputs), k.n+k.m, k.n+k.k)
	}
	if k.inAxes, err = flags(n, "scan_input_axes", k.m); err != nil {
		return nil, err
	}
	if k.outAxes, err = flags(n, "scan_output_axes", k.k); err != nil {
		return nil, err
	}
	if k.inReverse, err = directions(n, "scan_input_directions", k.m); err != nil {
		return nil, err
	}
	if k.outReverse, err = directions(n, "scan_output_directions", k.k); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *scanKernel) subprograms() []*Program { return []*Program{k.body} }

func (k *scanKernel) Run(_ *ops.Context, in, out []*tensor.Tensor) error { return runAlone(k, in, out) }

func (k *scanKernel) run(ctx context.Context, cs *controlState, in, out []*tensor.Tensor) error {
	var axes [8]int
	seq := -1
	for j := range k.m {
		x := in[k.n+j]
		a, err := ops.NormalizeAxis(k.inAxes[j], x.Rank())
		if err != nil {
			return fmt.Errorf("scan input %d: %w", j, err)
		}
		if j < len(axes) {
			axes[j] = a
		}
		if seq >= 0 && x.Shape[a] != seq {
			return fmt.Errorf("scan input %d has %d elements along axis %d, the first %d", j, x.Shape[a], a, seq)
		}
		seq = x.Shape[a]
	}
	axis := func(j int) int {
		if j < len(axes) {
			return axes[j]
		}
		a, _ := ops.NormalizeAxis(k.inAxes[j], in[k.n+j].Rank())
		return a
	}
	body := cs.subs[0]
	args := buffers(&cs.args, k.n+k.m)
	copy(args, in[:k.n])
	elems := buffers(&cs.elems, k.m)
	copy(args[k.n:], elems)
	for t := range seq {
		if err := ctx.Err(); err != nil {
			return err
		}
		for j := range k.m {
			idx := t
			if k.inReverse[j] {
				idx = seq - 1 - t
			}
			sliceAxis(elems[j], in[k.n+j], axis(j), idx)
		}
		if err := body.runSub(ctx, args, in); err != nil {
			return fmt.Errorf("iteration %d: %w", t, err)
		}
		cs.carry(body, t, 0, args[:k.n])
		for j := range k.k {
			o := out[k.n+j]
			if o == nil {
				continue
			}
			e := body.output(k.n + j)
			b, err := ops.NormalizeAxis(k.outAxes[j], e.Rank()+1)
			if err != nil {
				return fmt.Errorf("scan output %d: %w", j, err)
			}
			if t == 0 {
				shape := make([]int, 0, e.Rank()+1)
				shape = append(append(append(shape, e.Shape[:b]...), seq), e.Shape[b:]...)
				o.Reset(e.DType, shape)
			} else if e.DType != o.DType || !slices.Equal(e.Shape[:b], o.Shape[:b]) || !slices.Equal(e.Shape[b:], o.Shape[b+1:]) {
				return fmt.Errorf("iteration %d: scan output %d is %v%v, earlier elements of %v", t, j, e.DType, e.Shape, o.Shape)
			}
			pos := t
			if k.outReverse[j] {
				pos = seq - 1 - t
			}
			placeAxis(o, e, b, pos)
		}
	}
	for i := range k.n {
		if out[i] != nil {
			out[i].CopyFrom(args[i])
		}
	}
	if seq == 0 {
		for j := range k.k {
			if o := out[k.n+j]; o != nil {
				emptyScanOutput(o, k.body.graph.GetOutputs()[k.n+j], 0)
			}
		}
	}
	return nil
}

// sliceAxis sets dst to x indexed at idx along axis a (one rank less).
func sliceAxis(dst, x *tensor.Tensor, a, idx int) {
	var shape [8]int
	sh := append(append(shape[:0], x.Shape[:a]...), x.Shape[a+1:]...)
	dst.Reset(x.DType, sh)
	outer := tensor.NumElements(x.Shape[:a])
	inner := tensor.NumElements(x.Shape[a+1:])
	l := x.Shape[a]
	moveBlocks(dst, x, 0, inner, idx*inner, l*inner, outer, inner)
}

// placeAxis writes e as index pos along axis b of o.
func placeAxis(o, e *tensor.Tensor, b, pos int) {
	outer := tensor.NumElements(e.Shape[:b])
	inner := tensor.NumElements(e.Shape[b:])
	l := o.Shape[b]
	moveBlocks(o, e, pos*inner, l*inner, 0, inner, outer, inner)
}

// scan8Kernel is Scan-8: a batch axis 0 and a sequence axis 1 on every
// scan input, optional per-batch sequence lengths and per-input
// directions; scan outputs are [batch, max sequence length, ...], zero
// past a sequence's end.
type scan8Kernel struct {
	body    *Program
	n, m, k int
	reverse []bool
}

func newScan8(n *ops.Node) (ops.Kernel, error) {
	body, err := compileAttr(n, "body")
	if err != nil {
		return nil, err
	}
	k := &scan8Kernel{body: body, m: int(n.Int("num_scan_inputs", 0))}
	k.n = n.NumInputs() - 1 - k.m
	k.k = n.NumOutputs() - k.n
	if k.m < 1 || k.n < 0 || k.k < 0 {
		return nil, fmt.Errorf("num_scan_inputs %d with %d inputs and %d outputs", k.m, n.NumInputs(), n.NumOutputs())
	}
	if len(body.inputs) != k.n+k.m || len(body.outputs) != k.n+k.k {
		return nil, fmt.Errorf("body has %d inputs and %d outputs, want %d and %d", len(body.inputs), len(body.outputs), k.n+k.m, k.n+k.k)
	}
	if k.reverse, err = directions(n, "directions", k.m); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *scan8Kernel) subprograms() []*Program { return []*Program{k.body} }

func (k *scan8Kernel) Run(_ *ops.Context, in, out []*tensor.Tensor) error {
	return runAlone(k, in, out)
}

func (k *scan8Kernel) run(ctx context.Context, cs *controlState, in, out []*tensor.Tensor) error {
	first := in[1+k.n]
	if first.Rank() < 2 {
		return fmt.Errorf("scan input 0 of shape %v has no batch and sequence axes", first.Shape)
	}
	batch, maxSeq := first.Shape[0], first.Shape[1]
	for j := range k.m {
		x := in[1+k.n+j]
		if x.Rank() < 2 || x.Shape[0] != batch || x.Shape[1] != maxSeq {
			return fmt.Errorf("scan input %d of shape %v, want [%d %d ...]", j, x.Shape, batch, maxSeq)
		}
	}
	for i := range k.n {
		if s := in[1+i]; s.Rank() < 1 || s.Shape[0] != batch {
			return fmt.Errorf("initial state %d of shape %v has no batch axis of %d", i, s.Shape, batch)
		}
	}
	var lens []int64
	if in[0] != nil {
		var ok bool
		if lens, ok = in[0].Data.([]int64); !ok || len(lens) != batch {
			return fmt.Errorf("sequence_lens is %v of shape %v, want %d int64", in[0].DType, in[0].Shape, batch)
		}
	}
	body := cs.subs[0]
	args := buffers(&cs.args, k.n+k.m)
	elems := buffers(&cs.elems, k.m)
	states := buffers(&cs.acc, k.n)
	shaped := make([]bool, k.k)
	for b := range batch {
		l := maxSeq
		if lens != nil {
			if lens[b] < 0 || lens[b] > int64(maxSeq) {
				return fmt.Errorf("sequence_lens[%d] = %d is outside [0, %d]", b, lens[b], maxSeq)
			}
			l = int(lens[b])
		}
		for i := range k.n {
			sliceAxis(states[i], in[1+i], 0, b)
			args[i] = states[i]
		}
		copy(args[k.n:], elems)
		for t := range l {
			if err := ctx.Err(); err != nil {
				return err
			}
			for j := range k.m {
				x := in[1+k.n+j]
				idx := t
				if k.reverse[j] {
					idx = l - 1 - t
				}
				// x[b, idx, ...]
				var shape [8]int
				elems[j].Reset(x.DType, append(shape[:0], x.Shape[2:]...))
				per := elems[j].Len()
				moveBlocks(elems[j], x, 0, 0, (b*maxSeq+idx)*per, 0, 1, per)
			}
			if err := body.runSub(ctx, args, in); err != nil {
				return fmt.Errorf("batch %d, iteration %d: %w", b, t, err)
			}
			cs.carry(body, t, 0, args[:k.n])
			for j := range k.k {
				o := out[k.n+j]
				if o == nil {
					continue
				}
				e := body.output(k.n + j)
				if !shaped[j] {
					shape := append([]int{batch, maxSeq}, e.Shape...)
					o.ResetZero(e.DType, shape)
					shaped[j] = true
				} else if e.DType != o.DType || !slices.Equal(e.Shape, o.Shape[2:]) {
					return fmt.Errorf("batch %d, iteration %d: scan output %d is %v%v, earlier elements of %v", b, t, j, e.DType, e.Shape, o.Shape)
				}
				per := e.Len()
				moveBlocks(o, e, (b*maxSeq+t)*per, 0, 0, 0, 1, per)
			}
		}
		for i := range k.n {
			o := out[i]
			if o == nil {
				continue
			}
			s := args[i]
			if b == 0 {
				o.Reset(s.DType, append([]int{batch}, s.Shape...))
			} else if s.DType != o.DType || !slices.Equal(s.Shape, o.Shape[1:]) {
				return fmt.Errorf("batch %d: final state %d is %v%v, the first batch's %v", b, i, s.DType, s.Shape, o.Shape)
			}
			per := s.Len()
			moveBlocks(o, s, b*per, 0, 0, 0, 1, per)
		}
	}
	for j := range k.k {
		if o := out[k.n+j]; o != nil && !shaped[j] {
			emptyScanOutput(o, k.body.graph.GetOutputs()[k.n+j], batch, maxSeq)
			o.Zero()
		}
	}
	return nil
}
