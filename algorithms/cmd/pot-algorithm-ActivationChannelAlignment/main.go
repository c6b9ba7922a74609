// Command pot-algorithm-ActivationChannelAlignment is the
// ActivationChannelAlignment algorithm plugin.
package main

import (
	"github.com/potgo/pot/algorithms/alignment"
	"github.com/potgo/pot/sdk"
)

func main() { sdk.ServeAlgorithm(alignment.Algorithm{}) }
