package target_test

import (
	"context"
	"fmt"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/hwconfig"
	"github.com/potgo/pot/sdk/target"
)

// hwJSON is a hardware config in POT's layout: symmetric 8-bit
// activations and weights for Conv and Gemm; Relu and MaxPool are
// quantization-agnostic.
const hwJSON = `{
  "target_device": "NPU",
  "config": {"quantization": {
    "q8_a": {"bits": 8, "mode": "symmetric", "granularity": "pertensor"},
    "q8_w": {"bits": 8, "mode": "symmetric", "granularity": "perchannel", "level_low": -127, "level_high": 127}}},
  "operations": [
    {"type": "Conv", "quantization": {"activations": "q8_a", "weights": "q8_w"}},
    {"type": "Gemm", "quantization": {"activations": "q8_a", "weights": "q8_w"}},
    {"type": "Relu"},
    {"type": "MaxPool"}]
}`

// A vendor target: its op set, rounding, hardware config, presets and
// capabilities. In main, target.Serve(cfg) serves it.
func Example() {
	cfg := target.Config{
		Name:           "npu",
		Version:        "0.1.0",
		Device:         "NPU",
		OpSet:          []string{"Conv", "Gemm", "Relu", "MaxPool", "Flatten"},
		Numerics:       target.Numerics{Rounding: target.RoundHalfAwayFromZero},
		HardwareConfig: hwconfig.MustParse([]byte(hwJSON)),
		Presets:        []string{"performance"},
		Capabilities:   &potv1.TargetCapabilities{Accumulator: potv1.Accumulator_ACCUMULATOR_INT32, SymmetricActivationProducts: true},
	}
	npu, err := target.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	d, _ := npu.Describe(ctx)
	fmt.Println(d.GetName(), d.GetDevice(), d.GetPresets(), d.GetProperties()["rounding"])

	// A model with an operator outside the op set is refused, naming
	// the node.
	g := &potv1.Graph{Name: "m", Opsets: []*potv1.OpsetImport{{Version: 13}},
		Inputs:  []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Outputs: []*potv1.ValueInfo{{Name: "y", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Nodes: []*potv1.Node{
			{Name: "act", OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"r"}},
			{Name: "gate", OpType: "Sigmoid", Inputs: []string{"r"}, Outputs: []string{"y"}},
		}}
	resp, _ := npu.LoadModel(ctx, g)
	fmt.Println(resp.GetUnsupported())
	// Output:
	// npu NPU [performance] half_away_from_zero
	// [gate (Sigmoid): operator Sigmoid is not in the op set of target npu]
}

// An operator the target implements itself, in its own domain: y = x·k
// with k an attribute. New reads the attributes once; the kernel runs
// per batch.
func ExampleOperator() {
	scale := target.Operator{Domain: "com.example.npu", OpType: "Scale", New: func(n *target.Node) (target.Kernel, error) {
		k := n.Float("k", 1)
		if k == 0 {
			return nil, target.Unsupported(n, "k = 0 is")
		}
		return target.KernelFunc(func(ctx *target.Context, in, out []*target.Tensor) error {
			x := in[0].F32()
			out[0].Reset(target.Float, in[0].Shape)
			y := out[0].F32()
			ctx.Parallel(len(x), 4096, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					y[i] = k * x[i]
				}
			})
			return nil
		}), nil
	}}
	npu := target.MustNew(target.Config{Name: "npu", Version: "0.1.0", Device: "NPU",
		HardwareConfig: hwconfig.MustParse([]byte(hwJSON)), Presets: []string{"performance"},
		OpSet: []string{"Relu"}, Operators: []target.Operator{scale}})

	g := &potv1.Graph{Name: "m", Opsets: []*potv1.OpsetImport{{Version: 13}},
		Inputs:  []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Outputs: []*potv1.ValueInfo{{Name: "y", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Nodes: []*potv1.Node{
			{Name: "triple", OpType: "Scale", Domain: "com.example.npu", Inputs: []string{"x"}, Outputs: []string{"s"},
				Attributes: []*potv1.Attribute{{Name: "k", Type: potv1.Attribute_TYPE_FLOAT, F: 3}}},
			{Name: "act", OpType: "Relu", Inputs: []string{"s"}, Outputs: []string{"y"}},
		}}
	ctx := context.Background()
	resp, _ := npu.LoadModel(ctx, g)
	x := target.NewTensor(target.Float, 3)
	copy(x.F32(), []float32{1, -1, 2})
	out, err := npu.Infer(ctx, &potv1.InferRequest{ModelId: resp.GetModelId(), Inputs: []*potv1.Tensor{target.ToProto("x", x)}})
	if err != nil {
		fmt.Println(err)
		return
	}
	y, _ := target.FromProto(out.GetOutputs()[0])
	fmt.Println(y.F32())
	// Output:
	// [3 0 6]
}
