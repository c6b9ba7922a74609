// Package ops implements the runtime's operators: one Kernel per ONNX
// operator (and pot's own FakeQuantize), chosen by the model's opset.
//
// Each operator registers a Factory for every opset version where its
// semantics changed. A Factory validates the node's attributes once, at
// compile time, and returns a Kernel that computes outputs from inputs.
// An attribute value or input type the operator does not implement yields
// an *UnsupportedError, which callers report as "not supported" rather than
// as a wrong result.
package ops
