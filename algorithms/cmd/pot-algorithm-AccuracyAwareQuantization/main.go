package main

import (
	"github.com/potgo/pot/algorithms/accuracyaware"
	"github.com/potgo/pot/sdk"
)

func main() { sdk.ServeAlgorithm(accuracyaware.Algorithm{}) }
