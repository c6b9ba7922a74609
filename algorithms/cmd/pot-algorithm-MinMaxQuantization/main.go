// Command pot-algorithm-MinMaxQuantization is the MinMaxQuantization
// algorithm plugin: quantizers placed by the target's hardware config,
// ranges from weights and activation statistics.
package main

import (
	"github.com/potgo/pot/algorithms/quant"
	"github.com/potgo/pot/sdk"
)

func main() { sdk.ServeAlgorithm(quant.MinMaxAlgorithm{}) }
