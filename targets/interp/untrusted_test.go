package interp_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/potgo/pot/internal/hostile"
	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// compileAndRun compiles g and runs it on a zero x of hostile.Input, as
// a target does when it loads a model and infers its first sample, and
// returns the first error.
func compileAndRun(t *testing.T, g *potv1.Graph) error {
	t.Helper()
	p, err := interp.Compile(g, interp.Options{})
	if err != nil {
		return err
	}
	defer p.Close()
	shape := make([]int, len(hostile.Input))
	for i, d := range hostile.Input {
		shape[i] = int(d)
	}
	_, err = p.Run(context.Background(), map[string]*tensor.Tensor{"x": tensor.New(tensor.Float, shape...)})
	return err
}

type untrustedCase struct {
	name  string
	graph func(t *testing.T) *potv1.Graph
	want  string
}

// fromONNX converts a hostile model with the SDK's reader.
func fromONNX(m *onnxpb.ModelProto) func(t *testing.T) *potv1.Graph {
	return func(t *testing.T) *potv1.Graph {
		g, err := onnx.ToGraph(m)
		if err != nil {
			t.Fatalf("ToGraph: %v", err)
		}
		return g
	}
}

func checkUntrusted(t *testing.T, cases []untrustedCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := compileAndRun(t, tc.graph(t))
			switch {
			case err == nil:
				t.Fatalf("no error, want %q", tc.want)
			case !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q does not hold %q", err, tc.want)
			case strings.Contains(err.Error(), "\n") || len(err.Error()) > 300:
				t.Fatalf("error is not one short line: %q", err)
			case strings.Contains(err.Error(), "kernel failed"):
				t.Fatalf("a kernel panicked: %v", err)
			}
		})
	}
}

// TestUntrustedAttributes: absurd attribute values and shapes give an
// error naming the node, at compile time where the values are known,
// never a panic or an allocation of their size.
func TestUntrustedAttributes(t *testing.T) {
	checkUntrusted(t, []untrustedCase{
		{"conv kernel_shape 2^31", fromONNX(hostile.Conv(hostile.Ints("kernel_shape", 1<<31, 1<<31))), `node "conv" (Conv): kernel_shape [2147483648 2147483648]: values must be at most 16777216`},
		{"conv kernel_shape 0", fromONNX(hostile.Conv(hostile.Ints("kernel_shape", 0, 3))), `node "conv" (Conv): kernel_shape [0 3]: values must be positive`},
		{"conv pads 2^40", fromONNX(hostile.Conv(hostile.Ints("pads", 1<<40, 1<<40, 1<<40, 1<<40))), `node "conv" (Conv): pads [1099511627776 1099511627776 1099511627776 1099511627776]: values must be at most 16777216`},
		{"conv negative pads", fromONNX(hostile.Conv(hostile.Ints("pads", -5, -5, -5, -5))), `node "conv": Conv: negative pads [-5 -5 -5 -5] are not supported`},
		{"conv strides 0", fromONNX(hostile.Conv(hostile.Ints("strides", 0, 0))), `node "conv" (Conv): strides [0 0]: values must be positive`},
		{"conv dilations 2^62", fromONNX(hostile.Conv(hostile.Ints("dilations", 1<<62, 1))), `node "conv" (Conv): dilations [4611686018427387904 1]: values must be at most 16777216`},
		{"a million outputs", func(*testing.T) *potv1.Graph { return manyOutputs(1_000_000) }, `node "split" (Split) has 1000000 outputs (pot reads at most 65536 per node)`},
		{"reshape overflowing int64", fromONNX(hostile.Reshape(1<<62, 1<<62)), `node "reshape" (Reshape): cannot reshape [1 1 28 28] (784 elements) to [4611686018427387904 4611686018427387904]`},
		{"constant of 4 TiB", fromONNX(hostile.ConstantOfShape(1<<20, 1<<20)), `node "fill" (ConstantOfShape): a float32 tensor of shape [1048576 1048576] needs 4398046511104 bytes, more than the runtime's limit`},
		{"constant of overflowing shape", fromONNX(hostile.ConstantOfShape(1<<40, 1<<40)), `node "fill" (ConstantOfShape): a float32 tensor of shape [1099511627776 1099511627776] cannot be allocated`},
	})
}

