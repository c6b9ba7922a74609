package main

import (
	"testing"

	"github.com/potgo/pot/sdk/plugintest"
	"github.com/potgo/pot/sdk/target"
	"github.com/potgo/pot/targets/fp16"
)

// The vpu target passes pot's target conformance suite in-process.
func TestConformance(t *testing.T) {
	plugintest.TestTarget(t, target.MustNew(config(fp16.Lowering{})), plugintest.WithName("vpu"))
}
