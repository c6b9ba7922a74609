package target

import (
	"context"
	"testing"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"

	"github.com/potgo/pot/sdk/hwconfig"
)

// testHW is a small hardware config: 8-bit Conv, Gemm and MatMul.
var testHW = hwconfig.MustParse([]byte(`{"target_device": "TEST",
  "config": {"quantization": {
    "q8_a": {"bits": 8, "mode": "symmetric", "granularity": "pertensor"},
    "q8_w": {"bits": 8, "mode": "symmetric", "granularity": "perchannel", "level_low": -127, "level_high": 127}}},
  "operations": [
    {"type": "Conv", "quantization": {"activations": "q8_a", "weights": "q8_w"}},
    {"type": "Gemm", "quantization": {"activations": "q8_a", "weights": "q8_w"}},
    {"type": "MatMul", "quantization": {"activations": "q8_a", "weights": "q8_w"}},
    {"type": "MaxPool"}]}`))

// newEngine is New for a test: the required fields c leaves empty are
// filled in (version "test", device "TEST", testHW, the performance
// preset).
func newEngine(t testing.TB, c Config) *Engine {
	t.Helper()
	if c.Version == "" {
		c.Version = "test"
	}
	if c.Device == "" {
		c.Device = "TEST"
	}
	if c.HardwareConfig == nil {
		c.HardwareConfig = testHW
	}
	if c.Presets == nil {
		c.Presets = []string{"performance"}
	}
	e, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// loadWithData loads g into e and uploads set, and returns the model's
// and the data's ids.
func loadWithData(t testing.TB, e *Engine, g *potv1.Graph, set *plugins.Dataset) (model, data string) {
	t.Helper()
	ctx := context.Background()
	resp, err := e.LoadModel(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	id, err := e.UploadData(ctx, set)
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetModelId(), id
}
