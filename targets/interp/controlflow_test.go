package interp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/tensor"
)

func nd(name, op string, in, out []string, attrs ...*potv1.Attribute) *potv1.Node {
	return &potv1.Node{Name: name, OpType: op, Inputs: in, Outputs: out, Attributes: attrs}
}

func graphAttr(name string, g *potv1.Graph) *potv1.Attribute {
	return &potv1.Attribute{Name: name, Type: potv1.Attribute_TYPE_GRAPH, G: g}
}

func vinfo(name string, dt potv1.DataType) *potv1.ValueInfo {
	return &potv1.ValueInfo{Name: name, Dtype: dt}
}

const (
	f32   = potv1.DataType_DATA_TYPE_FLOAT
	i64   = potv1.DataType_DATA_TYPE_INT64
	bool_ = potv1.DataType_DATA_TYPE_BOOL
)

// ifGraph: a = Relu(x), b = Neg(x), c = Abs(b) (all before the If in
// node order only for b and c); If(cond) then t = Add(a, one) ·
// Mul(t, w) with w an initializer of the main graph, else e = Sub(b, a).
// a has no reader but the branches: it lives until the If runs.
func ifGraph() *potv1.Graph {
	then := &potv1.Graph{Name: "then",
		Initializers: []*potv1.Tensor{ToProto("one", tensor.Scalar(float32(1)))},
		Nodes: []*potv1.Node{
			nd("t_add", "Add", []string{"a", "one"}, []string{"t"}),
			nd("t_mul", "Mul", []string{"t", "w"}, []string{"t_out"}),
		},
		Outputs: []*potv1.ValueInfo{vinfo("t_out", f32)}}
	els := &potv1.Graph{Name: "else",
		Nodes:   []*potv1.Node{nd("e_sub", "Sub", []string{"c", "a"}, []string{"e_out"})},
		Outputs: []*potv1.ValueInfo{vinfo("e_out", f32)}}
	return &potv1.Graph{Name: "main", Opsets: []*potv1.OpsetImport{{Version: 13}},
		Inputs:       []*potv1.ValueInfo{vinfo("x", f32), vinfo("cond", bool_)},
		Outputs:      []*potv1.ValueInfo{vinfo("y", f32)},
		Initializers: []*potv1.Tensor{ToProto("w", tensor.From([]int{3}, []float32{2, 3, 4}))},
		Nodes: []*potv1.Node{
			nd("if", "If", []string{"cond"}, []string{"y"}, graphAttr("then_branch", then), graphAttr("else_branch", els)),
			nd("relu", "Relu", []string{"x"}, []string{"a"}),
			nd("neg", "Neg", []string{"x"}, []string{"b"}),
			nd("abs", "Abs", []string{"b"}, []string{"c"}),
		}}
}

// TestIfCapturesAndLifetimes runs ifGraph: the If runs after the
// producers of the values its branches read, and those stay alive (not
// reused for later values) until it ran.
func TestIfCapturesAndLifetimes(t *testing.T) {
	p, err := Compile(ifGraph(), Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	x := tensor.From([]int{3}, []float32{-1, 2, -3})
	for _, tc := range []struct {
		cond bool
		want []float32
	}{
		{true, []float32{2, 9, 4}},  // (relu(x)+1)·w
		{false, []float32{1, 0, 3}}, // |−x| − relu(x)
	} {
		res, err := p.Run(context.Background(), map[string]*tensor.Tensor{"x": x, "cond": tensor.Scalar(tc.cond)})
		if err != nil {
			t.Fatal(err)
		}
		if got := res["y"].F32(); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("cond %v: y = %v, want %v", tc.cond, got, tc.want)
		}
	}
	// The If is the last step; a, read only by the branches, is kept.
	last := p.steps[len(p.steps)-1]
	if last.node.GetOpType() != "If" {
		t.Fatalf("the If runs as step %s, not last", last.node.GetName())
	}
	a := p.index["a"]
	for si, rel := range p.release {
		for _, slot := range rel {
			if slot == p.slotOf[a] && si < len(p.steps)-1 {
				t.Errorf("a's buffer is released after step %d (%s), before the If", si, p.steps[si].node.GetName())
			}
		}
	}
	// The then branch reads w, a constant: bound as one, not captured.
	then := last.kernel.(*ifKernel).then
	for _, c := range then.captures {
		if then.names[c.value] == "w" {
			t.Error("the constant w is captured")
		}
	}
	if v := then.index["w"]; then.consts[v] == nil || !then.borrowed[v] {
		t.Error("w is not a borrowed constant of the branch")
	}
}

