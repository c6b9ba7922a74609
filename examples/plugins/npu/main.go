// Command pot-target-npu is an example vendor target for pot: an
// imaginary NPU, written against pot's target SDK alone (sdk/target).
//
// The NPU runs a small set of operators (enough for LeNet-style
// convolutional networks), quantizes every layer to symmetric int8 — 8-bit
// per-tensor activations, 8-bit per-channel weights on levels -127..127 —
// and its quantizers round ties away from zero (2.5 → 3, -2.5 → -3), as
// TFLite's reference kernels do, where pot's built-in targets round them
// to even. Its convolution engine takes 2-D kernels of at most 7×7.
//
// Build it with `go build -o pot-target-npu .`, put the binary in a
// plugin folder (or name the folder in $POT_PLUGIN_PATH) and run
//
//	pot quantize --target npu --model lenet.onnx --data calib.json -o lenet_npu.onnx
package main

import (
	_ "embed"
	"fmt"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/hwconfig"
	"github.com/potgo/pot/sdk/target"
)

// Version is the NPU target's version.
const Version = "0.1.0"

// hardwareConfig is the NPU's quantization config, in POT's layout: per
// operator the quantizers it accepts.
//
//go:embed npu.json
var hardwareConfig []byte

// opSet lists the operators the NPU runs; pot refuses a model with any
// other, naming its nodes.
var opSet = []string{"Conv", "Gemm", "MatMul", "Relu", "MaxPool", "Add", "Reshape", "Flatten", "Softmax"}

// maxKernel is the largest convolution kernel side of the NPU.
const maxKernel = 7

// config declares the NPU target.
func config() target.Config {
	return target.Config{
		Name:    "npu",
		Version: Version,
		Device:  "NPU",
		OpSet:   opSet,
		Check:   check,
		// The NPU's quantizers round half away from zero; everything
		// else is the runtime's float32 arithmetic on the dequantized
		// int8 values, which matches int8 products summed in an exact
		// int32 up to float32 rounding.
		Numerics:       target.Numerics{Rounding: target.RoundHalfAwayFromZero},
		HardwareConfig: hwconfig.MustParse(hardwareConfig),
		Presets:        []string{"performance"},
		Capabilities: &potv1.TargetCapabilities{
			Accumulator:                 potv1.Accumulator_ACCUMULATOR_INT32,
			SymmetricActivationProducts: true,
		},
		Properties: map[string]string{
			"activations": "int8, symmetric, per tensor",
			"weights":     "int8 (-127..127), symmetric, per channel",
			"accumulator": "int32",
			"convolution": fmt.Sprintf("2-D, kernels up to %dx%d", maxKernel, maxKernel),
		},
	}
}

// check refuses the convolutions the NPU's convolution engine cannot run:
// other than 2-D, or with a kernel side above maxKernel (as their
// kernel_shape attribute says).
func check(n *potv1.Node) error {
	if n.GetOpType() != "Conv" {
		return nil
	}
	for _, a := range n.GetAttributes() {
		if a.GetName() != "kernel_shape" {
			continue
		}
		if len(a.GetInts()) != 2 {
			return fmt.Errorf("the NPU runs 2-D convolutions, not %d-D", len(a.GetInts()))
		}
		for _, k := range a.GetInts() {
			if k > maxKernel {
				return fmt.Errorf("kernel %v is larger than the NPU's %dx%d", a.GetInts(), maxKernel, maxKernel)
			}
		}
	}
	return nil
}

func main() { target.Serve(config()) }
