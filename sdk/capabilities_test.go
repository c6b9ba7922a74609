package sdk

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
)

func TestCapabilities(t *testing.T) {
	pairs, exact, sat := potv1.Accumulator_ACCUMULATOR_INT16_PAIRS, potv1.Accumulator_ACCUMULATOR_INT32, potv1.Accumulator_ACCUMULATOR_INT32_SATURATING
	even, away, down := potv1.Rounding_ROUNDING_HALF_TO_EVEN, potv1.Rounding_ROUNDING_HALF_AWAY_FROM_ZERO, potv1.Rounding_ROUNDING_DOWN
	f32, f16 := potv1.FloatPrecision_FLOAT_PRECISION_FLOAT32, potv1.FloatPrecision_FLOAT_PRECISION_FLOAT16
	published := &potv1.TargetCapabilities{Accumulator: exact, IntegerOnly: true, Rounding: down, FloatPrecision: f16}
	// Published before rounding and float precision were fields.
	older := &potv1.TargetCapabilities{Accumulator: exact, IntegerOnly: true}
	props := map[string]string{"rounding": "half_away_from_zero", "float_precision": "float16"}
	for _, tc := range []struct {
		name string
		d    *potv1.TargetDescription
		want *potv1.TargetCapabilities
	}{
		{"published win over the device and the properties", &potv1.TargetDescription{Device: "CPU", Capabilities: published, Properties: props}, published},
		{"published without rounding", &potv1.TargetDescription{Device: "CPU", Capabilities: older},
			&potv1.TargetCapabilities{Accumulator: exact, IntegerOnly: true, Rounding: even, FloatPrecision: f32}},
		{"published without rounding, with the properties", &potv1.TargetDescription{Device: "CPU", Capabilities: older, Properties: props},
			&potv1.TargetCapabilities{Accumulator: exact, IntegerOnly: true, Rounding: away, FloatPrecision: f16}},
		{"no device", &potv1.TargetDescription{}, &potv1.TargetCapabilities{Accumulator: pairs, SymmetricActivationProducts: true, Rounding: even, FloatPrecision: f32}},
		{"cpu", &potv1.TargetDescription{Device: "cpu"}, &potv1.TargetCapabilities{Accumulator: pairs, SymmetricActivationProducts: true, Rounding: even, FloatPrecision: f32}},
		{"gpu", &potv1.TargetDescription{Device: "GPU", Properties: map[string]string{"float_precision": "float16"}},
			&potv1.TargetCapabilities{Accumulator: exact, SymmetricActivationProducts: true, Rounding: even, FloatPrecision: f16}},
		{"vpu", &potv1.TargetDescription{Device: "VPU"}, &potv1.TargetCapabilities{Accumulator: exact, Rounding: even, FloatPrecision: f32}},
		{"gna3", &potv1.TargetDescription{Device: "GNA3"}, &potv1.TargetCapabilities{Accumulator: sat, IntegerOnly: true, PrecisePreset: "accuracy", PwlActivations: true,
			Rounding: even, FloatPrecision: f32}},
		{"unknown device", &potv1.TargetDescription{Device: "NPU-X", Properties: map[string]string{"rounding": "down"}},
			&potv1.TargetCapabilities{Accumulator: exact, Rounding: down, FloatPrecision: f32}},
		{"unknown rounding", &potv1.TargetDescription{Device: "NPU-X", Properties: map[string]string{"rounding": "stochastic", "float_precision": "bfloat16"}},
			&potv1.TargetCapabilities{Accumulator: exact, Rounding: even, FloatPrecision: f32}},
	} {
		if got := Capabilities(tc.d); !proto.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if older.GetRounding() != potv1.Rounding_ROUNDING_UNSPECIFIED {
		t.Errorf("Capabilities changed the description's capabilities: %v", older)
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
