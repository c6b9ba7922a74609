package main

import (
	"testing"

	"github.com/potgo/pot/internal/realmodels"
	"github.com/potgo/pot/sdk/target"
)

// The gpu target runs openWakeWord's models, whose networks sit in If
// branches.
func TestRealModels(t *testing.T) {
	worst := realmodels.TestTarget(t, target.MustNew(config(nil)), 0.02) // float16: probabilities within 0.02 of float32
	t.Logf("hey_jarvis: max abs difference from ONNX Runtime %.3g", worst)
}
