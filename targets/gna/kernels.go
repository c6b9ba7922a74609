package gna

import "github.com/potgo/pot/targets/interp/ops"

// Kernel is one of GNA's integer operators, the nodes Lowering.Lower
// emits in pot's domain: a program that runs a lowered graph needs them
// (the target declares them as its Config.Operators; a program compiled
// directly takes Registry as its Options.Kernels). Nothing registers them
// process-wide.
type Kernel struct {
	// Domain is pot's operator domain.
	Domain string
	// OpType is the operator's type, such as "GnaAffine".
	OpType string
	// New builds the kernel of one node.
	New func(n *ops.Node) (ops.Kernel, error)
}

// Kernels returns GNA's integer operators, each at version 1 of pot's
// domain.
func Kernels() []Kernel {
	return []Kernel{
		{ops.DomainPot, "GnaAffine", newAffine},
		{ops.DomainPot, "GnaConv", newConv},
		{ops.DomainPot, "GnaEltwise", newEltwise},
		{ops.DomainPot, "GnaActivation", newActivation},
		{ops.DomainPot, "GnaQuantize", newWideQuantize},
		{ops.DomainPot, "GnaRound", newGridRound},
	}
}

// Registry returns a registry of Kernels, for interp.Options.Kernels.
func Registry() *ops.Registry {
	r := ops.NewRegistry()
	for _, k := range Kernels() {
		if err := r.Register(k.Domain, k.OpType, 1, k.New); err != nil {
			panic(err) // the table above is fixed
		}
	}
	return r
}