// TestWatchSubgraphValues: values of the branch that runs are passed to
// the callback once per run, of the branch that does not never; values
// of a Loop body once per iteration.
func TestWatchSubgraphValues(t *testing.T) {
	p, err := Compile(ifGraph(), Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, name := range []string{"t", "t_out", "e_out", "a", "y"} {
		if !p.Has(name) {
			t.Errorf("Has(%q) = false", name)
		}
	}
	if p.Has("nothing") {
		t.Error(`Has("nothing") = true`)
	}
	s := p.NewSession()
	if err := s.Watch([]string{"nothing"}, nil); err == nil {
		t.Error("watching an unknown tensor is not an error")
	}
	calls := map[string]int{}
	if err := s.Watch([]string{"t", "e_out", "a"}, func(name string, v *tensor.Tensor) error {
		calls[name]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	x := tensor.From([]int{3}, []float32{-1, 2, -3})
	for _, cond := range []bool{true, false, true} {
		clear(calls)
		if err := s.Run(context.Background(), []*tensor.Tensor{x, tensor.Scalar(cond)}); err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"a": 1, "t": 1}
		if !cond {
			want = map[string]int{"a": 1, "e_out": 1}
		}
		if fmt.Sprint(calls) != fmt.Sprint(want) {
			t.Errorf("cond %v: calls %v, want %v", cond, calls, want)
		}
		if (s.Value("t") != nil) != cond || (s.Value("e_out") != nil) == cond {
			t.Errorf("cond %v: Value(t) = %v, Value(e_out) = %v", cond, s.Value("t"), s.Value("e_out"))
		}
	}
	if got := s.Value("t").F32(); fmt.Sprint(got) != "[1 3 1]" {
		t.Errorf("Value(t) = %v, want [1 3 1]", got)
	}
	// A callback error stops the run.
	stop := errors.New("stop")
	if err := s.Watch([]string{"t"}, func(string, *tensor.Tensor) error { return stop }); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background(), []*tensor.Tensor{x, tensor.Scalar(true)}); !errors.Is(err, stop) {
		t.Errorf("run with a failing callback: %v", err)
	}
	if _, err := p.Run(context.Background(), map[string]*tensor.Tensor{"x": x, "cond": tensor.Scalar(false)}, "t"); err == nil || !strings.Contains(err.Error(), "did not run") {
		t.Errorf("Run asking for a value of the branch not taken: %v", err)
	}
}

// loopGraph: Loop(M, "", v) with body v_out = v_in + x (x of the main
// graph) and a scan output v_out · iteration number.
func loopGraph() *potv1.Graph {
	body := &potv1.Graph{Name: "body",
		Inputs: []*potv1.ValueInfo{vinfo("i", i64), vinfo("c_in", bool_), vinfo("v_in", f32)},
		Nodes: []*potv1.Node{
			nd("b_add", "Add", []string{"v_in", "x"}, []string{"v_out"}),
			nd("b_cast", "Cast", []string{"i"}, []string{"i_f"}, &potv1.Attribute{Name: "to", Type: potv1.Attribute_TYPE_INT, I: 1}),
			nd("b_mul", "Mul", []string{"v_out", "i_f"}, []string{"scan"}),
			nd("b_id", "Identity", []string{"c_in"}, []string{"c_out"}),
		},
		Outputs: []*potv1.ValueInfo{vinfo("c_out", bool_), vinfo("v_out", f32), vinfo("scan", f32)}}
	return &potv1.Graph{Name: "main", Opsets: []*potv1.OpsetImport{{Version: 16}},
		Inputs:  []*potv1.ValueInfo{vinfo("M", i64), vinfo("v", f32), vinfo("x", f32)},
		Outputs: []*potv1.ValueInfo{vinfo("v_final", f32), vinfo("scans", f32)},
		Nodes:   []*potv1.Node{nd("loop", "Loop", []string{"M", "", "v"}, []string{"v_final", "scans"}, graphAttr("body", body))}}
}

func TestLoopWatchPerIteration(t *testing.T) {
	p, err := Compile(loopGraph(), Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s := p.NewSession()
	var seen []string
	if err := s.Watch([]string{"v_out", "v_final", "scans"}, func(name string, v *tensor.Tensor) error {
		seen = append(seen, fmt.Sprint(name, v.F32()))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	in := []*tensor.Tensor{tensor.Scalar(int64(3)), tensor.From([]int{2}, []float32{0, 1}), tensor.From([]int{2}, []float32{1, 2})}
	for range 2 { // the second run reuses the session's buffers
		seen = seen[:0]
		if err := s.Run(context.Background(), in); err != nil {
			t.Fatal(err)
		}
		want := "[v_out[1 3] v_out[2 5] v_out[3 7] v_final[3 7] scans[0 0 2 5 6 14]]"
		if fmt.Sprint(seen) != want {
			t.Errorf("watched %v, want %v", seen, want)
		}
		if got := s.Value("v_out").F32(); fmt.Sprint(got) != "[3 7]" {
			t.Errorf("Value(v_out) = %v, the last iteration's [3 7]", got)
		}
		if sh := s.Value("scans").Shape; fmt.Sprint(sh) != "[3 2]" {
			t.Errorf("scans of shape %v", sh)
		}
	}
	// Zero iterations: the initial value; the scan output declares no
	// shape, so it is [0].
	in[0] = tensor.Scalar(int64(0))
	seen = seen[:0]
	if err := s.Run(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seen) != "[v_final[0 1] scans[]]" || fmt.Sprint(s.Value("scans").Shape) != "[0]" {
		t.Errorf("zero iterations: watched %v, scans %v", seen, s.Value("scans").Shape)
	}
	// Cancellation stops a loop between iterations.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	in[0] = tensor.Scalar(int64(1 << 40))
	if err := s.Run(ctx, in); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: %v", err)
	}
}

// TestLoopNoAllocs: repeated runs of a loop at one shape do not allocate.
func TestLoopNoAllocs(t *testing.T) {
	p, err := Compile(loopGraph(), Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s := p.NewSession()
	if err := s.Watch([]string{"v_final", "scans"}, nil); err != nil {
		t.Fatal(err)
	}
	in := []*tensor.Tensor{tensor.Scalar(int64(20)), tensor.From([]int{2}, []float32{0, 1}), tensor.From([]int{2}, []float32{1, 2})}
	if n := testing.AllocsPerRun(10, func() {
		if err := s.Run(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}); n > 0 {
		t.Errorf("%v allocations per run", n)
	}
}

// convBranchGraph: If(cond) then Relu(Conv(x, w)) · (x reshaped) else x.
func convBranchGraph() *potv1.Graph {
	w := make([]float32, 4*2)
	for i := range w {
		w[i] = float32(i%3) - 0.8
	}
	then := &potv1.Graph{Name: "then",
		Initializers: []*potv1.Tensor{ToProto("shape", tensor.From([]int{1}, []int64{8}))},
		Nodes: []*potv1.Node{
			nd("conv", "Conv", []string{"x", "w"}, []string{"c"}),
			nd("relu", "Relu", []string{"c"}, []string{"r"}),
			// Folded: Shape of a constant.
			nd("shape_of", "Shape", []string{"shape"}, []string{"s"}),
			nd("reshape", "Reshape", []string{"r", "s2"}, []string{"flat"}),
			nd("concat", "Concat", []string{"shape", "shape"}, []string{"s_twice"}, &potv1.Attribute{Name: "axis", Type: potv1.Attribute_TYPE_INT}),
			nd("slice_s", "Slice", []string{"s_twice", "zero", "s"}, []string{"s2"}),
		},
		Outputs: []*potv1.ValueInfo{vinfo("flat", f32)}}
	then.Initializers = append(then.Initializers, ToProto("zero", tensor.From([]int{1}, []int64{0})))
	els := &potv1.Graph{Name: "else", Nodes: []*potv1.Node{nd("flat_x", "Flatten", []string{"x"}, []string{"fx"}, &potv1.Attribute{Name: "axis", Type: potv1.Attribute_TYPE_INT, I: 0})},
		Outputs: []*potv1.ValueInfo{vinfo("fx", f32)}}
	return &potv1.Graph{Name: "main", Opsets: []*potv1.OpsetImport{{Version: 13}},
		Inputs:       []*potv1.ValueInfo{vinfo("x", f32), vinfo("cond", bool_)},
		Outputs:      []*potv1.ValueInfo{vinfo("y", f32)},
		Initializers: []*potv1.Tensor{ToProto("w", tensor.From([]int{4, 2, 1, 1}, w))},
		Nodes:        []*potv1.Node{nd("if", "If", []string{"cond"}, []string{"y"}, graphAttr("then_branch", then), graphAttr("else_branch", els))}}
}

// TestSubgraphFoldAndFuse: constant folding and the Conv+Relu fusion
// work inside a branch; watching the convolution's output there turns the
// fusion off for the run, with the same result.
func TestSubgraphFoldAndFuse(t *testing.T) {
	p, err := Compile(convBranchGraph(), Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	then := p.steps[0].kernel.(*ifKernel).then
	var ops []string
	for _, st := range then.steps {
		ops = append(ops, st.node.GetOpType())
	}
	if fmt.Sprint(ops) != "[Conv Relu Reshape]" {
		t.Errorf("then branch steps %v, want the shape computation folded", ops)
	}
	if then.steps[0].fuse == nil {
		t.Fatal("the branch's Conv is not marked for fusion")
	}
	x := tensor.From([]int{1, 2, 1, 2}, []float32{1, -2, 3, 0.5})
	run := func(watch ...string) (y []float32, skipped bool, calls int) {
		s := p.NewSession()
		if err := s.Watch(append(watch, "y"), func(string, *tensor.Tensor) error { calls++; return nil }); err != nil {
			t.Fatal(err)
		}
		if err := s.Run(context.Background(), []*tensor.Tensor{x, tensor.Scalar(true)}); err != nil {
			t.Fatal(err)
		}
		sub := s.control[0].subs[0]
		return append([]float32(nil), s.Value("y").F32()...), sub.skip[1], calls
	}
	fused, skipped, _ := run()
	if !skipped {
		t.Error("the Relu ran: no fusion")
	}
	unfused, skipped, calls := run("c")
	if skipped || calls != 2 {
		t.Errorf("watching c: Relu skipped %v, %d callbacks", skipped, calls)
	}
	if fmt.Sprint(fused) != fmt.Sprint(unfused) {
		t.Errorf("fused %v, unfused %v", fused, unfused)
	}
	// NoFold reaches the branches.
	q, err := Compile(convBranchGraph(), Options{Threads: 1, NoFold: true})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if n := len(q.steps[0].kernel.(*ifKernel).then.steps); n != 6 {
		t.Errorf("with NoFold the branch has %d steps, want 6", n)
	}
}

// countingPolicy records the nodes and constants it sees.
type countingPolicy struct {
	mu     sync.Mutex
	nodes  map[string]int
	consts map[string]int
}

func (c *countingPolicy) Constant(name string, _ *tensor.Tensor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.consts[name]++
}

func (c *countingPolicy) Output(n *potv1.Node, _ []*tensor.Tensor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nodes[n.GetName()]++
}

// TestPolicyInsideBranches: the numeric policy sees the branches'
// constants at compile time and their nodes' outputs when they run, not
// the If's own outputs.
func TestPolicyInsideBranches(t *testing.T) {
	pol := &countingPolicy{nodes: map[string]int{}, consts: map[string]int{}}
	p, err := Compile(ifGraph(), Options{Threads: 1, Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if pol.consts["one"] != 1 || pol.consts["w"] != 1 {
		t.Errorf("constants seen: %v", pol.consts)
	}
	x := tensor.From([]int{3}, []float32{-1, 2, -3})
	if _, err := p.Run(context.Background(), map[string]*tensor.Tensor{"x": x, "cond": tensor.Scalar(true)}); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"relu": 1, "neg": 1, "abs": 1, "t_add": 1, "t_mul": 1}
	if fmt.Sprint(pol.nodes) != fmt.Sprint(want) {
		t.Errorf("outputs seen %v, want %v", pol.nodes, want)
	}
}

// TestSubgraphErrors: unsupported operators inside subgraphs are named;
// a value no enclosing graph defines is an error naming it.
func TestSubgraphErrors(t *testing.T) {
	g := ifGraph()
	then := g.Nodes[0].Attributes[0].G
	then.Nodes = append(then.Nodes, nd("fancy", "NoSuchOp", []string{"a"}, []string{"f"}))
	_, err := Compile(g, Options{})
	var u *UnsupportedOpsError
	if !errors.As(err, &u) || len(u.Nodes) != 1 || u.Nodes[0].Node != "fancy" {
		t.Errorf("unsupported node in a branch: %v", err)
	}
	g = ifGraph()
	g.Nodes[0].Attributes[1].G.Nodes[0].Inputs[0] = "undefined"
	_, err = Compile(g, Options{})
	if err == nil || !strings.Contains(err.Error(), `"undefined"`) {
		t.Errorf("branch reading an undefined value: %v", err)
	}
	// The node is data too, for pot's diagnostics.
	var ne *NodeError
	if name := g.Nodes[0].Attributes[1].G.Nodes[0].GetName(); !errors.As(err, &ne) || !strings.HasPrefix(err.Error(), fmt.Sprintf("node %q (%s): ", ne.Node(), ne.OpType)) {
		t.Errorf("error %v: no *NodeError naming %q or another node", err, name)
	}
	g = ifGraph()
	g.Nodes[0].Attributes[1].G.Outputs = append(g.Nodes[0].Attributes[1].G.Outputs, vinfo("a", f32))
	if _, err := Compile(g, Options{}); err == nil || !strings.Contains(err.Error(), "outputs") {
		t.Errorf("branches with different numbers of outputs: %v", err)
	}
}

// TestControlFlowConcurrentRuns: sessions of one program run subgraphs
// concurrently without sharing state.
func TestControlFlowConcurrentRuns(t *testing.T) {
	p, err := Compile(loopGraph(), Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				res, err := p.Run(context.Background(), map[string]*tensor.Tensor{
					"M": tensor.Scalar(int64(g)), "v": tensor.From([]int{1}, []float32{0}), "x": tensor.From([]int{1}, []float32{1}),
				})
				if err != nil {
					errs <- err
					return
				}
				if got := res["v_final"].F32()[0]; got != float32(g) {
					errs <- fmt.Errorf("M = %d: v_final %g", g, got)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
