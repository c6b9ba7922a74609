package interp

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// Sample-parallel runs. A program whose every step computes each sample
// (row of the first axis) of its outputs from the same sample of its
// inputs alone — convolutions, pooling, elementwise operators with
// constants that do not span the batch, Gemm, Flatten, ... — can run a
// batch as independent slices of samples. A session does so when it may
// (nothing but the graph outputs is watched, or values are observed per
// sample with ObserveSamples): the batch is cut into
// chunks of chunkSamples samples, which the context's threads take in
// turn, each running the whole program on its chunk in a session of its
// own with one thread. The threads never wait for each other between
// layers, a chunk's activations stay in the core's cache from one layer
// to the next, and since every sample is computed exactly as in a run
// of the whole batch (kernels do not mix samples), the outputs are the
// same bits.

// chunkSamples is the number of samples per chunk of a sample-parallel
// run: small enough that a chunk's activations stay in a core's cache
// from layer to layer, large enough that the steps' fixed costs do not
// count.
const chunkSamples = 8

// minTailChunk is the fewest samples of a chunk at the end of a run on
// more than one thread (see chunkEnds).
const minTailChunk = 2

// chunkEnds cuts a batch of n samples into the chunks a sample-parallel
// run on workers threads hands out in turn, and returns their ends
// (appended to dst[:0]): chunk i holds samples [ends[i-1], ends[i]).
// On one thread every chunk has chunkSamples samples (the last one what
// is left). On more, chunks get smaller towards the end of the batch
// (guided scheduling): each takes a 2*workers-th of the samples left,
// at most chunkSamples and at least minTailChunk, so that the threads
// finish within a couple of samples of each other. With chunks of 8
// throughout, a thread that started late or was slowed down by something
// else left the other one idle for up to a whole chunk at the end of a
// batch: an eighth of a batch of 64 on two threads.
func chunkEnds(dst []int, n, workers int) []int {
	dst = dst[:0]
	for lo := 0; lo < n; {
		size := chunkSamples
		if workers > 1 {
			share := (n - lo + 2*workers - 1) / (2 * workers)
			size = min(chunkSamples, max(minTailChunk, share))
		}
		lo = min(n, lo+size)
		dst = append(dst, lo)
	}
	return dst
}

// findSampleParallel decides whether the program's steps keep samples
// apart (see above): every value computed from the inputs holds the
// batch along its first axis, and no step mixes rows of that axis. It
// tracks the rank of each such value, which elementwise operators need to
// tell whether a constant operand spans the batch axis. Programs of
// subgraphs, with a numeric policy that is not elementwise
// (ElementwisePolicy) or with control flow never run sample-parallel.
func (p *Program) findSampleParallel(outer *Program) bool {
	if outer != nil || p.opts.Policy != nil && !elementwise(p.opts.Policy) || len(p.inputs) == 0 {
		return false
	}
	rank := make([]int, len(p.names)) // rank of each batch value, 0: not one
	for _, in := range p.inputs {
		info := in.info
		if info == nil || !info.GetHasShape() || len(info.GetShape()) == 0 || in.def != nil {
			return false
		}
		if sz, ok := info.GetShape()[0].GetValue().(*potv1.Dim_Size); ok && sz.Size == 1 {
			return false // a batch of one sample: nothing to split
		}
		rank[in.value] = len(info.GetShape())
	}
	for _, st := range p.steps {
		r, ok := p.sampleRank(st, rank)
		if !ok || len(st.out) == 0 || st.out[0] < 0 {
			return false
		}
		for _, v := range st.out[1:] {
			if v >= 0 {
				return false
			}
		}
		rank[st.out[0]] = r
	}
	for _, v := range p.outputs {
		if rank[v] == 0 || p.isInput(v) {
			return false
		}
	}
	return true
}

