// Package openvino reads and writes OpenVINO's Intermediate
// Representation (IR v10 and v11): a model.xml that describes layers and
// the edges between their ports, and a model.bin beside it that holds the
// constants.
//
// ir.go holds the document model (Net, Layer, Port, Edge) and its XML
// encoding, as OpenVINO's IR documentation describes it
// (docs/articles_en/documentation/openvino-ir-format); the reader maps a
// Net and its weights to pot's graph and the writer maps a graph, and
// optionally a quantization plan, to a Net with FakeQuantize layers.
package openvino
