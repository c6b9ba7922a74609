// Package opset brings a graph's default ONNX operator set ("" or
// "ai.onnx") forward to a newer version, as ONNX's version converter
// (onnx.version_converter) does, so that a model a converter exported at
// an old opset can be quantized like one exported at opset 13.
//
// Upgrade walks every node, including the nodes of subgraph attributes
// (If, Loop and Scan bodies), and applies, for each version of the node's
// operator between the model's opset and the target, the adapter of that
// version: attributes that became inputs (Slice, Pad, Clip, Split,
// Squeeze, Unsqueeze, ReduceSum, TopK, Dropout, Reshape, Upsample), the
// legacy broadcast attributes of opsets 1 to 6, operators that were
// replaced (Upsample by Resize, Scatter by ScatterElements), changed
// semantics (Softmax, LogSoftmax and Hardmax at 13, Resize's coordinate
// modes at 11, BatchNormalization's spatial attribute at 9, Dropout's
// mask type at 10, PRelu's channel slopes at 7) and removed attributes
// (consumed_inputs, is_test, broadcast, output_sequence). An operator
// whose newer versions only add types gets only the version bump.
//
// A node the package cannot bring forward — an operator that is not in the
// model's opset, an experimental operator it has no rewrite for, Scan-8 —
// is refused before any rewriting, with an error that names the node, its
// operator and both opsets. The input graph is never modified: Upgrade
// returns an upgraded copy.
package opset
