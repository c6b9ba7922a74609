package ops

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

// The recurrent layers RNN, GRU and LSTM (opsets 7 and 14; 14 added the
// layout attribute). For each direction the input projection X·Wᵀ of
// all time steps is one GEMM; each step then adds H·Rᵀ (a GEMM over the
// batch) and applies the gate arithmetic. Constant weights are packed
// once, at compile time.

func init() {
	for _, v := range []int64{7, 14} {
		register(DomainONNX, "RNN", v, rnnFactory(rnnSimple))
		register(DomainONNX, "GRU", v, rnnFactory(rnnGRU))
		register(DomainONNX, "LSTM", v, rnnFactory(rnnLSTM))
	}
}

type rnnKind int

const (
	rnnSimple rnnKind = iota
	rnnGRU
	rnnLSTM
)

// gates is the number of gates, G: W is [dirs, G·H, I].
func (k rnnKind) gates() int { return [...]int{1, 3, 4}[k] }

// activations is the number of activation functions per direction.
func (k rnnKind) activations() int { return [...]int{1, 2, 3}[k] }

func (k rnnKind) defaults() []string {
	return [...][]string{{"Tanh"}, {"Sigmoid", "Tanh"}, {"Sigmoid", "Tanh", "Tanh"}}[k]
}

// rnnFunc is an activation function of a recurrent layer.
type rnnFunc int

const (
	actRelu rnnFunc = iota
	actTanh
	actSigmoid
	actAffine
	actLeakyRelu
	actThresholdedRelu
	actScaledTanh
	actHardSigmoid
	actElu
	actSoftsign
	actSoftplus
)

// rnnFuncs maps the lower-case names of the activation functions to the
// function and whether it reads alpha and beta.
var rnnFuncs = map[string]struct {
	fn          rnnFunc
	alpha, beta bool
}{
	"relu": {actRelu, false, false}, "tanh": {actTanh, false, false}, "sigmoid": {actSigmoid, false, false},
	"affine": {actAffine, true, true}, "leakyrelu": {actLeakyRelu, true, false},
	"thresholdedrelu": {actThresholdedRelu, true, false}, "scaledtanh": {actScaledTanh, true, true},
	"hardsigmoid": {actHardSigmoid, true, true}, "elu": {actElu, true, false},
	"softsign": {actSoftsign, false, false}, "softplus": {actSoftplus, false, false},
}

// rnnAct is an activation with its parameters.
type rnnAct struct {
	fn          rnnFunc
	alpha, beta float32
}

// rnnActivations parses the activations attribute with its alphas and
// betas. As in ONNX Runtime, alphas and betas are consumed in order by
// the functions that take them; a function past the end of the list
// takes its default (LeakyRelu 0.01, HardSigmoid 0.2 and 0.5, Elu 1,
// otherwise 0). One set of functions for a bidirectional layer serves
// both directions.
func rnnActivations(n *Node, kind rnnKind, dirs int) ([][]rnnAct, error) {
	names := n.Strings("activations", nil)
	per := kind.activations()
	if names == nil {
		for range dirs {
			names = append(names, kind.defaults()...)
		}
	}
	if len(names) == per && dirs == 2 {
		names = append(names, names...)
	}
	if len(names) != per*dirs {
		return nil, fmt.Errorf("activations: %d functions, want %d per direction for %d direction(s)", len(names), per, dirs)
	}
	alphas := n.Floats("activation_alpha", nil)
	betas := n.Floats("activation_beta", nil)
	out := make([][]rnnAct, dirs)
	for i, name := range names {
		f, ok := rnnFuncs[strings.ToLower(name)]
		if !ok {
			return nil, Unsupported(n, "activation function %q is", name)
		}
		a := rnnAct{fn: f.fn}
		switch f.fn {
		case actLeakyRelu:
			a.alpha = 0.01
		case actHardSigmoid:
			a.alpha, a.beta = 0.2, 0.5
		case actElu:
			a.alpha = 1
		}
		if f.alpha && len(alphas) > 0 {
			a.alpha, alphas = alphas[0], alphas[1:]
		}
		if f.beta && len(betas) > 0 {
			a.beta, betas = betas[0], betas[1:]
		}
		out[i/per] = append(out[i/per], a)
	}
	return out, nil
}

