package main

import (
	"github.com/potgo/pot/algorithms/biascorr"
	"github.com/potgo/pot/sdk"
)

func main() { sdk.ServeAlgorithm(biascorr.FullAlgorithm) }
