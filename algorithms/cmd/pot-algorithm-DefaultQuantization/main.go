// Command pot-algorithm-DefaultQuantization is the DefaultQuantization
// algorithm plugin. It composes the other plugins through the host, in
// POT's order.
package main

import (
	"github.com/potgo/pot/algorithms/quant"
	"github.com/potgo/pot/sdk"
)

func main() { sdk.ServeAlgorithm(quant.DefaultAlgorithm{}) }
