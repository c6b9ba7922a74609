package main

import (
	"github.com/potgo/pot/algorithms/quant"
	"github.com/potgo/pot/sdk"
)

func main() { sdk.ServeAlgorithm(quant.MinMaxAlgorithm) }
