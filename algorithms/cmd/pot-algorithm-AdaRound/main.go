package main

import (
	"github.com/potgo/pot/algorithms/adaround"
	"github.com/potgo/pot/sdk"
)

func main() { sdk.ServeAlgorithm(adaround.Algorithm{}) }
