// Command pot-target-cpu is pot's CPU target plugin: float32 execution
// of float models, and integer execution of quantized ones (plans and QDQ
// graphs): uint8/int8 activations × int8 weights in the arithmetic of an
// instruction set, chosen with the target option isa (pot --isa vnni|avx2;
// default: the host CPU's), with the CPU hardware config of POT.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/target"
	"github.com/potgo/pot/targets/cpu"
	"github.com/potgo/pot/targets/hwconfig"
)

func main() {
	opts, err := sdk.TargetOptions()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pot-target-cpu:", err)
		os.Exit(1)
	}
	isa, err := cpu.ParseISA(opts[cpu.OptionISA])
	if err != nil {
		fmt.Fprintln(os.Stderr, "pot-target-cpu:", err)
		os.Exit(1)
	}
	target.Serve(config(isa))
}

// config is the cpu target's declaration, for an instruction set.
func config(isa string) target.Config {
	lowering := cpu.Lowering{ISA: isa}
	return target.Config{
		Name:           "cpu",
		Version:        sdk.BuildVersion,
		Device:         "CPU",
		HardwareConfig: hwconfig.MustLoad("cpu"),
		Presets:        []string{"performance", "mixed"},
		// POT's CPU: a model for it may run on AVX2 machines, whose
		// VPMADDUBSW saturates pairs of products in int16 (the
		// saturation fix applies whatever isa this process emulates).
		Capabilities: &potv1.TargetCapabilities{
			Accumulator:                 potv1.Accumulator_ACCUMULATOR_INT16_PAIRS,
			SymmetricActivationProducts: true,
		},
		// Integer kernels for quantized Conv, Gemm and MatMul.
		Numerics: target.Numerics{Lower: lowering.Lower, LowerKeeping: lowering.LowerKeeping},
		Properties: map[string]string{
			"isa":         isa,
			"isa_default": cpu.DefaultISA(),
			"isa_choices": strings.Join([]string{cpu.ISAVNNI, cpu.ISAAVX2}, ","),
			"int8":        "Conv (group 1, depthwise), Gemm, MatMul with quantized input and weights: u8/s8 x s8 -> s32, fixed-point requantization",
			"kernels":     cpu.KernelISA(isa),
		},
	}
}
