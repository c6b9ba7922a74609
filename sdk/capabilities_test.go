package sdk

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
)

func TestCapabilities(t *testing.T) {
	pairs, exact, sat := potv1.Accumulator_ACCUMULATOR_INT16_PAIRS, potv1.Accumulator_ACCUMULATOR_INT32, potv1.Accumulator_ACCUMULATOR_INT32_SATURATING
	published := &potv1.TargetCapabilities{Accumulator: exact, IntegerOnly: true}
	for _, tc := range []struct {
		name string
		d    *potv1.TargetDescription
		want *potv1.TargetCapabilities
	}{
		{"published win over the device", &potv1.TargetDescription{Device: "CPU", Capabilities: published}, published},
		{"no device", &potv1.TargetDescription{}, &potv1.TargetCapabilities{Accumulator: pairs, SymmetricActivationProducts: true}},
		{"cpu", &potv1.TargetDescription{Device: "cpu"}, &potv1.TargetCapabilities{Accumulator: pairs, SymmetricActivationProducts: true}},
		{"gpu", &potv1.TargetDescription{Device: "GPU"}, &potv1.TargetCapabilities{Accumulator: exact, SymmetricActivationProducts: true}},
		{"vpu", &potv1.TargetDescription{Device: "VPU"}, &potv1.TargetCapabilities{Accumulator: exact}},
		{"gna3", &potv1.TargetDescription{Device: "GNA3"}, &potv1.TargetCapabilities{Accumulator: sat, IntegerOnly: true, PrecisePreset: "accuracy", PwlActivations: true}},
		{"unknown device", &potv1.TargetDescription{Device: "NPU-X"}, &potv1.TargetCapabilities{Accumulator: exact}},
	} {
		if got := Capabilities(tc.d); !proto.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestResolvePreset(t *testing.T) {
	cpu, vpu, gna := []string{"performance", "mixed"}, []string{"performance", "mixed", "accuracy"}, []string{"performance", "accuracy"}
	only := []string{"performance"}
	for _, tc := range []struct {
		preset    string
		published []string
		want      string
		ok        bool
	}{
		{"performance", cpu, "performance", true},
		{"accuracy", cpu, "mixed", true},
		{"accuracy", vpu, "accuracy", true},
		{"mixed", gna, "accuracy", true},
		{"mixed", only, "mixed", false},
		{"accuracy", only, "accuracy", false},
		{"Symmetric", only, "performance", true},
		{"", only, "performance", true},
		{"asymmetric", cpu, "mixed", true},
		{"ASYMMETRIC", vpu, "accuracy", true},
		{"fast", cpu, "fast", false},
	} {
		got, ok := ResolvePreset(tc.preset, tc.published)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ResolvePreset(%s, %v) = %s, %v; want %s, %v", tc.preset, tc.published, got, ok, tc.want, tc.ok)
		}
	}
}

// Presets of a target of an older SDK (none published) are POT's per
// device, and resolve as POT's device rules did.
func TestPresetsOfOlderTargets(t *testing.T) {
	for _, tc := range []struct {
		preset, device, want string
	}{
		{"accuracy", "CPU", "mixed"}, {"accuracy", "GPU", "mixed"}, {"accuracy", "VPU", "accuracy"},
		{"mixed", "GNA", "accuracy"}, {"performance", "GNA", "performance"}, {"mixed", "CPU", "mixed"},
		{"accuracy", "", "mixed"},
	} {
		got, ok := ResolvePreset(tc.preset, Presets(&potv1.TargetDescription{Device: tc.device}))
		if got != tc.want || !ok {
			t.Errorf("%s on %q: %s, %v; want %s", tc.preset, tc.device, got, ok, tc.want)
		}
	}
	published := []string{"performance"}
	if got := Presets(&potv1.TargetDescription{Device: "GNA", Presets: published}); len(got) != 1 {
		t.Errorf("published presets replaced: %v", got)
	}
}

func TestAlgorithmCapabilities(t *testing.T) {
	published := &potv1.AlgorithmCapabilities{Evaluates: true, PassesParamsTo: "Base"}
	aaSchema := `{"type": "object", "additionalProperties": false, "properties": {"preset": {}, "maximal_drop": {}, "workers": {}}}`
	for _, tc := range []struct {
		name string
		d    *potv1.AlgorithmDescription
		want *potv1.AlgorithmCapabilities
	}{
		{"published win over the schema", &potv1.AlgorithmDescription{ParamsSchema: aaSchema, Capabilities: published}, published},
		{"published empty", &potv1.AlgorithmDescription{ParamsSchema: aaSchema, Capabilities: &potv1.AlgorithmCapabilities{}}, &potv1.AlgorithmCapabilities{}},
		{"older accuracy-aware search", &potv1.AlgorithmDescription{ParamsSchema: aaSchema},
			&potv1.AlgorithmCapabilities{Evaluates: true, Checkpoints: true, MaxDropParam: "maximal_drop", WorkersParam: "workers"}},
		{"older plain algorithm", &potv1.AlgorithmDescription{ParamsSchema: `{"properties": {"preset": {}}}`}, &potv1.AlgorithmCapabilities{}},
		{"no schema", &potv1.AlgorithmDescription{}, &potv1.AlgorithmCapabilities{}},
		{"bad schema", &potv1.AlgorithmDescription{ParamsSchema: `{`}, &potv1.AlgorithmCapabilities{}},
	} {
		if got := AlgorithmCapabilities(tc.d); !proto.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
