package sdk

import (
	"slices"
	"strings"

	"github.com/potgo/pot/proto/potv1"
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
func Capabilities(d *potv1.TargetDescription) *potv1.TargetCapabilities {
	if c := d.GetCapabilities(); c != nil {
		return c
	}
	c := &potv1.TargetCapabilities{Accumulator: potv1.Accumulator_ACCUMULATOR_INT32}
	switch dev := strings.ToUpper(d.GetDevice()); {
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

// ResolvePreset maps a preset to one the target publishes, as POT maps
// presets per device: accuracy becomes mixed on a target that publishes
// mixed but not accuracy (POT's CPU and GPU), mixed becomes accuracy on
// one that publishes accuracy but not mixed (POT's GNA). A preset the
// target publishes, or one neither rule maps, is returned unchanged; ok
// says whether the result is published (always true when the target
// publishes no list).
func ResolvePreset(preset string, published []string) (resolved string, ok bool) {
	if len(published) == 0 {
		return preset, true
	}
	has := func(p string) bool { return slices.Contains(published, p) }
	switch {
	case has(preset):
		return preset, true
	case preset == "accuracy" && has("mixed"):
		return "mixed", true
	case preset == "mixed" && has("accuracy"):
		return "accuracy", true
	}
	return preset, false
}
