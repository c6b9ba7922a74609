// Command pot-algorithm-MSERanges is an example pot algorithm plugin,
// written against pot's SDK alone: it picks each activation's clipping
// range by minimising the quantization error (MSE) on the calibration
// data, starting from MinMaxQuantization's plan.
//
// Build it with `go build -o pot-algorithm-MSERanges .`, put the binary
// in a plugin folder (or pass the folder with --plugin-path) and run
//
//	pot quantize --algorithm MSERanges --model m.onnx --data calib.json
package main

import "github.com/potgo/pot/sdk"

func main() { sdk.ServeAlgorithm(MSERanges{}) }
