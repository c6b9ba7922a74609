// Command pot-algorithm-SmoothQuant is the SmoothQuant algorithm plugin:
// per-channel smoothing of activation outliers into the weights, then
// DefaultQuantization.
package main

import (
	"github.com/potgo/pot/algorithms/smoothquant"
	"github.com/potgo/pot/sdk"
)

func main() { sdk.ServeAlgorithm(smoothquant.Algorithm{}) }
