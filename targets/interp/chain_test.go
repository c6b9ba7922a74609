package interp

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/tensor"
)

// paddleHardSwishGraph is x → Mul(a) → Add(b) → hard-swish as
// PaddlePaddle exports it (t = Add(3), Clip(0, 6), Mul(t's input, clip),
// Div(6)) → Mul(c) → Add(d) → y → GlobalAveragePool → z: the eight
// element-wise steps after each convolution of PP-LCNet. Scalar
// constants have the shapes exporters give them: [1] and [].
func paddleHardSwishGraph(opset int64) *potv1.Graph {
	scalar := func(name string, v float32, shape ...int) *potv1.Tensor {
		return ToProto(name, tensor.From(shape, []float32{v}))
	}
	node := func(name, op string, in ...string) *potv1.Node {
		return &potv1.Node{Name: name, OpType: op, Inputs: in, Outputs: []string{name}}
	}
	return &potv1.Graph{Name: "paddle_hardswish", Opsets: []*potv1.OpsetImport{{Version: opset}},
		Inputs:  []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Outputs: []*potv1.ValueInfo{{Name: "z", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Initializers: []*potv1.Tensor{scalar("a", 1.3, 1), scalar("b", -0.2, 1), scalar("three", 3), scalar("zero", 0),
			scalar("six", 6), scalar("c", 0.9, 1), scalar("d", 0.05, 1)},
		Nodes: []*potv1.Node{
			node("m1", "Mul", "a", "x"), node("a1", "Add", "m1", "b"),
			node("t", "Add", "a1", "three"), node("clip", "Clip", "t", "zero", "six"),
			node("m2", "Mul", "a1", "clip"), node("hs", "Div", "m2", "six"),
			node("m3", "Mul", "c", "hs"), node("y", "Add", "m3", "d"),
			node("z", "GlobalAveragePool", "y"),
		}}
}

// TestChainMatchesSteps runs the element-wise steps of
// paddleHardSwishGraph as one chain (nothing between them watched) and
// one by one (their values watched), on one and two threads and on
// tensors smaller and larger than a chain block and than a parallel
// split, and checks that the chain skipped the steps and computed the
// same bits.
func TestChainMatchesSteps(t *testing.T) {
	for _, threads := range []int{1, 2} {
		for _, shape := range [][]int{{1, 3, 5, 7}, {2, 16, 40, 40}, {1, 24, 161, 163}} {
			p, err := Compile(paddleHardSwishGraph(13), Options{Threads: threads})
			if err != nil {
				t.Fatal(err)
			}
			c := p.steps[0].chain
			if c == nil || len(c.skip) != 7 {
				t.Fatalf("want a chain of the 8 element-wise steps, got %+v", c)
			}
			r := rand.New(rand.NewPCG(1, 2))
			x := tensor.New(tensor.Float, shape...)
			for i := range x.F32() {
				x.F32()[i] = float32(r.NormFloat64() * 4)
			}
			x.F32()[1] = float32(math.NaN())
			run := func(watch ...string) (y []float32, skipped int) {
				s := p.NewSession()
				if err := s.Watch(append(watch, "y"), nil); err != nil {
					t.Fatal(err)
				}
				if err := s.Run(context.Background(), []*tensor.Tensor{x}); err != nil {
					t.Fatal(err)
				}
				for _, sk := range s.skip {
					if sk {
						skipped++
					}
				}
				return append([]float32(nil), s.Value("y").F32()...), skipped
			}
			chained, skipped := run()
			if skipped != 7 {
				t.Fatalf("%v, %d threads: the chained run skipped %d steps, want 7", shape, threads, skipped)
			}
			stepwise, skipped := run("clip")
			if skipped != 0 {
				t.Fatalf("a run watching an inner value skipped %d steps", skipped)
			}
			for i := range stepwise {
				if math.Float32bits(chained[i]) != math.Float32bits(stepwise[i]) && !(chained[i] != chained[i] && stepwise[i] != stepwise[i]) {
					t.Fatalf("%v, %d threads: element %d: chained %g, step by step %g", shape, threads, i, chained[i], stepwise[i])
				}
			}
			p.Close()
		}
	}
}

// TestChainBounds: which steps a chain takes, on variants of
// paddleHardSwishGraph.
func TestChainBounds(t *testing.T) {
	tests := []struct {
		name string
		edit func(g *potv1.Graph)
		want [][2]int // per chain: the step that holds it, the steps it covers
	}{
		{"whole", func(g *potv1.Graph) {}, [][2]int{{0, 8}}},
		// The chain ends at the output m2 (m1 ... m2); hs, m3, y read it.
		{"an inner value is a graph output", func(g *potv1.Graph) {
			g.Outputs = append(g.Outputs, &potv1.ValueInfo{Name: "m2"})
		}, [][2]int{{0, 5}}},
		{"an inner value is read after the chain", func(g *potv1.Graph) {
			g.Nodes = append(g.Nodes, &potv1.Node{Name: "n", OpType: "Neg", Inputs: []string{"hs"}, Outputs: []string{"n"}})
			g.Outputs = append(g.Outputs, &potv1.ValueInfo{Name: "n"})
		}, [][2]int{{0, 6}}},
		// The Clip cannot join, nor m2, which reads it: m1 and a1 (t is
		// out, as a1 is read by m2), then hs, m3 and y from m2.
		{"a bound computed at run time", func(g *potv1.Graph) {
			g.Nodes = append([]*potv1.Node{{Name: "six2", OpType: "ReduceMax", Inputs: []string{"x"}, Outputs: []string{"six2"},
				Attributes: []*potv1.Attribute{{Name: "keepdims", Type: potv1.Attribute_TYPE_INT, I: 0}}}}, g.Nodes...)
			g.Nodes[4].Inputs[2] = "six2" // clip
		}, [][2]int{{1, 2}, {6, 3}}},
		{"two inputs", func(g *potv1.Graph) {
			g.Inputs = append(g.Inputs, &potv1.ValueInfo{Name: "x2", Dtype: potv1.DataType_DATA_TYPE_FLOAT})
			g.Nodes[0].Inputs[0] = "x2" // m1 = x2 · x
		}, [][2]int{{1, 7}}},
		{"a constant that is not a scalar", func(g *potv1.Graph) {
			g.Initializers[0] = ToProto("a", tensor.From([]int{2, 1, 1}, []float32{1, 2}))
		}, [][2]int{{1, 7}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := paddleHardSwishGraph(13)
			tt.edit(g)
			p, err := Compile(g, Options{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			var got [][2]int
			for si, st := range p.steps {
				if st.chain != nil {
					got = append(got, [2]int{si, 1 + len(st.chain.skip)})
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("chains (step, steps) %v, want %v", got, tt.want)
			}
			// Chained or not (a policy turns fusion off), the graph
			// computes the same bits.
			steps, err := Compile(g, Options{Threads: 1, Policy: noPolicy{}})
			if err != nil {
				t.Fatal(err)
			}
			defer steps.Close()
			x := tensor.New(tensor.Float, 1, 2, 3, 3)
			for i := range x.F32() {
				x.F32()[i] = float32(i)*0.7 - 7
			}
			in := []*tensor.Tensor{x}
			if len(g.Inputs) > 1 {
				in = append(in, x)
			}
			var outs [2][]*tensor.Tensor
			for i, q := range []*Program{p, steps} {
				s := q.NewSession()
				if err := s.Run(context.Background(), in); err != nil {
					t.Fatal(err)
				}
				for j := range g.Outputs {
					outs[i] = append(outs[i], s.output(j).Clone())
				}
			}
			for j := range outs[0] {
				if a, b := outs[0][j].F32(), outs[1][j].F32(); !slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) }) {
					t.Fatalf("output %d: chained %v, step by step %v", j, a, b)
				}
			}
		})
	}
}

// TestChainFallsBack: a chain given what it does not compute (an input
// of lower rank than a constant, or not float32) leaves the work to the
// steps, which give the result or the error.
func TestChainFallsBack(t *testing.T) {
	g := paddleHardSwishGraph(13)
	g.Initializers[0] = ToProto("a", tensor.From([]int{1, 1, 1, 1}, []float32{1.3}))
	g.Outputs[0].Name = "y"
	g.Nodes = g.Nodes[:len(g.Nodes)-1]
	p, err := Compile(g, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.steps[0].chain == nil {
		t.Fatal("no chain")
	}
	s := p.NewSession()
	x := tensor.From([]int{2, 3}, []float32{-4, -1, 0, 1, 2, 5})
	if err := s.Run(context.Background(), []*tensor.Tensor{x}); err != nil {
		t.Fatal(err)
	}
	if y := s.output(0); !slices.Equal(y.Shape, []int{1, 1, 2, 3}) {
		t.Fatalf("output of shape %v, want [1 1 2 3] (broadcast to the constant's rank)", y.Shape)
	}
	if err := s.Run(context.Background(), []*tensor.Tensor{tensor.From([]int{2}, []float64{1, 2})}); err == nil {
		t.Fatal("a float64 input ran through float32 constants")
	}
}

// noPolicy changes nothing; a program under a policy fuses nothing.
type noPolicy struct{}

func (noPolicy) Constant(string, *tensor.Tensor)      {}
func (noPolicy) Output(*potv1.Node, []*tensor.Tensor) {}
