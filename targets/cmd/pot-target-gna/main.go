// Command pot-target-gna is pot's GNA target plugin: integer emulation of
// Intel's Gaussian & Neural Accelerator (int16 activations, int8/int16
// weights, int32 biases and saturating accumulators, piecewise-linear
// activation functions) over the shared runtime, with POT's GNA hardware
// config. Models with operations outside that config are refused. The
// float model (no plan) runs in float32.
package main

import (
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/target"
	"github.com/potgo/pot/targets/gna"
	"github.com/potgo/pot/targets/hwconfig"
)

func main() { target.Serve(config()) }

// config is the gna target's declaration.
func config() target.Config {
	log := sdk.Logger().Named("gna")
	hw := hwconfig.MustLoad("gna")
	lowering := gna.Lowering{Warn: func(msg string, nodes []string) { log.Warn(msg, "nodes", nodes) }}
	return target.Config{
		Name:           "gna",
		Version:        sdk.BuildVersion,
		Device:         "GNA",
		HardwareConfig: hw,
		// mixed maps to accuracy on GNA (the algorithm side resolves it).
		Presets: []string{"performance", "accuracy"},
		Capabilities: &potv1.TargetCapabilities{
			Accumulator:    potv1.Accumulator_ACCUMULATOR_INT32_SATURATING,
			IntegerOnly:    true,
			PrecisePreset:  "accuracy",
			PwlActivations: true,
		},
		Properties: map[string]string{
			"activations": "int16", "weights": "int16 (int8 for MatMul/Gemm/Mul with the performance preset)",
			"bias": "int32", "accumulator": "int32, saturating", "activation_functions": "piecewise linear, at most 128 segments",
			"float_model": "float32",
		},
		// The operations of the hardware config, and GNA's integer
		// layers (affine, convolution, element-wise, PWL activations).
		Check: gna.NewChecker(hw).Check,
		// The integer layers Lower emits.
		Operators: operators(),
		Numerics:  target.Numerics{Lower: lowering.Lower},
	}
}

// operators declares gna's integer kernels for the target's programs.
func operators() []target.Operator {
	var out []target.Operator
	for _, k := range gna.Kernels() {
		out = append(out, target.Operator{Domain: k.Domain, OpType: k.OpType, Since: 1, New: k.New})
	}
	return out
}
