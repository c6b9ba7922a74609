package gna

import (
	"fmt"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// Checker refuses the operators GNA does not execute: those its hardware
// config does not list (quantizable or quantization-agnostic). Constant
// nodes are data, not operations, and pass.
type Checker struct {
	ops map[string]bool
}

// NewChecker builds the check of a hardware config's operation list.
func NewChecker(hw *potv1.HardwareConfig) *Checker {
	c := &Checker{ops: map[string]bool{"Constant": true}}
	for _, o := range hw.GetOperations() {
		c.ops[o.GetType()] = true
	}
	return c
}

// Check returns an error for a node GNA cannot run.
func (c *Checker) Check(n *potv1.Node) error {
	if !graph.IsONNX(n) {
		return fmt.Errorf("operator %s of domain %q is not a GNA operation", n.GetOpType(), n.GetDomain())
	}
	if !c.ops[n.GetOpType()] {
		return fmt.Errorf("operator %s is not in GNA's operation list", n.GetOpType())
	}
	return nil
}
