package ops

import (
	"github.com/potgo/pot/targets/runtime/kernels"
	"github.com/potgo/pot/targets/runtime/tensor"
)

// ActivationKind names an elementwise function a kernel can apply to
// its output as it writes it.
type ActivationKind int

const (
	// ActReLU is Relu.
	ActReLU ActivationKind = iota + 1
	// ActHardSwish is x·HardSigmoid(x), HardSigmoid then Mul.
	ActHardSwish
)

// Activation is a fused activation: Relu, or hard-swish with the
// HardSigmoid's Alpha and Beta.
type Activation struct {
	Kind        ActivationKind
	Alpha, Beta float32
}

// apply computes the activation of y in place, as the unfused Relu, or
// HardSigmoid and Mul, would.
func (a Activation) apply(y []float32) {
	switch a.Kind {
	case ActReLU:
		kernels.ReLU(y, y)
	case ActHardSwish:
		kernels.HardSwishF32(y, y, a.Alpha, a.Beta)
	}
}

// ActivationFuser is a kernel that can apply an activation to its own
// output, image by image while the output is in cache, instead of a
// separate pass over the whole tensor.
type ActivationFuser interface {
	Kernel
	// RunActivated is Run followed by the activation. It reports false,
	// having done nothing, when it cannot fuse for these inputs.
	RunActivated(ctx *Context, in, out []*tensor.Tensor, act Activation) (bool, error)
}
