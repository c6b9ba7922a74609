// Package interp is pot's ONNX graph interpreter: it executes pot.v1
// graphs on the CPU. It compiles a graph into a schedule of kernels
// (package ops), folds constant subgraphs,
// plans buffers from value lifetimes so that repeated runs at one batch
// size do not allocate, and lets callers observe intermediate tensors
// (for statistics) without keeping them. A convolution followed by
// Relu, hard-swish or a residual Add runs as one step when the session
// does not observe the values in between. So does a run of element-wise
// float32 steps computed from one value (ops.Chain: scalar affines,
// Clip, unary activations, products of their results, as exporters
// spell hard-swish and learnable scales), one block of elements at a
// time through all of them, with the bits the steps would give.
//
// A program whose operators keep the samples of a batch apart (CNNs,
// float or lowered to integer operators) runs a batch in chunks of a few
// samples, each thread taking the next chunk through the whole program,
// when the session observes nothing but the outputs, or observes values
// per sample (Session.ObserveSamples, how a target gathers statistics:
// each chunk hands over its rows as it computes them): the threads do
// not meet between layers, a chunk's activations stay in cache from
// layer to layer, and the outputs are the bits of a layer-by-layer run.
//
// Sessions keep their buffers: Program.AcquireSession hands back one
// that an earlier caller released (Session.Release), so that a server
// running request after request allocates a batch's buffers once.
//
// Control flow (If, Loop, Scan) runs subgraphs compiled once, with the
// node, into programs of their own under the same options (threads,
// numeric policy, folding): their nodes read the values of enclosing
// graphs by name, and the values they compute are observable like any
// other — Program.Has knows them, and a session watching one reports it
// each time its subgraph computes it (once per run for the If branch
// that runs, once per iteration for a loop body). Sequences and
// optionals are not supported.
//
// Every target plugin (cpu, gpu, vpu, gna) runs on this package; a target
// is a numeric policy over it.
package interp
