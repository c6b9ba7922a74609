package main

import (
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/targets/engine"
	"github.com/potgo/pot/targets/hwconfig"
)

func main() {
	sdk.ServeTarget(engine.New(engine.Config{
		Name:           "cpu",
		Version:        sdk.BuildVersion,
		Device:         "CPU",
		HardwareConfig: hwconfig.MustLoad("cpu"),
		Presets:        []string{"performance", "mixed"},
		Threads:        sdk.Threads(),
	}))
}
