package hwconfig

import (
	"embed"
	"fmt"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/hwconfig"
)

//go:embed configs/*.json
var files embed.FS

// Load returns the built-in config of a device ("cpu", "gpu", "vpu",
// "gna").
func Load(device string) (*potv1.HardwareConfig, error) {
	b, err := files.ReadFile("configs/" + device + ".json")
	if err != nil {
		return nil, fmt.Errorf("no hardware config for device %q", device)
	}
	c, err := hwconfig.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("hardware config %s: %w", device, err)
	}
	return c, nil
}

// MustLoad is Load for the built-in configs, which are known good.
func MustLoad(device string) *potv1.HardwareConfig {
	c, err := Load(device)
	if err != nil {
		panic(err)
	}
	return c
}

// Source returns a built-in config file as written (POT layout).
func Source(device string) ([]byte, error) { return files.ReadFile("configs/" + device + ".json") }