// manyOutputs is hostile.ManyOutputs as a pot graph (ToGraph refuses
// it): a Split of x into n outputs.
func manyOutputs(n int) *potv1.Graph {
	outs := make([]string, n)
	for i := range outs {
		outs[i] = fmt.Sprintf("o%d", i)
	}
	outs[0] = "y"
	return &potv1.Graph{Opsets: []*potv1.OpsetImport{{Version: 13}},
		Inputs:  []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Outputs: []*potv1.ValueInfo{{Name: "y", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Nodes:   []*potv1.Node{{Name: "split", OpType: "Split", Inputs: []string{"x"}, Outputs: outs, Attributes: []*potv1.Attribute{{Name: "axis", Type: potv1.Attribute_TYPE_INT, I: 3}}}}}
}

// TestUntrustedStructure: graphs nested too deep or with cycles, which
// the SDK's reader refuses, are refused by Compile too when they come
// from elsewhere (a plugin's request).
func TestUntrustedStructure(t *testing.T) {
	tooDeep := func(t *testing.T) *potv1.Graph {
		g := fromONNX(hostile.Nested(64))(t)
		g.Nodes[0].Name = "if_outer"
		return &potv1.Graph{Opsets: g.Opsets, Inputs: g.Inputs, Outputs: g.Outputs, Initializers: g.Initializers,
			Nodes: []*potv1.Node{{Name: "wrap", OpType: "If", Inputs: []string{"cond"}, Outputs: []string{"y"}, Attributes: []*potv1.Attribute{
				{Name: "then_branch", Type: potv1.Attribute_TYPE_GRAPH, G: &potv1.Graph{Nodes: g.Nodes, Outputs: g.Outputs}},
				{Name: "else_branch", Type: potv1.Attribute_TYPE_GRAPH, G: &potv1.Graph{Nodes: g.Nodes[:0], Outputs: []*potv1.ValueInfo{{Name: "x"}}}}}}}}
	}
	cycle := func(nodes ...*potv1.Node) func(*testing.T) *potv1.Graph {
		return func(*testing.T) *potv1.Graph {
			return &potv1.Graph{Opsets: []*potv1.OpsetImport{{Version: 13}},
				Inputs: []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT}}, Outputs: []*potv1.ValueInfo{{Name: "y"}}, Nodes: nodes}
		}
	}
	checkUntrusted(t, []untrustedCase{
		{"65 levels", tooDeep, `node "if_63" (If): attribute "then_branch" holds a graph nested more than 64 levels deep`},
		{"cycle", cycle(&potv1.Node{Name: "a", OpType: "Add", Inputs: []string{"x", "b"}, Outputs: []string{"a"}},
			&potv1.Node{Name: "b", OpType: "Relu", Inputs: []string{"a"}, Outputs: []string{"b"}},
			&potv1.Node{Name: "out", OpType: "Identity", Inputs: []string{"a"}, Outputs: []string{"y"}}), `node "a" (Add): input "b" is part of a cycle`},
		{"self loop", cycle(&potv1.Node{Name: "loop", OpType: "Add", Inputs: []string{"x", "y"}, Outputs: []string{"y"}}), `node "loop" (Add): input "y" is part of a cycle`},
	})
}