// apply computes x = act(clip(x)) in place; clip 0 means no clipping.
func (a rnnAct) apply(x []float32, clip float32) {
	if clip > 0 {
		for i, v := range x {
			x[i] = min(max(v, -clip), clip)
		}
	}
	switch a.fn {
	case actRelu:
		kernels.ReLU(x, x)
	case actTanh:
		tanh32(x, x)
	case actSigmoid:
		sigmoid32(x, x)
	case actAffine:
		for i, v := range x {
			x[i] = a.alpha*v + a.beta
		}
	case actLeakyRelu:
		for i, v := range x {
			if v < 0 {
				x[i] = a.alpha * v
			}
		}
	case actThresholdedRelu:
		for i, v := range x {
			if v <= a.alpha {
				x[i] = 0
			}
		}
	case actScaledTanh:
		for i, v := range x {
			x[i] = a.beta * v
		}
		tanh32(x, x)
		for i, v := range x {
			x[i] = a.alpha * v
		}
	case actHardSigmoid:
		for i, v := range x {
			x[i] = min(max(a.alpha*v+a.beta, 0), 1)
		}
	case actElu:
		for i, v := range x {
			if v < 0 {
				x[i] = a.alpha * float32(math.Expm1(float64(v)))
			}
		}
	case actSoftsign:
		for i, v := range x {
			x[i] = v / (1 + float32(math.Abs(float64(v))))
		}
	case actSoftplus:
		for i, v := range x {
			x[i] = float32(softplus(float64(v)))
		}
	}
}

type rnnKernel struct {
	kind    rnnKind
	hidden  int // the hidden_size attribute, 0 when absent
	dirs    int
	reverse bool // one direction, reversed
	layout  int
	clip    float32
	// inputForget couples LSTM's input and forget gates (f = 1 - i).
	inputForget bool
	// linearBeforeReset applies GRU's reset gate after the product with
	// R_h (and its bias).
	linearBeforeReset bool
	acts              [][]rnnAct // per direction
	// Constant weights packed per direction: W (G·H columns), R (all
	// gates; for GRU the z and r gates only) and GRU's R_h.
	w, r, rh []*kernels.PackedB
	pool     sync.Pool // *rnnScratch
}

type rnnScratch struct {
	xw, gates, bias, rbh, h, c, hr, tmp []float32
	lens                                []int
}

