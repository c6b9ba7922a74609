// Command pot-target-gpu is pot's GPU target plugin: float16 execution of
// non-quantized operations (float32 accumulation, every value stored in
// half) and int8 execution of quantized ones, with the GPU hardware
// config of POT.
package main

import (
	"fmt"
	"maps"
	"os"
	"slices"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/target"
	"github.com/potgo/pot/targets/fp16"
	"github.com/potgo/pot/targets/hwconfig"
)

func main() {
	opts, err := sdk.TargetOptions()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pot-target-gpu:", err)
		os.Exit(1)
	}
	// Nodes to keep in float32 (the values of some models exceed half).
	target.Serve(config(slices.Sorted(maps.Keys(fp16.ParseFloat32(opts[fp16.OptionFloat32])))))
}

// config is the gpu target's declaration, with the nodes kept in
// float32 on the device.
func config(float32Nodes []string) target.Config {
	return target.Config{
		Name:           "gpu",
		Version:        sdk.BuildVersion,
		Device:         "GPU",
		HardwareConfig: hwconfig.MustLoad("gpu"),
		Presets:        []string{"performance", "mixed"},
		Capabilities: &potv1.TargetCapabilities{
			Accumulator:                 potv1.Accumulator_ACCUMULATOR_INT32,
			SymmetricActivationProducts: true,
			// Float16Numerics: New adds the property float_precision.
			FloatPrecision: potv1.FloatPrecision_FLOAT_PRECISION_FLOAT16,
		},
		Properties: map[string]string{"accumulation": "float32", "quantized_precision": "int8"},
		Numerics:   target.Float16Numerics(float32Nodes...),
	}
}
