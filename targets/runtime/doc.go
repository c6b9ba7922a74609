// Package runtime executes pot.v1 graphs on the CPU: it compiles a graph
// into a schedule of kernels (package ops), folds constant subgraphs,
// plans buffers from value lifetimes so that repeated runs at one batch
// size do not allocate, and lets callers observe intermediate tensors
// (for statistics) without keeping them. A convolution followed by
// Relu, hard-swish or a residual Add runs as one step when the session
// does not observe the values in between.
//
// Every target plugin (cpu, gpu, vpu, gna) runs on this package; a target
// is a numeric policy over it.
package runtime
