package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/internal/hostile"
	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/proto/onnxpb"
)

// TestUntrustedModels quantizes hostile models (package internal/hostile)
// with the real binary: each fails with one line naming the node or
// tensor at fault, a non-zero exit status and no output file — no
// panic, no hang, no allocation of the size the model asks for.
func TestUntrustedModels(t *testing.T) {
	in := t.TempDir()
	calib := testenv.Example("data", "mnist-calib.json")
	write := func(name string, m *onnxpb.ModelProto) string {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(in, name+".onnx")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name  string
		model *onnxpb.ModelProto
		extra []string
		want  []string
	}{
		{"subgraphs nested 100 deep", hostile.Nested(100), nil, []string{`node "if_64" (If)`, "nested more than 64 levels deep"}},
		{"cycle", hostile.Cycle(), nil, []string{`nodes form a cycle: "a" (Add) reads "b_out" of "b" (Relu), which reads "a_out" of "a" (Add)`}},
		{"node reads its own output", hostile.SelfLoop(), nil, []string{`node "loop" (Add) reads its own output "s"`}},
		{"conv kernel_shape 2^31", hostile.Conv(hostile.Ints("kernel_shape", 1<<31, 1<<31)), nil, []string{`node "conv" (Conv): kernel_shape [2147483648 2147483648]: values must be at most`}},
		{"conv strides 0", hostile.Conv(hostile.Ints("strides", 0, 0)), nil, []string{`node "conv" (Conv): strides [0 0]: values must be positive`}},
		{"conv negative pads", hostile.Conv(hostile.Ints("pads", -5, -5, -5, -5)), nil, []string{`node "conv": Conv: negative pads [-5 -5 -5 -5] are not supported`}},
		{"a million outputs", hostile.ManyOutputs(1_000_000), nil, []string{`node "split" (Split) has 1000000 outputs`}},
		{"reshape overflowing int64", hostile.Reshape(1<<62, 1<<62), nil, []string{`node "reshape" (Reshape): cannot reshape`}},
		{"constant of 4 TiB", hostile.ConstantOfShape(1<<20, 1<<20), nil, []string{`node "fill" (ConstantOfShape): a float32 tensor of shape [1048576 1048576] needs 4398046511104 bytes`}},
		{"string initializer", hostile.StringInitializer(), nil, []string{`node "add" (Add): Add: operand types float32 and string differ`}},
		{"string input", hostile.StringInput(), []string{"--constant", "s=0"}, []string{`constant "s": pot cannot feed string inputs`}},
		{"initializer type differs from value_info", hostile.InitializerTypeMismatch(), nil, []string{`initializer "w" is INT64 but the value_info of that name is declared FLOAT`}},
		{"raw_data length differs from dims", hostile.RawDataLength(), nil, []string{`tensor "w": raw_data has 7 bytes, dims [2 3] of type FLOAT need 24`}},
		{"dims overflowing", hostile.DimsOverflow(), nil, []string{`tensor "w": dimensions [4294967296 4294967296 4294967296] overflow`}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			model := write(fmt.Sprintf("m%d", i), tc.model)
			expectFailure(t, append([]string{"quantize", "--model", model, "--data", calib, "--subset", "10"}, tc.extra...), tc.want)
		})
	}
}