func growF32(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

func rnnFactory(kind rnnKind) Factory {
	return func(n *Node) (Kernel, error) {
		k := &rnnKernel{kind: kind, hidden: int(n.Int("hidden_size", 0)), dirs: 1}
		switch d := n.String("direction", "forward"); d {
		case "forward":
		case "reverse":
			k.reverse = true
		case "bidirectional":
			k.dirs = 2
		default:
			return nil, fmt.Errorf("direction %q is not forward, reverse or bidirectional", d)
		}
		if n.Opset >= 14 {
			k.layout = int(n.Int("layout", 0))
			if k.layout != 0 && k.layout != 1 {
				return nil, fmt.Errorf("layout %d is not 0 or 1", k.layout)
			}
		}
		if n.Has("clip") {
			k.clip = n.Float("clip", 0)
			if !(k.clip > 0) {
				return nil, fmt.Errorf("clip %g is not positive", k.clip)
			}
		}
		switch kind {
		case rnnLSTM:
			k.inputForget = n.Int("input_forget", 0) != 0
		case rnnGRU:
			k.linearBeforeReset = n.Int("linear_before_reset", 0) != 0
		}
		var err error
		if k.acts, err = rnnActivations(n, kind, k.dirs); err != nil {
			return nil, err
		}
		k.pool.New = func() any { return new(rnnScratch) }
		if err := k.pack(n.Const(1), n.Const(2)); err != nil {
			return nil, err
		}
		return k, nil
	}
}

// pack packs constant float32 weights W and R (either may be nil).
func (k *rnnKernel) pack(w, r *tensor.Tensor) error {
	g := k.kind.gates()
	if r != nil && r.DType == tensor.Float && r.Rank() == 3 && r.Shape[0] == k.dirs && r.Shape[1] == g*r.Shape[2] {
		h := r.Shape[2]
		if k.hidden > 0 && k.hidden != h {
			return fmt.Errorf("R of shape %v does not match hidden_size %d", r.Shape, k.hidden)
		}
		rd := r.F32()
		for d := range k.dirs {
			m := rd[d*g*h*h : (d+1)*g*h*h]
			cols := g * h
			if k.kind == rnnGRU {
				cols = 2 * h
				pb, err := kernels.PackB(h, h, m[2*h*h:], h, true)
				if err != nil {
					return fmt.Errorf("R: %w", err)
				}
				k.rh = append(k.rh, pb)
			}
			pb, err := kernels.PackB(h, cols, m, h, true)
			if err != nil {
				return fmt.Errorf("R: %w", err)
			}
			k.r = append(k.r, pb)
		}
	}
	if w != nil && w.DType == tensor.Float && w.Rank() == 3 && w.Shape[0] == k.dirs {
		gh, in := w.Shape[1], w.Shape[2]
		wd := w.F32()
		for d := range k.dirs {
			pb, err := kernels.PackB(in, gh, wd[d*gh*in:(d+1)*gh*in], in, true)
			if err != nil {
				return fmt.Errorf("W: %w", err)
			}
			k.w = append(k.w, pb)
		}
	}
	return nil
}

// rnnShapes are the sizes of one run.
type rnnShapes struct {
	seq, batch, input, hidden, gh int
}

func (k *rnnKernel) Run(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 3); err != nil {
		return err
	}
	x, w, r := in[0], in[1], in[2]
	for i, t := range []*tensor.Tensor{x, w, r} {
		if t.DType != tensor.Float {
			return fmt.Errorf("input %d is %v: only float32 is supported", i, t.DType)
		}
	}
	opt := func(i int) *tensor.Tensor {
		if i < len(in) {
			return in[i]
		}
		return nil
	}
	g := k.kind.gates()
	if x.Rank() != 3 || w.Rank() != 3 || r.Rank() != 3 {
		return fmt.Errorf("X %v, W %v and R %v must have rank 3", x.Shape, w.Shape, r.Shape)
	}
	var sh rnnShapes
	sh.seq, sh.batch, sh.input = x.Shape[0], x.Shape[1], x.Shape[2]
	if k.layout == 1 {
		sh.seq, sh.batch = sh.batch, sh.seq
	}
	sh.hidden = r.Shape[2]
	sh.gh = g * sh.hidden
	if k.hidden > 0 && k.hidden != sh.hidden {
		return fmt.Errorf("R of shape %v does not match hidden_size %d", r.Shape, k.hidden)
	}
	if w.Shape[0] != k.dirs || w.Shape[1] != sh.gh || w.Shape[2] != sh.input {
		return fmt.Errorf("W of shape %v, want [%d %d %d]", w.Shape, k.dirs, sh.gh, sh.input)
	}
	if r.Shape[0] != k.dirs || r.Shape[1] != sh.gh {
		return fmt.Errorf("R of shape %v, want [%d %d %d]", r.Shape, k.dirs, sh.gh, sh.hidden)
	}
	b := opt(3)
	if b != nil && (b.DType != tensor.Float || b.Len() != k.dirs*2*sh.gh) {
		return fmt.Errorf("B is %v of shape %v, want float32 [%d %d]", b.DType, b.Shape, k.dirs, 2*sh.gh)
	}
	sc := k.pool.Get().(*rnnScratch)
	defer k.pool.Put(sc)
	lens, err := sequenceLens(opt(4), sh, sc)
	if err != nil {
		return err
	}
	ss := [3]int{k.dirs, sh.batch, sh.hidden}
	if k.layout == 1 {
		ss = [3]int{sh.batch, k.dirs, sh.hidden}
	}
	stateShape := ss[:]
	initH, initC, p := opt(5), opt(6), opt(7)
	if k.kind != rnnLSTM {
		initC, p = nil, nil
	}
	for _, s := range []struct {
		name string
		t    *tensor.Tensor
	}{{"initial_h", initH}, {"initial_c", initC}} {
		if s.t != nil && (s.t.DType != tensor.Float || !slices.Equal(s.t.Shape, stateShape)) {
			return fmt.Errorf("%s is %v of shape %v, want float32 %v", s.name, s.t.DType, s.t.Shape, ss)
		}
	}
	if p != nil && (p.DType != tensor.Float || p.Len() != k.dirs*3*sh.hidden) {
		return fmt.Errorf("P is %v of shape %v, want float32 [%d %d]", p.DType, p.Shape, k.dirs, 3*sh.hidden)
	}
	outAt := func(i int) *tensor.Tensor {
		if i < len(out) {
			return out[i]
		}
		return nil
	}
	y, yh, yc := outAt(0), outAt(1), outAt(2)
	if k.kind != rnnLSTM {
		yc = nil
	}
	if y != nil {
		shape := []int{sh.seq, k.dirs, sh.batch, sh.hidden}
		if k.layout == 1 {
			shape = []int{sh.batch, sh.seq, k.dirs, sh.hidden}
		}
		y.ResetZero(tensor.Float, shape)
	}
	for _, t := range []*tensor.Tensor{yh, yc} {
		if t != nil {
			t.Reset(tensor.Float, stateShape)
		}
	}
	for d := range k.dirs {
		if err := k.direction(ctx, d, sh, lens, x, w, r, b, initH, initC, p, y, yh, yc, sc); err != nil {
			return err
		}
	}
	return nil
}

