package interp

import (
	"strings"
	"testing"

	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// panicky panics in Run and in RunActivated.
type panicky struct{}

func (panicky) Run(*ops.Context, []*tensor.Tensor, []*tensor.Tensor) error { panic("run bug") }

func (panicky) RunActivated(*ops.Context, []*tensor.Tensor, []*tensor.Tensor, ops.Activation) (bool, error) {
	panic("fused bug")
}

// TestKernelPanicIsError: a kernel's panic comes back as an error, fused
// or not, so that it cannot take down a plugin process.
func TestKernelPanicIsError(t *testing.T) {
	st := step{kernel: panicky{}}
	if err := runKernel(st, nil, nil, nil); err == nil || !strings.Contains(err.Error(), "run bug") {
		t.Errorf("runKernel: %v", err)
	}
	if fused, err := runFused(st, nil, nil, nil, ops.Activation{Kind: ops.ActReLU}); fused || err == nil || !strings.Contains(err.Error(), "fused bug") {
		t.Errorf("runFused: %v, %v", fused, err)
	}
}
