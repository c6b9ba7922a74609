package onnx

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/internal/hostile"
	"github.com/potgo/pot/proto/onnxpb"
)

// readHostile decodes and converts a model as the command line does
// (Decode, then ToGraph) and returns the first error.
func readHostile(t *testing.T, m *onnxpb.ModelProto) error {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	dm, err := Decode(b)
	if err != nil {
		return err
	}
	_, err = ToGraph(dm)
	return err
}

// checkUntrusted runs readHostile over cases: want "" means the model
// is fine; otherwise the error is one line holding want.
func checkUntrusted(t *testing.T, cases []struct {
	name  string
	model *onnxpb.ModelProto
	want  string
}) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := readHostile(t, tc.model)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want == "":
			case err == nil:
				t.Fatalf("no error, want %q", tc.want)
			case !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q does not hold %q", err, tc.want)
			case strings.Contains(err.Error(), "\n") || len(err.Error()) > 300:
				t.Fatalf("error is not one short line: %q", err)
			}
		})
	}
}

// TestUntrustedNesting: subgraphs nested deeper than graph.MaxNesting
// are refused, naming the node that holds the graph too deep; up to the
// limit they are read. Nesting beyond protobuf's own limit is refused by
// the decoder.
func TestUntrustedNesting(t *testing.T) {
	checkUntrusted(t, []struct {
		name  string
		model *onnxpb.ModelProto
		want  string
	}{
		{"64 levels", hostile.Nested(64), ""},
		{"65 levels", hostile.Nested(65), `node "if_64" (If): attribute "then_branch" holds a graph nested more than 64 levels deep`},
		{"1000 levels", hostile.Nested(1000), `node "if_64" (If): attribute "then_branch" holds a graph nested more than 64 levels deep`},
		{"beyond protobuf's limit", hostile.Nested(4000), "its messages nest deeper than protobuf's limit"},
	})
	// ToGraph checks by itself, for models that were not decoded.
	if _, err := ToGraph(hostile.Nested(70)); err == nil || !strings.Contains(err.Error(), `node "if_64"`) {
		t.Errorf("ToGraph of 70 levels: %v", err)
	}
}

// TestUntrustedCycles: nodes that read each other's outputs, directly,
// through a chain, or through a subgraph, are refused, naming the nodes.
func TestUntrustedCycles(t *testing.T) {
	three := hostile.Cycle()
	three.Graph.Node = []*onnxpb.NodeProto{
		hostile.Node("a", "Add", []string{"x", "c_out"}, []string{"a_out"}),
		hostile.Node("b", "Relu", []string{"a_out"}, []string{"b_out"}),
		hostile.Node("c", "Relu", []string{"b_out"}, []string{"c_out"}),
		hostile.Node("out", "Identity", []string{"a_out"}, []string{"y"}),
	}
	branch := &onnxpb.GraphProto{Name: proto.String("then"),
		Node:   []*onnxpb.NodeProto{hostile.Node("inner", "Identity", []string{"y"}, []string{"t"})},
		Output: []*onnxpb.ValueInfoProto{hostile.ValueInfo("t", onnxpb.TensorProto_FLOAT)}}
	viaSubgraph := hostile.Nested(1)
	viaSubgraph.Graph.Node[0].Attribute[0].G = branch
	checkUntrusted(t, []struct {
		name  string
		model *onnxpb.ModelProto
		want  string
	}{
		{"two nodes", hostile.Cycle(), `nodes form a cycle: "a" (Add) reads "b_out" of "b" (Relu), which reads "a_out" of "a" (Add)`},
		{"three nodes", three, `nodes form a cycle: "a" (Add) reads "c_out" of "c" (Relu), which reads "b_out" of "b" (Relu), which reads "a_out" of "a" (Add)`},
		{"self loop", hostile.SelfLoop(), `node "loop" (Add) reads its own output "s"`},
		{"self loop through a subgraph", viaSubgraph, `node "if_0" (If) reads its own output "y"`},
	})
}

// TestUntrustedArity: a node of more than graph.MaxArity outputs or
// inputs is refused before its names are indexed.
func TestUntrustedArity(t *testing.T) {
	concat := hostile.ManyOutputs(1)
	concat.Graph.Node[0] = hostile.Node("concat", "Concat", make([]string, 70000), []string{"y"}, hostile.Int("axis", 0))
	checkUntrusted(t, []struct {
		name  string
		model *onnxpb.ModelProto
		want  string
	}{
		{"a million outputs", hostile.ManyOutputs(1_000_000), `node "split" (Split) has 1000000 outputs (pot reads at most 65536 per node)`},
		{"70000 inputs", concat, `node "concat" (Concat) has 70000 inputs`},
		{"1000 outputs", hostile.ManyOutputs(1000), ""},
	})
}

// TestUntrustedTensors: initializers whose data disagrees with their
// dims, whose dims overflow, or whose type disagrees with the type the
// graph declares for them are refused, naming the tensor.
func TestUntrustedTensors(t *testing.T) {
	checkUntrusted(t, []struct {
		name  string
		model *onnxpb.ModelProto
		want  string
	}{
		{"raw_data length", hostile.RawDataLength(), `tensor "w": raw_data has 7 bytes, dims [2 3] of type FLOAT need 24`},
		{"dims overflow", hostile.DimsOverflow(), `tensor "w": dimensions [4294967296 4294967296 4294967296] overflow`},
		{"value_info type", hostile.InitializerTypeMismatch(), `initializer "w" is INT64 but the value_info of that name is declared FLOAT`},
		{"graph input type", hostile.InputDefaultMismatch(), `initializer "w" is INT64 but the graph input of that name is declared FLOAT`},
	})
}
