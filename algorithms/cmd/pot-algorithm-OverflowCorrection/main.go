// Command pot-algorithm-OverflowCorrection is the OverflowCorrection
// algorithm plugin: on GNA, 16-bit weights are rescaled where a layer's
// largest output would overflow the int32 accumulator.
package main

import (
	"github.com/potgo/pot/algorithms/overflow"
	"github.com/potgo/pot/sdk"
)

func main() { sdk.ServeAlgorithm(overflow.Algorithm) }
