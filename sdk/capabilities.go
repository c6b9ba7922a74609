package sdk

import (
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/params"
)

// Capabilities returns what a target's description says about its
// arithmetic, for algorithms to branch on instead of its device name.
//
// A target built with an SDK older than the capabilities field does not
// send them; for it they are derived once, here, from POT's rules for
// its device: CPU and ANY assume AVX2's int16 pair saturation, GNA
// accumulates in a saturating int32, runs integers only (its precise
// model is the accuracy preset) and approximates activations piecewise
// linearly, and ANY, CPU and GPU quantize products of two activations
// symmetrically.
//
// The rounding and the float precision are always said: a target older
// than those fields has them from its properties "rounding" (such as
// "half_away_from_zero") and "float_precision" ("float16"), or else
// rounds half to even and computes in float32.
func Capabilities(d *potv1.TargetDescription) *potv1.TargetCapabilities {
	c := d.GetCapabilities()
	if c == nil {
		c = deviceCapabilities(d.GetDevice())
	} else if c.GetRounding() == potv1.Rounding_ROUNDING_UNSPECIFIED || c.GetFloatPrecision() == potv1.FloatPrecision_FLOAT_PRECISION_UNSPECIFIED {
		c = proto.CloneOf(c)
	} else {
		return c
	}
	if c.Rounding == potv1.Rounding_ROUNDING_UNSPECIFIED {
		c.Rounding = roundingOfProperty(d.GetProperties()["rounding"])
	}
	if c.FloatPrecision == potv1.FloatPrecision_FLOAT_PRECISION_UNSPECIFIED {
		c.FloatPrecision = floatPrecisionOfProperty(d.GetProperties()["float_precision"])
	}
	return c
}

// roundingOfProperty reads a target's property "rounding" (sdk/target's
// names: "half_to_even", "half_away_from_zero", "half_up",
// "toward_zero", "down"); ROUNDING_HALF_TO_EVEN when it names none.
func roundingOfProperty(p string) potv1.Rounding {
	if r, ok := potv1.Rounding_value["ROUNDING_"+strings.ToUpper(strings.TrimSpace(p))]; ok && r != 0 {
		return potv1.Rounding(r)
	}
	return potv1.Rounding_ROUNDING_HALF_TO_EVEN
}

// floatPrecisionOfProperty reads a target's property "float_precision":
// FLOAT_PRECISION_FLOAT16 for "float16", FLOAT_PRECISION_FLOAT32
// otherwise.
func floatPrecisionOfProperty(p string) potv1.FloatPrecision {
	if strings.EqualFold(strings.TrimSpace(p), "float16") {
		return potv1.FloatPrecision_FLOAT_PRECISION_FLOAT16
	}
	return potv1.FloatPrecision_FLOAT_PRECISION_FLOAT32
}

// deviceCapabilities are POT's rules for a device.
func deviceCapabilities(device string) *potv1.TargetCapabilities {
	c := &potv1.TargetCapabilities{Accumulator: potv1.Accumulator_ACCUMULATOR_INT32}
	switch dev := strings.ToUpper(device); {
	case dev == "" || dev == "ANY" || dev == "CPU":
		c.Accumulator = potv1.Accumulator_ACCUMULATOR_INT16_PAIRS
		c.SymmetricActivationProducts = true
	case dev == "GPU":
		c.SymmetricActivationProducts = true
	case strings.HasPrefix(dev, "GNA"):
		c.Accumulator = potv1.Accumulator_ACCUMULATOR_INT32_SATURATING
		c.IntegerOnly, c.PrecisePreset, c.PwlActivations = true, "accuracy", true
	}
	return c
}

// Presets returns the presets a target publishes, the default first. A
// target of an older SDK that publishes none gets POT's per device:
// performance and accuracy on GNA, all three on VPU and NPU, performance
// and mixed elsewhere.
func Presets(d *potv1.TargetDescription) []string {
	if p := d.GetPresets(); len(p) > 0 {
		return p
	}
	switch dev := strings.ToUpper(d.GetDevice()); {
	case strings.HasPrefix(dev, "GNA"):
		return []string{"performance", "accuracy"}
	case dev == "VPU" || dev == "NPU":
		return []string{"performance", "mixed", "accuracy"}
	}
	return []string{"performance", "mixed"}
}

// presetAliases are POT's other names of presets.
var presetAliases = map[string]string{"": "performance", "symmetric": "performance", "asymmetric": "accuracy"}

// presetFallbacks are POT's mappings of a preset a device lacks, applied
// by what a target publishes rather than by its device name: accuracy
// runs as mixed where there is mixed but no accuracy (POT on CPU and
// GPU), mixed as accuracy where there is accuracy but no mixed (POT on
// GNA).
var presetFallbacks = map[string]string{"accuracy": "mixed", "mixed": "accuracy"}

// ResolvePreset returns the preset to run for a requested one on a
// target that publishes the presets published (see Presets): the name
// normalised (case-insensitive; empty and symmetric are performance,
// asymmetric is accuracy), kept when published, else mapped by POT's
// fallbacks when the target publishes the fallback. ok is false when the
// target publishes neither; resolved is then the normalised name.
func ResolvePreset(preset string, published []string) (resolved string, ok bool) {
	p := strings.ToLower(strings.TrimSpace(preset))
	if a, found := presetAliases[p]; found {
		p = a
	}
	if slices.Contains(published, p) {
		return p, true
	}
	if fb, found := presetFallbacks[p]; found && slices.Contains(published, fb) {
		return fb, true
	}
	return p, false
}

// AlgorithmCapabilities returns what an algorithm's description says the
// host must do for it (see potv1.AlgorithmCapabilities), for the host to
// follow instead of the algorithm's name.
//
// An algorithm built with an SDK older than the capabilities field does
// not send them; for it they are read from POT's parameter names in its
// schema: a maximal_drop property is an accuracy-aware search (it
// evaluates, checkpoints and takes its budget there), a workers property
// takes the evaluation workers.
func AlgorithmCapabilities(d *potv1.AlgorithmDescription) *potv1.AlgorithmCapabilities {
	if c := d.GetCapabilities(); c != nil {
		return c
	}
	c := &potv1.AlgorithmCapabilities{}
	names, _, err := params.Properties(d.GetParamsSchema())
	if err != nil {
		return c
	}
	if slices.Contains(names, "maximal_drop") {
		c.Evaluates, c.Checkpoints, c.MaxDropParam = true, true, "maximal_drop"
	}
	if slices.Contains(names, "workers") {
		c.WorkersParam = "workers"
	}
	return c
}