// sequenceLens reads the optional sequence_lens input (int32, or int64)
// into sc.lens; all sequences have the full length without it.
func sequenceLens(t *tensor.Tensor, sh rnnShapes, sc *rnnScratch) ([]int, error) {
	if cap(sc.lens) < sh.batch {
		sc.lens = make([]int, sh.batch)
	}
	lens := sc.lens[:sh.batch]
	if t == nil {
		for i := range lens {
			lens[i] = sh.seq
		}
		return lens, nil
	}
	if t.Len() != sh.batch {
		return nil, fmt.Errorf("sequence_lens has %d values for a batch of %d", t.Len(), sh.batch)
	}
	for i := range lens {
		var v int64
		switch d := t.Data.(type) {
		case []int32:
			v = int64(d[i])
		case []int64:
			v = d[i]
		default:
			return nil, fmt.Errorf("sequence_lens is %v, want int32", t.DType)
		}
		if v < 0 || v > int64(sh.seq) {
			return nil, fmt.Errorf("sequence_lens[%d] = %d is outside [0, %d]", i, v, sh.seq)
		}
		lens[i] = int(v)
	}
	return lens, nil
}

// stateRow is the offset of the state of direction d and batch entry b
// in initial_h, Y_h and the like.
func (k *rnnKernel) stateRow(d, b int, sh rnnShapes) int {
	if k.layout == 1 {
		return (b*k.dirs + d) * sh.hidden
	}
	return (d*sh.batch + b) * sh.hidden
}

