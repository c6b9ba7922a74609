// Package onnx converts between ONNX files (ModelProto) and pot's graph
// protocol (pot.v1.Graph).
//
// The host reads the user's model with it; a target whose device runtime
// takes ONNX (a vendor library, ONNX Runtime) converts the graph it is
// sent back to ONNX with it. Reading never panics on bad input: a broken
// file yields an error that says what is wrong and where.
//
// ModelProto fields pot does not model (doc strings, metadata, functions,
// fields of newer ONNX versions) are kept by writing the output over the
// input model (see FromGraph), so a round trip loses nothing.
package onnx
