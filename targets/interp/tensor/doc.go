// Package tensor holds the dense tensors the runtime computes on: an ONNX
// element type, a shape and a typed Go slice, with buffer reuse so that a
// steady-state inference loop does not allocate.
package tensor
