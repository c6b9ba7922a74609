// Package engine implements the Target service over the shared runtime:
// it keeps models and data sets sent by the host, applies quantization
// plans (as FakeQuantize simulation, or a target's own lowering), runs
// inference, reduces statistics as a stream and evaluates data sets.
//
// Each built-in target (cpu, gpu, vpu, gna) is an Engine configured with
// its device name, hardware config and numeric policy.
package target
