// Command pot-target-gpu is pot's GPU target plugin: float16 execution of
// non-quantized operations (float32 accumulation, every value stored in
// half) and int8 execution of quantized ones, with the GPU hardware
// config of POT.
package main

import (
	"fmt"
	"os"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/targets/engine"
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
	sdk.ServeTarget(engine.New(config(fp16.Lowering{Float32: fp16.ParseFloat32(opts[fp16.OptionFloat32])})))
}

// config is the gpu target's engine configuration, with the float16
// lowering's device settings.
func config(l fp16.Lowering) engine.Config {
	return engine.Config{
		Name:           "gpu",
		Version:        sdk.BuildVersion,
		Device:         "GPU",
		HardwareConfig: hwconfig.MustLoad("gpu"),
		Presets:        []string{"performance", "mixed"},
		Capabilities: &potv1.TargetCapabilities{
			Accumulator:                 potv1.Accumulator_ACCUMULATOR_INT32,
			SymmetricActivationProducts: true,
		},
		Properties: map[string]string{"float_precision": "float16", "accumulation": "float32", "quantized_precision": "int8"},
		Threads:    sdk.Threads(),
		Policy:     fp16.Policy{},
		Lower:      l.Lower,
	}
}
