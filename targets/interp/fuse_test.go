package interp

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/tensor"
)

// convActGraph is x → Conv(3×3, pad 1) → act → y, act being Relu,
// HardSigmoid and Mul (hard-swish), Add of x, or Add of x and Relu; "c"
// is the convolution's output.
func convActGraph(t *testing.T, act string, C, M int) *potv1.Graph {
	t.Helper()
	r := rand.New(rand.NewPCG(5, 6))
	w := make([]float32, M*C*9)
	for i := range w {
		w[i] = float32(r.NormFloat64() / 3)
	}
	b := make([]float32, M)
	for i := range b {
		b[i] = float32(r.NormFloat64() / 4)
	}
	g := &potv1.Graph{Name: "conv_" + act, Opsets: []*potv1.OpsetImport{{Version: 13}},
		Inputs:       []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Outputs:      []*potv1.ValueInfo{{Name: "z", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Initializers: []*potv1.Tensor{ToProto("w", tensor.From([]int{M, C, 3, 3}, w)), ToProto("b", tensor.From([]int{M}, b))},
		Nodes: []*potv1.Node{{Name: "conv", OpType: "Conv", Inputs: []string{"x", "w", "b"}, Outputs: []string{"c"},
			Attributes: []*potv1.Attribute{{Name: "pads", Type: potv1.Attribute_TYPE_INTS, Ints: []int64{1, 1, 1, 1}}}}}}
	switch act {
	case "Relu":
		g.Nodes = append(g.Nodes, &potv1.Node{Name: "relu", OpType: "Relu", Inputs: []string{"c"}, Outputs: []string{"y"}})
	case "Add", "AddRelu":
		// A residual connection: the input, of the output's shape when
		// C = M.
		g.Nodes = append(g.Nodes, &potv1.Node{Name: "add", OpType: "Add", Inputs: []string{"x", "c"}, Outputs: []string{"y"}})
		if act == "AddRelu" {
			g.Nodes[len(g.Nodes)-1].Outputs = []string{"a"}
			g.Nodes = append(g.Nodes, &potv1.Node{Name: "relu", OpType: "Relu", Inputs: []string{"a"}, Outputs: []string{"y"}})
		}
	case "HardSwish":
		g.Nodes = append(g.Nodes,
			&potv1.Node{Name: "hs", OpType: "HardSigmoid", Inputs: []string{"c"}, Outputs: []string{"s"},
				Attributes: []*potv1.Attribute{{Name: "alpha", Type: potv1.Attribute_TYPE_FLOAT, F: 1.0 / 6}}},
			&potv1.Node{Name: "mul", OpType: "Mul", Inputs: []string{"s", "c"}, Outputs: []string{"y"}})
	}
	// A reader after the activation, so that y is not the graph output.
	g.Nodes = append(g.Nodes, &potv1.Node{Name: "gap", OpType: "GlobalAveragePool", Inputs: []string{"y"}, Outputs: []string{"z"}})
	return g
}

// TestFusedActivation runs convolutions followed by Relu, by hard-swish
// and by a residual Add (and Relu) fused (the session watches only the graph output) and
// unfused (it watches the convolution's output too), and checks that the
// fused run skipped the activation steps and computed the same values.
func TestFusedActivation(t *testing.T) {
	for _, tc := range []struct {
		act     string
		C, M, H int
		exact   bool // the same values: images of a multiple of 16 values (hard-swish), or any (others)
	}{
		{"Relu", 3, 8, 8, true},
		{"Add", 6, 6, 8, true},
		{"AddRelu", 5, 5, 7, true},
		{"AddRelu", 16, 16, 28, true}, // the addend in the kernels' store (kernels.DirectConv)
		{"AddRelu", 64, 64, 7, true},  // images stacked: the addend after
		{"HardSwish", 4, 16, 8, true},
		{"HardSwish", 3, 5, 7, false},
	} {
		t.Run(tc.act, func(t *testing.T) {
			g := convActGraph(t, tc.act, tc.C, tc.M)
			p, err := Compile(g, Options{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if p.steps[0].fuse == nil {
				t.Fatal("the convolution is not marked for fusion")
			}
			r := rand.New(rand.NewPCG(1, 2))
			x := make([]float32, 3*tc.C*tc.H*tc.H)
			for i := range x {
				x[i] = float32(r.NormFloat64() * 3)
			}
			in := []*tensor.Tensor{tensor.From([]int{3, tc.C, tc.H, tc.H}, x)}
			run := func(watch ...string) (y []float32, skipped int) {
				s := p.NewSession()
				if err := s.Watch(append(watch, "y"), nil); err != nil {
					t.Fatal(err)
				}
				if err := s.Run(context.Background(), in); err != nil {
					t.Fatal(err)
				}
				for _, sk := range s.skip {
					if sk {
						skipped++
					}
				}
				return append([]float32(nil), s.Value("y").F32()...), skipped
			}
			fused, skipped := run()
			if want := len(p.steps[0].fuse.skip); skipped != want {
				t.Fatalf("fused run skipped %d steps, want %d", skipped, want)
			}
			unfused, skipped := run("c")
			if skipped != 0 {
				t.Fatalf("a run watching the convolution's output skipped %d steps", skipped)
			}
			for i := range unfused {
				d := math.Abs(float64(fused[i] - unfused[i]))
				if tc.exact && d != 0 || d > 1e-6*math.Max(1, math.Abs(float64(unfused[i]))) {
					t.Fatalf("element %d: fused %g, unfused %g", i, fused[i], unfused[i])
				}
			}
		})
	}
}

// TestNoFusion: a convolution whose output is also a graph output, or
// whose residual Add reads a value computed after it, is not fused.
func TestNoFusion(t *testing.T) {
	outputRead := convActGraph(t, "Relu", 2, 4)
	outputRead.Outputs = append(outputRead.Outputs, &potv1.ValueInfo{Name: "c"})
	lateAddend := convActGraph(t, "Add", 4, 4)
	// The Add now reads d, computed after the convolution.
	lateAddend.Nodes[1].Inputs[0] = "d"
	lateAddend.Nodes = append(lateAddend.Nodes[:1], append([]*potv1.Node{{Name: "neg", OpType: "Neg", Inputs: []string{"x"}, Outputs: []string{"d"}}}, lateAddend.Nodes[1:]...)...)
	for name, g := range map[string]*potv1.Graph{"output read": outputRead, "late addend": lateAddend} {
		p, err := Compile(g, Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		if p.steps[0].fuse != nil {
			t.Errorf("%s: the convolution was fused", name)
		}
		p.Close()
	}
}