// sampleRank reports whether step st keeps samples apart, given the
// ranks of the batch values (rank), and the rank of its output.
func (p *Program) sampleRank(st step, rank []int) (int, bool) {
	n := st.node
	domain := n.GetDomain()
	if domain == "ai.onnx" {
		domain = ""
	}
	in := func(i int) int { // rank of batch input i, 0 if not one
		if i >= len(st.in) || st.in[i] < 0 {
			return 0
		}
		return rank[st.in[i]]
	}
	// cin is constant input i, nil when it is not one.
	cin := func(i int) *tensor.Tensor {
		if i >= len(st.in) || st.in[i] < 0 {
			return nil
		}
		return p.consts[st.in[i]]
	}
	// constRest: every input but the first is omitted or constant.
	constRest := func() bool {
		for _, v := range st.in[1:] {
			if v >= 0 && p.consts[v] == nil {
				return false
			}
		}
		return true
	}
	attr := func(name string, def int64) int64 {
		for _, a := range n.GetAttributes() {
			if a.GetName() == name {
				return a.GetI()
			}
		}
		return def
	}
	// notBatchAxis: attribute axis (default def) of a tensor of rank r
	// is not the first.
	notBatchAxis := func(def int64, r int) bool {
		a := attr("axis", def)
		if a < 0 {
			a += int64(r)
		}
		return a > 0 && a < int64(r)
	}
	r0 := in(0)
	if r0 == 0 {
		return 0, false
	}
	if domain == ops.DomainPot {
		switch n.GetOpType() {
		case "QConv", "QMatMul":
			return r0, constRest() && (n.GetOpType() == "QConv" || r0 >= 2)
		case "QLut":
			return r0, constRest()
		case "QLevels", "QDequantize", "FakeQuantize":
			return r0, constRest() && (notBatchAxis(1, r0) || p.scalarParams(st))
		case "QAdd":
			if len(st.in) < 4 || in(3) != r0 {
				return 0, false
			}
			for i, v := range st.in {
				if i != 0 && i != 3 && v >= 0 && p.consts[v] == nil {
					return 0, false
				}
			}
			return r0, true
		}
		return 0, false
	}
	if domain != "" {
		return 0, false
	}
	switch op := n.GetOpType(); op {
	case "Relu", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Elu", "Selu", "Softplus", "Softsign",
		"Exp", "Log", "Abs", "Neg", "Sqrt", "Reciprocal", "Erf", "Gelu", "Identity", "Cast", "Floor", "Ceil", "Round":
		return r0, len(st.in) == 1
	case "Clip":
		return r0, constRest()
	case "Dropout":
		return r0, constRest() && len(st.out) == 1
	case "Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "PRelu":
		// The output has the rank of the batch operands; a constant
		// operand must not reach the first axis.
		out := 0
		for i := range st.in {
			out = max(out, in(i))
		}
		for i, v := range st.in {
			switch {
			case v < 0:
				return 0, false
			case in(i) > 0 && in(i) != out:
				return 0, false
			case in(i) == 0:
				c := p.consts[v]
				if c == nil || c.Rank() > out || c.Rank() == out && c.Shape[0] != 1 {
					return 0, false
				}
			}
		}
		return out, true
	case "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool", "BatchNormalization", "InstanceNormalization", "LRN":
		return r0, r0 >= 3 && constRest() && len(st.out) == 1
	case "Gemm":
		c := st.in
		if r0 != 2 || attr("transA", 0) != 0 || !constRest() {
			return 0, false
		}
		if b := cin(2); len(c) > 2 && b != nil && b.Rank() == 2 && b.Shape[0] != 1 {
			return 0, false
		}
		return 2, true
	case "MatMul":
		b := cin(1)
		return r0, len(st.in) == 2 && r0 >= 2 && b != nil && b.Rank() == 2
	case "Flatten":
		return 2, attr("axis", 1) >= 1 && int(attr("axis", 1)) <= r0
	case "Reshape":
		// Only a shape that copies the batch dimension (0 first).
		s := cin(1)
		if len(st.in) != 2 || s == nil || attr("allowzero", 0) != 0 {
			return 0, false
		}
		shape, ok := s.Data.([]int64)
		if !ok || len(shape) == 0 || shape[0] != 0 {
			return 0, false
		}
		return len(shape), true
	case "Softmax", "LogSoftmax", "Hardmax":
		def := int64(-1)
		if p.opsets[""] < 13 {
			def = 1
		}
		return r0, len(st.in) == 1 && notBatchAxis(def, r0)
	case "ArgMax", "ArgMin":
		if !notBatchAxis(0, r0) {
			return 0, false
		}
		if attr("keepdims", 1) == 0 {
			return r0 - 1, true
		}
		return r0, true
	case "Transpose":
		for _, a := range n.GetAttributes() {
			if a.GetName() == "perm" {
				return r0, len(a.GetInts()) == r0 && a.GetInts()[0] == 0
			}
		}
		return 0, false
	case "Concat":
		for i := range st.in {
			if in(i) != r0 {
				return 0, false
			}
		}
		return r0, notBatchAxis(0, r0)
	}
	return 0, false
}

// scalarParams reports whether every constant input of st holds one
// value (per-tensor quantization parameters).
func (p *Program) scalarParams(st step) bool {
	for _, v := range st.in[1:] {
		if v >= 0 && (p.consts[v] == nil || p.consts[v].Len() != 1) {
			return false
		}
	}
	return true
}

// splitState is what a session keeps for sample-parallel runs: a
// session per thread, the views of the inputs per thread and the joined
// outputs.
type splitState struct {
	parts  []*Session
	views  [][]*tensor.Tensor
	joined []*tensor.Tensor
	ends   []int // of the chunks of the last run (chunkEnds)
}

// splits tells whether this run of the session, its inputs bound, may be
// sample-parallel, and the batch size: the program allows it, nothing
// but outputs is watched (or values are observed per sample,
// ObserveSamples), the inputs share a first axis of more than one chunk.
func (s *Session) splits() (int, bool) {
	p := s.p
	if !p.sampleParallel || len(s.inner) > 0 {
		return 0, false
	}
	if s.onSamples == nil {
		if s.onValue != nil {
			return 0, false
		}
		for v, w := range s.watch {
			if w && !p.isOutput(v) {
				return 0, false
			}
		}
	}
	batch := -1
	for _, spec := range p.inputs {
		t := s.vals[spec.value]
		if t == nil || t.Rank() == 0 || batch >= 0 && t.Shape[0] != batch {
			return 0, false
		}
		batch = t.Shape[0]
	}
	return batch, batch > chunkSamples
}

