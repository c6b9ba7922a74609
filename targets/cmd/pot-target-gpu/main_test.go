package main

import (
	"testing"

	"github.com/potgo/pot/sdk/plugintest"
	"github.com/potgo/pot/targets/engine"
	"github.com/potgo/pot/targets/fp16"
)

// The gpu target passes pot's target conformance suite in-process.
func TestConformance(t *testing.T) {
	plugintest.TestTarget(t, engine.New(config(fp16.Lowering{})), plugintest.WithName("gpu"))
}