// direction runs direction d over the whole sequence.
func (k *rnnKernel) direction(ctx *Context, d int, sh rnnShapes, lens []int, x, w, r, b, initH, initC, p, y, yh, yc *tensor.Tensor, sc *rnnScratch) error {
	H, GH, B := sh.hidden, sh.gh, sh.batch
	rows := sh.seq * B
	reverse := k.reverse || d == 1
	acts := k.acts[d]

	// The input projection of every time step.
	sc.xw = growF32(sc.xw, rows*GH)
	xw := sc.xw
	wd := w.F32()[d*GH*sh.input : (d+1)*GH*sh.input]
	if rows > 0 {
		var err error
		if d < len(k.w) && k.w[d].K == sh.input && k.w[d].N == GH {
			err = parallelPackedB(ctx, k.w[d], false, rows, 1, x.F32(), sh.input, 0, xw, GH)
		} else {
			err = parallelSgemm(ctx, false, true, rows, GH, sh.input, 1, x.F32(), sh.input, wd, sh.input, 0, xw, GH)
		}
		if err != nil {
			return fmt.Errorf("input projection: %w", err)
		}
	}
	// Biases: Wb + Rb, except GRU's Rb_h with linear_before_reset, which
	// is added to H·R_hᵀ before the reset gate.
	sc.bias = growF32(sc.bias, GH)
	bias := sc.bias
	clear(bias)
	sc.rbh = growF32(sc.rbh, H)
	rbh := sc.rbh
	clear(rbh)
	if b != nil {
		bd := b.F32()[d*2*GH : (d+1)*2*GH]
		for i := range GH {
			bias[i] = bd[i] + bd[GH+i]
		}
		if k.kind == rnnGRU && k.linearBeforeReset {
			for i := range H {
				rbh[i] = bd[GH+2*H+i]
				bias[2*H+i] = bd[2*H+i]
			}
		}
	}
	// States.
	sc.h = growF32(sc.h, B*H)
	sc.c = growF32(sc.c, B*H)
	h, c := sc.h, sc.c
	for bi := range B {
		row := k.stateRow(d, bi, sh)
		if initH != nil {
			copy(h[bi*H:(bi+1)*H], initH.F32()[row:row+H])
		} else {
			clear(h[bi*H : (bi+1)*H])
		}
		if initC != nil {
			copy(c[bi*H:(bi+1)*H], initC.F32()[row:row+H])
		} else {
			clear(c[bi*H : (bi+1)*H])
		}
	}
	var peep []float32
	if p != nil {
		peep = p.F32()[d*3*H : (d+1)*3*H]
	}
	sc.gates = growF32(sc.gates, B*GH)
	sc.hr = growF32(sc.hr, B*H)
	sc.tmp = growF32(sc.tmp, H)
	gates, hr, tmp := sc.gates, sc.hr, sc.tmp
	rd := r.F32()[d*GH*H : (d+1)*GH*H]
	packed := d < len(k.r) && k.r[d].K == H
	// recur adds a·op(R rows lo..lo+n)ᵀ (a is B×H) to c (ldc columns).
	recur := func(pb *kernels.PackedB, lo, n int, a []float32, beta float32, c []float32, ldc int) error {
		if packed {
			return pb.Mul(false, B, 1, a, H, beta, c, ldc)
		}
		return kernels.Sgemm(false, true, B, n, H, 1, a, H, rd[lo*H:], H, beta, c, ldc)
	}
	var rAll, rH *kernels.PackedB
	if packed {
		rAll = k.r[d]
		if k.kind == rnnGRU {
			rH = k.rh[d]
		}
	}
	maxLen := 0
	for _, l := range lens {
		maxLen = max(maxLen, l)
	}
	timeOf := func(s, bi int) int {
		if reverse {
			return lens[bi] - 1 - s
		}
		return s
	}
	xRow := func(t, bi int) int {
		if k.layout == 1 {
			return bi*sh.seq + t
		}
		return t*B + bi
	}
	for s := range maxLen {
		for bi := range B {
			g := gates[bi*GH : (bi+1)*GH]
			if s >= lens[bi] {
				clear(g)
				continue
			}
			src := xw[xRow(timeOf(s, bi), bi)*GH:][:GH]
			for i, v := range src {
				g[i] = v + bias[i]
			}
		}
		var err error
		switch k.kind {
		case rnnSimple, rnnLSTM:
			err = recur(rAll, 0, GH, h, 1, gates, GH)
		case rnnGRU:
			err = recur(rAll, 0, 2*H, h, 1, gates, GH)
			if err == nil && k.linearBeforeReset {
				err = recur(rH, 2*H, H, h, 0, hr, H)
			}
		}
		if err != nil {
			return fmt.Errorf("step %d: %w", s, err)
		}
		if k.kind == rnnGRU {
			// z and r, then (r ⊙ H)·R_hᵀ or r ⊙ (H·R_hᵀ + Rb_h).
			for bi := range B {
				g := gates[bi*GH : (bi+1)*GH]
				if s >= lens[bi] {
					clear(hr[bi*H : (bi+1)*H])
					continue
				}
				acts[0].apply(g[:2*H], k.clip)
				rg, hp, hh := g[H:2*H], h[bi*H:(bi+1)*H], hr[bi*H:(bi+1)*H]
				if k.linearBeforeReset {
					for i := range H {
						hh[i] = rg[i] * (hh[i] + rbh[i])
					}
				} else {
					for i := range H {
						hh[i] = rg[i] * hp[i]
					}
				}
			}
			if k.linearBeforeReset {
				for bi := range B {
					hh, g := hr[bi*H:(bi+1)*H], gates[bi*GH+2*H:bi*GH+3*H]
					for i := range H {
						g[i] += hh[i]
					}
				}
			} else if err := recur(rH, 2*H, H, hr, 1, gates[2*H:], GH); err != nil {
				return fmt.Errorf("step %d: %w", s, err)
			}
		}
		for bi := range B {
			if s >= lens[bi] {
				continue
			}
			g := gates[bi*GH : (bi+1)*GH]
			hp := h[bi*H : (bi+1)*H]
			switch k.kind {
			case rnnSimple:
				acts[0].apply(g, k.clip)
				copy(hp, g)
			case rnnGRU:
				z, hh := g[:H], g[2*H:3*H]
				acts[1].apply(hh, k.clip)
				for i := range H {
					hp[i] = (1-z[i])*hh[i] + z[i]*hp[i]
				}
			case rnnLSTM:
				k.lstmCell(g, hp, c[bi*H:(bi+1)*H], peep, acts, tmp, H)
			}
			if y != nil {
				t := timeOf(s, bi)
				off := ((t*k.dirs+d)*B + bi) * H
				if k.layout == 1 {
					off = ((bi*sh.seq+t)*k.dirs + d) * H
				}
				copy(y.F32()[off:off+H], hp)
			}
		}
	}
	for bi := range B {
		row := k.stateRow(d, bi, sh)
		if yh != nil {
			copy(yh.F32()[row:row+H], h[bi*H:(bi+1)*H])
		}
		if yc != nil {
			copy(yc.F32()[row:row+H], c[bi*H:(bi+1)*H])
		}
	}
	return nil
}

// lstmCell updates the cell c and hidden state h of one batch entry from
// its gate pre-activations g (i, o, f, c).
func (k *rnnKernel) lstmCell(g, h, c, peep []float32, acts []rnnAct, tmp []float32, H int) {
	gi, gO, gf, gc := g[:H], g[H:2*H], g[2*H:3*H], g[3*H:4*H]
	if peep != nil {
		pi, pf := peep[:H], peep[2*H:3*H]
		for j := range H {
			gi[j] += pi[j] * c[j]
			gf[j] += pf[j] * c[j]
		}
	}
	acts[0].apply(gi, k.clip)
	if k.inputForget {
		for j := range H {
			gf[j] = 1 - gi[j]
		}
	} else {
		acts[0].apply(gf, k.clip)
	}
	acts[1].apply(gc, k.clip)
	for j := range H {
		c[j] = gf[j]*c[j] + gi[j]*gc[j]
	}
	if peep != nil {
		po := peep[H : 2*H]
		for j := range H {
			gO[j] += po[j] * c[j]
		}
	}
	acts[0].apply(gO, k.clip)
	copy(tmp, c)
	acts[2].apply(tmp, 0)
	for j := range H {
		h[j] = gO[j] * tmp[j]
	}
}
