// Command pot-algorithm-FastBiasCorrection is the FastBiasCorrection
// algorithm plugin.
package main

import (
	"github.com/potgo/pot/algorithms/biascorr"
	"github.com/potgo/pot/sdk"
)

func main() { sdk.ServeAlgorithm(biascorr.FastAlgorithm{}) }
