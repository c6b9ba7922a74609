// Package onnxpb is the generated Go code of ONNX's ModelProto family
// (proto/onnx/onnx.proto), which sdk/onnx reads and writes. Regenerate
// with `make proto`.
package onnxpb
