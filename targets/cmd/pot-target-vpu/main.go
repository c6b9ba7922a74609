// Command pot-target-vpu is pot's VPU target plugin: float16 execution
// throughout (int8/4/2-bit quantized operations simulated exactly), with
// the VPU hardware config of POT: asymmetric per-tensor activations,
// symmetric per-channel 8/4/2-bit weights, asymmetric weights with one
// zero point, unified scales on element-wise inputs.
package main

import (
	"fmt"
	"os"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/target"
	"github.com/potgo/pot/targets/fp16"
	"github.com/potgo/pot/targets/hwconfig"
	"github.com/potgo/pot/targets/vpu"
)

func main() {
	opts, err := sdk.TargetOptions()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pot-target-vpu:", err)
		os.Exit(1)
	}
	// Nodes to keep in float32 (the values of some models exceed half).
	target.Serve(config(fp16.Lowering{Float32: fp16.ParseFloat32(opts[fp16.OptionFloat32])}))
}

// config is the vpu target's declaration, with the float16 lowering's
// device settings.
func config(l fp16.Lowering) target.Config {
	log := sdk.Logger().Named("vpu")
	return target.Config{
		Name:           "vpu",
		Version:        sdk.BuildVersion,
		Device:         "VPU",
		HardwareConfig: hwconfig.MustLoad("vpu"),
		// POT keeps the accuracy preset on VPU (asymmetric weights).
		Presets: []string{"performance", "mixed", "accuracy"},
		// Float16 computation (below): New adds the property
		// float_precision.
		Capabilities: &potv1.TargetCapabilities{Accumulator: potv1.Accumulator_ACCUMULATOR_INT32, FloatPrecision: potv1.FloatPrecision_FLOAT_PRECISION_FLOAT16},
		Properties:   map[string]string{"accumulation": "float32", "quantized_precision": "int8,int4,int2"},
		// Float16 computation; the float16 lowering warns of zero points
		// the VPU cannot share.
		Numerics: target.Numerics{
			Policy: fp16.Policy{},
			Lower: vpu.Lower(l, func(msg string, issues []string) {
				log.Warn(msg, "quantizers", issues)
			}),
		},
	}
}
