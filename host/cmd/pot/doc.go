// Command pot quantizes ONNX models: see `pot --help`.
package main