// runSplit runs a batch of n samples, the inputs bound, chunk by chunk
// over the threads (see findSampleParallel) and joins the chunks'
// outputs into the session's values.
func (s *Session) runSplit(ctx context.Context, n int) error {
	p := s.p
	workers := min(p.ctx.Threads, (n+chunkSamples-1)/chunkSamples)
	sp := s.split
	if sp == nil {
		sp = &splitState{joined: make([]*tensor.Tensor, len(p.outputs))}
		for i := range sp.joined {
			sp.joined[i] = &tensor.Tensor{}
		}
		s.split = sp
	}
	sp.ends = chunkEnds(sp.ends, n, workers)
	ends, chunks := sp.ends, len(sp.ends)
	for len(sp.parts) < workers {
		sub := p.NewSession()
		sub.ctx = ops.NewContext(1)
		sp.parts = append(sp.parts, sub)
		views := make([]*tensor.Tensor, len(p.inputs))
		for i := range views {
			views[i] = &tensor.Tensor{}
		}
		sp.views = append(sp.views, views)
	}
	s.observeParts()
	var (
		next     atomic.Int64
		failed   atomic.Bool
		firstErr error
		mu       sync.Mutex // guards firstErr and the shaping of joined
		shaped   = make([]bool, len(p.outputs))
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		failed.Store(true)
	}
	work := func(w int) {
		sub, views := sp.parts[w], sp.views[w]
		for !failed.Load() {
			c := int(next.Add(1) - 1)
			if c >= chunks {
				return
			}
			lo, hi := 0, ends[c]
			if c > 0 {
				lo = ends[c-1]
			}
			for i, spec := range p.inputs {
				views[i].ViewRows(s.vals[spec.value], lo, hi)
			}
			sub.first = lo
			if err := sub.runChunk(ctx, views); err != nil {
				fail(err)
				return
			}
			for i := range p.outputs {
				o := sub.output(i)
				if o.Rank() == 0 || o.Shape[0] != hi-lo {
					fail(fmt.Errorf("output %q of shape %v for %d samples: not one row per sample", p.names[p.outputs[i]], o.Shape, hi-lo))
					return
				}
				mu.Lock()
				if !shaped[i] {
					shape := append([]int{n}, o.Shape[1:]...)
					if err := resetChecked(sp.joined[i], o.DType, shape); err != nil {
						mu.Unlock()
						fail(err)
						return
					}
					shaped[i] = true
				}
				mu.Unlock()
				if err := sp.joined[i].CopyRows(lo, o); err != nil {
					fail(fmt.Errorf("output %q: %w", p.names[p.outputs[i]], err))
					return
				}
			}
		}
	}
	p.ctx.Parallel(workers, 1, func(lo, hi int) {
		for w := lo; w < hi; w++ {
			work(w)
		}
	})
	if firstErr != nil {
		return firstErr
	}
	for i, v := range p.outputs {
		s.vals[v] = sp.joined[i]
	}
	return nil
}

// observeParts makes the chunks' sessions of a sample-parallel run watch
// what s observes per sample (ObserveSamples), passing each chunk's
// values to s's fn with the chunk's first sample, or watch nothing.
func (s *Session) observeParts() {
	for _, sub := range s.split.parts {
		if s.onSamples == nil {
			if sub.onValue != nil {
				sub.watchNames(nil, nil, false)
			}
			continue
		}
		copy(sub.watch, s.watch)
		fn := s.onSamples
		sub.onValue = func(name string, t *tensor.Tensor) error {
			n := sub.chunkRows()
			if t.Rank() == 0 || t.Shape[0] != n {
				return fmt.Errorf("value %q of shape %v for %d samples: not one row per sample", name, t.Shape, n)
			}
			return fn(name, sub.first, n, t)
		}
	}
}

// chunkRows is the number of samples of the chunk a chunk's session runs.
func (s *Session) chunkRows() int {
	for _, spec := range s.p.inputs {
		if t := s.vals[spec.value]; t != nil && t.Rank() > 0 {
			return t.Shape[0]
		}
	}
	return 0
}

// resetChecked is t.Reset that returns a refused size as an error.
func resetChecked(t *tensor.Tensor, dtype tensor.DType, shape []int) (err error) {
	defer kernelPanic(&err)
	t.Reset(dtype, shape)
	return nil
}

// runChunk runs the program on a chunk of a batch, views of the
// caller's inputs (already checked).
func (s *Session) runChunk(ctx context.Context, inputs []*tensor.Tensor) error {
	p := s.p
	s.gen++
	for i, c := range p.consts {
		s.vals[i] = c
	}
	for i, spec := range p.inputs {
		s.vals[spec.value] = inputs[i]
	}
	return s.exec(ctx)
}

// SampleParallel reports whether sessions may run a batch of this
// program as independent chunks of samples (see findSampleParallel).
func (p *Program) SampleParallel() bool { return p.sampleParallel }
