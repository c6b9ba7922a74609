package ops

import (
	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

// ActivationKind names an elementwise function a kernel can apply to
// its output as it writes it.
type ActivationKind int

const (
	// ActReLU is Relu.
	ActReLU ActivationKind = iota + 1
	// ActHardSwish is x·HardSigmoid(x), HardSigmoid then Mul.
	ActHardSwish
	// ActAdd adds a tensor of the output's shape (a residual Add).
	ActAdd
	// ActAddReLU is ActAdd then Relu.
	ActAddReLU
)

// Activation is a fused activation: Relu; hard-swish with the
// HardSigmoid's Alpha and Beta; or the Add of tensor Add, then
// optionally Relu.
type Activation struct {
	Kind        ActivationKind
	Alpha, Beta float32
	Add         *tensor.Tensor
}

// apply computes the activation of y in place, as the unfused Relu,
// HardSigmoid and Mul, or Add would; add is the part of Add at y.
func (a Activation) apply(y, add []float32) {
	switch a.Kind {
	case ActReLU:
		kernels.ReLU(y, y)
	case ActHardSwish:
		kernels.HardSwishF32(y, y, a.Alpha, a.Beta)
	case ActAdd:
		kernels.AddF32(y, y, add)
	case ActAddReLU:
		kernels.AddF32(y, y, add)
		kernels.ReLU(y, y)
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
