package interp

import (
	"context"
	"errors"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// quantizerGraph quantizes x with FakeQuantize (fq) and QuantizeLinear +
// DequantizeLinear (qdq), scale 0.5, and the constant w with FakeQuantize
// (wq, folded at compile time).
func quantizerGraph() *potv1.Graph {
	f := func(name string, v ...float32) *potv1.Tensor { return ToProto(name, tensor.From([]int{len(v)}, v)) }
	return &potv1.Graph{Name: "quantizers", Opsets: []*potv1.OpsetImport{{Version: 13}},
		Inputs: []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Outputs: []*potv1.ValueInfo{{Name: "fq", Dtype: potv1.DataType_DATA_TYPE_FLOAT}, {Name: "qdq", Dtype: potv1.DataType_DATA_TYPE_FLOAT},
			{Name: "wq", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Initializers: []*potv1.Tensor{f("s", 0.5), f("zp", 128), f("w", 0.25, -1.25),
			ToProto("zp8", tensor.From([]int{1}, []int8{0}))},
		Nodes: []*potv1.Node{
			{Name: "fq", OpType: "FakeQuantize", Domain: ops.DomainPot, Inputs: []string{"x", "s", "zp", "s"}, Outputs: []string{"fq"},
				Attributes: []*potv1.Attribute{{Name: "levels", Type: potv1.Attribute_TYPE_INT, I: 256}}},
			{Name: "q", OpType: "QuantizeLinear", Inputs: []string{"x", "s", "zp8"}, Outputs: []string{"q"}},
			{Name: "dq", OpType: "DequantizeLinear", Inputs: []string{"q", "s", "zp8"}, Outputs: []string{"qdq"}},
			{Name: "wq", OpType: "FakeQuantize", Domain: ops.DomainPot, Inputs: []string{"w", "s", "zp", "s"}, Outputs: []string{"wq"},
				Attributes: []*potv1.Attribute{{Name: "levels", Type: potv1.Attribute_TYPE_INT, I: 256}}},
		},
	}
}

// A program's quantizers, folded ones included, round as its options
// say.
func TestOptionsRounding(t *testing.T) {
	x := tensor.From([]int{4}, []float32{0.25, 1.25, -1.25, 1.35})
	tests := []struct {
		r      ops.Rounding
		x, w   []float32
		folded bool
	}{
		{ops.RoundingHalfToEven, []float32{0, 1, -1, 1.5}, []float32{0, -1}, true},
		{ops.RoundingHalfAwayFromZero, []float32{0.5, 1.5, -1.5, 1.5}, []float32{0.5, -1.5}, true},
		{ops.RoundingTowardZero, []float32{0, 1, -1, 1}, []float32{0, -1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.r.String(), func(t *testing.T) {
			p, err := Compile(quantizerGraph(), Options{Rounding: tc.r, NoFold: !tc.folded})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			out, err := p.Run(context.Background(), map[string]*tensor.Tensor{"x": x})
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range map[string][]float32{"fq": tc.x, "qdq": tc.x, "wq": tc.w} {
				got := out[name].F32()
				for i := range want {
					if got[i] != want[i] {
						t.Errorf("%s = %v, want %v", name, got, want)
						break
					}
				}
			}
		})
	}
}

// Options.Kernels adds operators (of a domain the graph does not
// import) and replaces the runtime's for one program only.
func TestOptionsKernels(t *testing.T) {
	k := ops.NewRegistry()
	double := func(n *ops.Node) (ops.Kernel, error) {
		return ops.KernelFunc(func(_ *ops.Context, in, out []*tensor.Tensor) error {
			out[0].Reset(tensor.Float, in[0].Shape)
			for i, v := range in[0].F32() {
				out[0].F32()[i] = 2 * v
			}
			return nil
		}), nil
	}
	if err := k.Register("com.example", "Double", 1, double); err != nil {
		t.Fatal(err)
	}
	if err := k.Register("com.example", "Double", 1, double); err == nil {
		t.Error("a second registration of com.example/Double at 1 succeeded")
	}
	// Relu replaced by the identity.
	if err := k.Register(ops.DomainONNX, "Relu", 1, func(*ops.Node) (ops.Kernel, error) {
		return ops.KernelFunc(func(_ *ops.Context, in, out []*tensor.Tensor) error { out[0].CopyFrom(in[0]); return nil }), nil
	}); err != nil {
		t.Fatal(err)
	}
	g := &potv1.Graph{Name: "custom", Opsets: []*potv1.OpsetImport{{Version: 13}},
		Inputs:  []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Outputs: []*potv1.ValueInfo{{Name: "y", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Nodes: []*potv1.Node{
			{Name: "double", OpType: "Double", Domain: "com.example", Inputs: []string{"x"}, Outputs: []string{"d"}},
			{Name: "relu", OpType: "Relu", Inputs: []string{"d"}, Outputs: []string{"y"}},
		}}
	p, err := Compile(g, Options{Kernels: k})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	out, err := p.Run(context.Background(), map[string]*tensor.Tensor{"x": tensor.From([]int{2}, []float32{1, -3})})
	if err != nil {
		t.Fatal(err)
	}
	if got := out["y"].F32(); got[0] != 2 || got[1] != -6 {
		t.Errorf("y = %v, want [2 -6] (Double, then the program's Relu)", got)
	}
	// Without the registry the runtime knows no Double.
	_, err = Compile(g, Options{})
	var u *UnsupportedOpsError
	if !errors.As(err, &u) || len(u.Nodes) != 1 || u.Nodes[0].Node != "double" {
		t.Errorf("Compile without Kernels: %v, want node double unsupported", err)
	}
}
