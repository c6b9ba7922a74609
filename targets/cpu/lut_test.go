package cpu

import (
	"math/rand/v2"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// TestLutMatchesFloat puts an element-wise operator with a constant
// between the quantized output of a layer and a second quantizer (the
// same grid, where Max and Min are clamps of the levels, or another)
// and wants the same output bits with the operator lowered to QLut and
// run in float.
func TestLutMatchesFloat(t *testing.T) {
	base := layers[0]
	for _, l := range layers {
		if l.name == "conv leaky-relu" {
			base = l
		}
	}
	cases := []struct {
		op    string
		c     float32
		first bool // the constant is the first input
		dq    bool // the constant is a DequantizeLinear of an int8 initializer
	}{
		{op: "Max", c: 0.1}, {op: "Max", c: -0.2, dq: true}, {op: "Min", c: 0.3}, {op: "Max", c: 0.05, first: true},
		{op: "Mul", c: 1.7}, {op: "Add", c: 0.25, first: true}, {op: "Sub", c: 0.4}, {op: "Div", c: 0.5, first: true},
	}
	for _, isa := range []string{ISAVNNI, ISAAVX2} {
		for _, tc := range cases {
			for _, grid := range []string{"same", "other"} {
				r := rand.New(rand.NewPCG(21, 22))
				g, x := base.build(r, 4)
				yf := run(t, g, x).F32()
				yMin, yMax := float32(0), float32(0)
				for _, v := range yf {
					yMin, yMax = min(yMin, v), max(yMax, v)
				}
				p := base.plan(g, yMax*0.8, yMin*0.8)
				c := "k"
				if tc.dq {
					g.Initializers = append(g.Initializers, rt.ToProto("c_q", tensor.From(nil, []int8{-20})), tensorProto("c_s", nil, []float32{-tc.c / 20}))
					g.Nodes = append(g.Nodes, &potv1.Node{Name: "cdq", OpType: "DequantizeLinear", Inputs: []string{"c_q", "c_s"}, Outputs: []string{"cd"}})
					c = "cd"
				} else {
					g.Initializers = append(g.Initializers, tensorProto("k", nil, []float32{tc.c}))
				}
				in := []string{"y", c}
				if tc.first {
					in = []string{c, "y"}
				}
				g.Nodes = append(g.Nodes, &potv1.Node{Name: "post", OpType: tc.op, Inputs: in, Outputs: []string{"z"}})
				g.Outputs = []*potv1.ValueInfo{{Name: "z", Dtype: potv1.DataType_DATA_TYPE_FLOAT}}
				zlo, zhi := yMin*0.8, yMax*0.8
				if grid == "other" {
					zf := run(t, g, x).F32()
					zlo, zhi = 0, 0
					for _, v := range zf {
						zlo, zhi = min(zlo, v), max(zhi, v)
					}
					zlo, zhi = zlo*0.9, zhi*0.7
				}
				p.Quantizers = append(p.Quantizers, &potv1.Quantizer{Id: "z", Location: &potv1.Location{Tensor: "z"}, Levels: 256, LevelHigh: 255,
					InputLow: []float32{zlo}, InputHigh: []float32{zhi}, OutputLow: []float32{zlo}, OutputHigh: []float32{zhi}})
				low, err := Lowering{ISA: isa}.Lower(g, p)
				if err != nil {
					t.Fatal(err)
				}
				name := isa + " " + tc.op + " " + grid
				if countOps(low.Graph, "QLut") != 1 || countOps(low.Graph, tc.op) != 0 {
					t.Fatalf("%s: %d QLut, %d %s left", name, countOps(low.Graph, "QLut"), countOps(low.Graph, tc.op), tc.op)
				}
				un := lowerUnfused(t, Lowering{ISA: isa}, g, p)
				if countOps(un, tc.op) != 1 {
					t.Fatalf("%s: no %s in the graph without QLut", name, tc.op)
				}
				sameBits(t, name, run(t, low.Graph, x).F32(), run(t, un, x).F32())
			}
		}
	}
}

// TestLutKeeping wants no QLut when the operator's input or output must
// stay computed.
func TestLutKeeping(t *testing.T) {
	base := layers[2]
	r := rand.New(rand.NewPCG(23, 24))
	g, _ := base.build(r, 2)
	p := base.plan(g, 1, -1)
	g.Initializers = append(g.Initializers, tensorProto("k", nil, []float32{0.1}))
	y := g.Outputs[0].GetName()
	g.Nodes = append(g.Nodes, &potv1.Node{Name: "post", OpType: "Max", Inputs: []string{y, "k"}, Outputs: []string{"z"}})
	g.Outputs = []*potv1.ValueInfo{{Name: "z", Dtype: potv1.DataType_DATA_TYPE_FLOAT}}
	p.Quantizers = append(p.Quantizers, &potv1.Quantizer{Id: "z", Location: &potv1.Location{Tensor: "z"}, Levels: 256, LevelHigh: 255,
		InputLow: []float32{-1}, InputHigh: []float32{1}, OutputLow: []float32{-1}, OutputHigh: []float32{1}})
	for _, keep := range [][]string{nil, {"z"}} {
		low, err := Lowering{ISA: ISAVNNI}.LowerKeeping(g, p, keep)
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if keep != nil {
			want = 0
		}
		if n := countOps(low.Graph, "QLut"); n != want {
			t.Errorf("keeping %v: %d QLut, want %d", keep, n, want)
		}
	}
}
