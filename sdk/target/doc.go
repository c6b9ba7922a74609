// Package target is pot's target SDK: the execution engine that pot's
// own targets (cpu, gpu, vpu, gna) are built on, for a vendor to build a
// device backend on the same API.
//
// A target declares itself in a Config and gets the whole Target service
// for free: models and data sets kept by id, inference (Infer), the
// statistics algorithms ask for (min, max, quantiles, means, ... reduced
// inside the target, per tensor or per channel, over a plan or the float
// model), evaluation (Evaluate) and the quantization plans of algorithms
// run as the device would. main is one line:
//
//	func main() { target.Serve(config()) }
//
// # What a target declares
//
//   - Who it is: Name (the NAME of its binary pot-target-NAME), Version,
//     Device.
//   - What it runs: OpSet, the ONNX operators of the device. A model
//     with any other node is refused when pot loads it, with one line per
//     node naming it and its operator; Describe lists only the operators
//     of the set. Check refuses single nodes the set lets through (an
//     attribute value the device lacks). Operators adds the target's own
//     kernels: operators the runtime lacks, replacements of its own, or
//     the integer kernels a Lower hook emits.
//   - How it computes: Numerics. Rounding says how the quantizers round
//     (RoundHalfToEven as ONNX, RoundHalfAwayFromZero, RoundHalfUp,
//     RoundTowardZero, RoundDown); Policy sees every value computed and
//     may change it (Float16Numerics rounds to half as a float16 device
//     does); Lower turns a graph and a plan into the graph the device
//     executes (integer kernels, with their accumulator width and
//     saturation). Without any, the runtime computes in float32 and
//     simulates a plan with FakeQuantize nodes rounding half to even.
//   - What algorithms read: HardwareConfig (per operator the allowed
//     bits, mode and granularity, in POT's JSON layout, parsed by
//     sdk/hwconfig), Presets, and Capabilities — the accumulator
//     (ACCUMULATOR_INT32, ..._INT32_SATURATING, ..._INT16_PAIRS),
//     integer-only execution, the precise preset, symmetric activation
//     products and piecewise-linear activations — which the algorithms
//     branch on (for example the saturation fix for int16 pairs).
//
// New checks a Config and names every problem at once (an empty required
// field, an unknown preset, an operator of the op set that nothing
// implements).
//
// # Kernels
//
// An Operator's New builds the Kernel of one node when a program is
// compiled; the kernel computes output Tensors from input Tensors. The
// tensor, node and kernel types are the runtime's, re-exported here, so
// that a target imports this package (with sdk, sdk/hwconfig and
// proto/potv1) and nothing of pot's own targets.
//
// # Serving and testing
//
// Serve serves the target as a plugin (sdk.ServeTarget) with the thread
// budget pot gives it. plugintest.TestTarget(t, target.MustNew(cfg))
// runs pot's conformance suite on it in-process, TestTargetBinary on
// the built binary. docs/targets.md walks through a vendor target from
// scratch; examples/plugins/npu is one, in its own module.
package target
