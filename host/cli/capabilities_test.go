package cli

import (
	"encoding/json"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
)

// Every built-in target publishes its capabilities, and they are what
// POT's device rules give: algorithms branch on the capabilities and
// quantize as before, and a target of an older SDK (no capabilities, the
// rules derive them from its device) is treated as the built-in one.
func TestBuiltInTargetsPublishCapabilities(t *testing.T) {
	for _, name := range []string{"cpu", "gpu", "vpu", "gna"} {
		t.Run(name, func(t *testing.T) {
			stdout, stderr, code := pot(t, "plugins", "describe", "target", name)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var out struct {
				Description json.RawMessage `json:"description"`
			}
			if err := json.Unmarshal([]byte(stdout), &out); err != nil {
				t.Fatal(err)
			}
			var d potv1.TargetDescription
			if err := protojson.Unmarshal(out.Description, &d); err != nil {
				t.Fatal(err)
			}
			got := d.GetCapabilities()
			if got == nil || got.GetAccumulator() == potv1.Accumulator_ACCUMULATOR_UNSPECIFIED {
				t.Fatalf("target %s publishes no capabilities: %v", name, got)
			}
			d.Capabilities = nil
			if want := sdk.Capabilities(&d); !proto.Equal(got, want) {
				t.Errorf("target %s publishes %v; POT's rules for device %s give %v", name, got, d.GetDevice(), want)
			}
		})
	}
}
