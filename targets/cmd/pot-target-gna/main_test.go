package main

import (
	"testing"

	"github.com/potgo/pot/sdk/plugintest"
	"github.com/potgo/pot/sdk/target"
)

// The gna target passes pot's target conformance suite in-process.
func TestConformance(t *testing.T) {
	plugintest.TestTarget(t, target.MustNew(config()), plugintest.WithName("gna"))
}
