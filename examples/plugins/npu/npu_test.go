package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/sdk/plugintest"
	"github.com/potgo/pot/sdk/target"
)

// The NPU passes pot's target conformance kit, in-process and as a
// binary.
func TestConformance(t *testing.T) {
	t.Run("in-process", func(t *testing.T) { plugintest.TestTarget(t, target.MustNew(config())) })
	t.Run("binary", func(t *testing.T) {
		if testing.Short() {
			t.Skip("builds the plugin")
		}
		plugintest.TestTargetBinary(t, plugintest.Build(t, ".", "pot-target-npu"))
	})
}

// Every quantizer option of the hardware config is symmetric 8-bit.
func TestHardwareConfig(t *testing.T) {
	hw := config().HardwareConfig
	if hw.GetTargetDevice() != "NPU" || len(hw.GetOperations()) == 0 {
		t.Fatalf("config %v", hw)
	}
	for _, op := range hw.GetOperations() {
		for _, o := range append(op.GetActivations(), op.GetWeights()...) {
			if o.GetBits() != 8 || o.GetMode() != potv1.QuantizationMode_QUANTIZATION_MODE_SYMMETRIC {
				t.Errorf("%s: option %v is not symmetric 8-bit", op.GetType(), o)
			}
		}
		if !slices.Contains(opSet, op.GetType()) {
			t.Errorf("%s is in the hardware config but not in the op set", op.GetType())
		}
	}
}

func lenet(t *testing.T) *potv1.Graph {
	t.Helper()
	g, err := onnx.ReadGraph(filepath.Join("..", "..", "models", "lenet_mnist.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// LeNet loads; a model with an operator outside the op set, or a
// convolution the NPU cannot run, is refused naming the node.
func TestLoadModel(t *testing.T) {
	npu := target.MustNew(config())
	ctx := context.Background()
	sigmoid := lenet(t)
	sigmoid.Nodes[1].OpType = "Sigmoid"
	wide := lenet(t)
	wide.Nodes[0].Attributes = append(wide.Nodes[0].Attributes,
		&potv1.Attribute{Name: "kernel_shape", Type: potv1.Attribute_TYPE_INTS, Ints: []int64{9, 9}})
	tests := []struct {
		name string
		g    *potv1.Graph
		want string // the refusal; "" for a model that loads
	}{
		{"lenet", lenet(t), ""},
		{"sigmoid", sigmoid, "/Relu (Sigmoid): operator Sigmoid is not in the op set of target npu"},
		{"9x9 kernel", wide, "/c1/Conv (Conv): kernel [9 9] is larger than the NPU's 7x7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := npu.LoadModel(ctx, tc.g)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(resp.GetUnsupported(), "\n")
			if tc.want == "" && (got != "" || resp.GetModelId() == "") || tc.want != "" && (got != tc.want || resp.GetModelId() != "") {
				t.Errorf("model %q, unsupported %q, want %q", resp.GetModelId(), got, tc.want)
			}
		})
	}
}

// The NPU's quantizers round ties away from zero, pot's cpu rounds them
// to even: 0.25, 0.75, -0.25 and -1.25 on a grid of step 0.5 are ties.
func TestRounding(t *testing.T) {
	ctx := context.Background()
	g := &potv1.Graph{Name: "ties", Opsets: []*potv1.OpsetImport{{Version: 13}},
		Inputs:  []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Outputs: []*potv1.ValueInfo{{Name: "y", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Nodes:   []*potv1.Node{{Name: "flat", OpType: "Flatten", Inputs: []string{"x"}, Outputs: []string{"y"}}}}
	// Symmetric int8, levels -128..127, step 0.5.
	q := &potv1.Quantizer{Id: "x", Location: &potv1.Location{Tensor: "x"}, Bits: 8, Levels: 256, LevelLow: -128, LevelHigh: 127,
		Mode: potv1.QuantizationMode_QUANTIZATION_MODE_SYMMETRIC, Granularity: potv1.Granularity_GRANULARITY_PER_TENSOR,
		InputLow: []float32{-64}, InputHigh: []float32{63.5}, OutputLow: []float32{-64}, OutputHigh: []float32{63.5}}
	x := target.NewTensor(target.Float, 1, 5)
	copy(x.F32(), []float32{0.25, 0.75, -0.25, -1.25, 0.6})
	run := func(cfg target.Config) []float32 {
		e := target.MustNew(cfg)
		resp, err := e.LoadModel(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.Infer(ctx, &potv1.InferRequest{ModelId: resp.GetModelId(), Inputs: []*potv1.Tensor{target.ToProto("x", x)},
			Plan: &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{proto.Clone(q).(*potv1.Quantizer)}}})
		if err != nil {
			t.Fatal(err)
		}
		y, err := target.FromProto(out.GetOutputs()[0])
		if err != nil {
			t.Fatal(err)
		}
		return y.F32()
	}
	if got, want := run(config()), []float32{0.5, 1, -0.5, -1.5, 0.5}; !slices.Equal(got, want) {
		t.Errorf("NPU: %v, want %v", got, want)
	}
	even := config()
	even.Numerics.Rounding = target.RoundHalfToEven
	if got, want := run(even), []float32{0, 1, 0, -1, 0.5}; !slices.Equal(got, want) {
		t.Errorf("half to even: %v, want %v", got, want)
	}
}
