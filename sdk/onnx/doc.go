// Package onnx converts between ONNX files (ModelProto) and pot's graph
// protocol (pot.v1.Graph).
//
// The host reads the user's model with it and writes the quantized model
// with it; a target whose device runtime takes ONNX (a vendor library,
// ONNX Runtime) converts the graph it is sent back to ONNX with it.
//
// Reading: ReadFile (or Decode for bytes, then LoadExternalData) parses a
// model and validates it. It never panics on bad input: an empty, text,
// truncated or foreign file, a tensor whose data length disagrees with its
// dims, external data outside the model's folder or past the end of its
// file, two nodes writing one tensor — each yields an error that names the
// file and says what is wrong and where. ToGraph converts the main graph,
// naming unnamed nodes (plans refer to nodes by name). CheckOpset tells
// whether pot supports the model's default opset (1 to MaxOpset).
//
// Writing: FromGraph builds a model from a graph over a base model,
// usually the one the graph was read from, so that ModelProto fields pot
// does not model (doc strings, functions, training info, fields of newer
// ONNX versions, which decode as unknown fields) survive a round trip.
// Encode serializes deterministically; WriteFile writes atomically (a
// synced temporary file renamed into place) and moves large tensors to an
// external data file (ONNX's external-data convention) when asked to or
// when the model would exceed protobuf's 2 GiB limit. ReadFile reads back
// everything WriteFile writes.
package onnx
