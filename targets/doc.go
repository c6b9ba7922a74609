// Package targets holds pot's built-in target plugins, one main package
// each under cmd/ (pot-target-cpu, -gpu, -vpu, -gna), over one shared
// interpreter (interp/: graph executor, operators and kernels) and the numerics of
// each device (cpu/, fp16/, vpu/, gna/, with their hardware configs in
// hwconfig/).
//
// Each main declares its target through the target SDK, sdk/target, as
// a vendor's target does: the SDK serves it, and nothing of a target
// imports pot's host or its plugin transport (see deps_test.go).
package targets
