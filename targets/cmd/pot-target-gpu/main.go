// Command pot-target-gpu is pot's GPU target plugin: float16 execution of
// non-quantized operations (float32 accumulation, every value stored in
// half) and int8 execution of quantized ones, with the GPU hardware
// config of POT.
package main

import (
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/targets/engine"
	"github.com/potgo/pot/targets/fp16"
	"github.com/potgo/pot/targets/hwconfig"
)

func main() { sdk.ServeTarget(engine.New(config())) }

// config is the gpu target's engine configuration.
func config() engine.Config {
	return engine.Config{
		Name:           "gpu",
		Version:        sdk.BuildVersion,
		Device:         "GPU",
		HardwareConfig: hwconfig.MustLoad("gpu"),
		Presets:        []string{"performance", "mixed"},
		Properties:     map[string]string{"float_precision": "float16", "accumulation": "float32", "quantized_precision": "int8"},
		Threads:        sdk.Threads(),
		Policy:         fp16.Policy{},
		Lower:          fp16.Lower,
	}
}
