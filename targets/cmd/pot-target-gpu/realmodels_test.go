package main

import (
	"testing"

	"github.com/potgo/pot/targets/engine"
	"github.com/potgo/pot/targets/fp16"
	"github.com/potgo/pot/targets/internal/realmodels"
)

// The gpu target runs openWakeWord's models, whose networks sit in If
// branches.
func TestRealModels(t *testing.T) {
	worst := realmodels.TestTarget(t, engine.New(config(fp16.Lowering{})), 0.02) // float16: probabilities within 0.02 of float32
	t.Logf("hey_jarvis: max abs difference from ONNX Runtime %.3g", worst)
}
