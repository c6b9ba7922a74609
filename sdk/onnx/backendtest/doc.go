// Package backendtest runs ONNX's backend test suite (the node/,
// simple/, pytorch-converted/ and pytorch-operator/ folders that
// Debian's libonnx-testdata installs) against any backend: pot's runtime
// in-process, or a target plugin through the graph protocol.
//
// Each test folder holds model.onnx and test_data_set_N/ folders of
// input_K.pb and output_K.pb TensorProto files. A test passes when every
// output matches within rtol + atol (ONNX's runner uses rtol 1e-3,
// atol 1e-7); it is skipped only when the backend reports an unsupported
// operator or attribute, and fails otherwise.
package backendtest