// TestUntrustedTensors: string tensors fed to numeric operators, at run
// time or folded at compile time, and tensors whose types or dims are
// absurd give an error naming the node or tensor.
func TestUntrustedTensors(t *testing.T) {
	bothStrings := func(t *testing.T) *potv1.Graph {
		g := fromONNX(hostile.StringInitializer())(t)
		g.Nodes = append([]*potv1.Node{{Name: "strings", OpType: "Add", Inputs: []string{"s", "s"}, Outputs: []string{"ss"}}}, g.Nodes...)
		g.Nodes[1].Inputs[1] = "ss"
		return g
	}
	hugeDims := func(t *testing.T) *potv1.Graph {
		g := fromONNX(hostile.StringInitializer())(t)
		// 4 * (2^31-1)^2 wraps int64 to a negative count.
		g.Initializers[0] = &potv1.Tensor{Name: "s", Dtype: potv1.DataType_DATA_TYPE_FLOAT, Dims: []int64{4, 1<<31 - 1, 1<<31 - 1}}
		return g
	}
	mismatch := func(t *testing.T) *potv1.Graph {
		m := hostile.InitializerTypeMismatch()
		m.Graph.ValueInfo = nil // ToGraph refuses the declaration
		g := fromONNX(m)(t)
		g.ValueInfo = []*potv1.ValueInfo{{Name: "w", Dtype: potv1.DataType_DATA_TYPE_FLOAT}}
		return g
	}
	checkUntrusted(t, []untrustedCase{
		{"string initializer", fromONNX(hostile.StringInitializer()), `node "add" (Add): Add: operand types float32 and string differ`},
		{"string constants folded", bothStrings, `node "strings" (Add): Add: element type string is not supported`},
		{"initializer type differs from its value_info", mismatch, `node "mul" (Mul): Mul: operand types float32 and int64 differ`},
		{"dims overflowing", hugeDims, `tensor "s": [4 2147483647 2147483647] elements is too many`},
	})
}

// TestOperatorsRefuseBadArity builds a node of every registered
// operator with 0 to 3 inputs (float or int64, constants that fold at
// compile time or inputs fed at run time, the last one possibly
// omitted) and outputs of different counts, some omitted: each compiles
// and runs or fails with an error, and no kernel panics (which the
// runtime reports as "kernel failed").
func TestOperatorsRefuseBadArity(t *testing.T) {
	defer tensor.SetMaxBytes(tensor.SetMaxBytes(16 << 20))
	values := map[tensor.DType]func(name string) (*potv1.Tensor, *tensor.Tensor){
		tensor.Float: func(name string) (*potv1.Tensor, *tensor.Tensor) {
			return graph.FloatTensor(name, []int64{2, 2}, []float32{1, 2, 3, 4}), tensor.From([]int{2, 2}, []float32{1, 2, 3, 4})
		},
		tensor.Int64: func(name string) (*potv1.Tensor, *tensor.Tensor) {
			return &potv1.Tensor{Name: name, Dtype: potv1.DataType_DATA_TYPE_INT64, Dims: []int64{2}, Data: make([]byte, 16)}, tensor.From([]int{2}, []int64{0, 0})
		},
	}
	for _, op := range interp.Registered() {
		for nin := 0; nin <= 3; nin++ {
			for _, dt := range []tensor.DType{tensor.Float, tensor.Int64} {
				for _, fold := range []bool{true, false} {
					for _, omit := range []bool{false, true} {
						for _, outs := range [][]string{{"y"}, {"y", "z"}, {"y", "", "w"}, {"", "y"}} {
							g := &potv1.Graph{Opsets: []*potv1.OpsetImport{{Domain: op.Domain, Version: op.Since}}, Outputs: []*potv1.ValueInfo{{Name: "y"}},
								Nodes: []*potv1.Node{{Name: "n", OpType: op.OpType, Domain: op.Domain, Outputs: outs}}}
							if op.Domain != "" {
								g.Opsets = append(g.Opsets, &potv1.OpsetImport{Version: 13})
							}
							feed := map[string]*tensor.Tensor{}
							for i := 0; i < nin; i++ {
								name := fmt.Sprintf("i%d", i)
								if omit && i == nin-1 {
									name = ""
								}
								g.Nodes[0].Inputs = append(g.Nodes[0].Inputs, name)
								if name == "" {
									continue
								}
								init, val := values[dt](name)
								if fold {
									g.Initializers = append(g.Initializers, init)
								} else {
									g.Inputs = append(g.Inputs, &potv1.ValueInfo{Name: name, Dtype: potv1.DataType(dt)})
									feed[name] = val
								}
							}
							err := func() error {
								p, err := interp.Compile(g, interp.Options{})
								if err != nil {
									return err
								}
								defer p.Close()
								_, err = p.Run(context.Background(), feed)
								return err
							}()
							if err != nil && strings.Contains(err.Error(), "kernel failed") {
								t.Errorf("%s %s@%d, inputs %q of %v (folded %v), outputs %q: %v", op.Domain, op.OpType, op.Since, g.Nodes[0].Inputs, dt, fold, outs, err)
							}
						}
					}
				}
			}
		}
	}
}
