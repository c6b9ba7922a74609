package main

import (
	"github.com/potgo/pot/algorithms/alignment"
	"github.com/potgo/pot/sdk"
)

func main() { sdk.ServeAlgorithm(alignment.Algorithm) }
