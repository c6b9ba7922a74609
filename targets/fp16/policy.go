package fp16

import (
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/plan"
	rt "github.com/potgo/pot/targets/runtime"
	"github.com/potgo/pot/targets/runtime/tensor"
)

// Policy rounds the float32 outputs of every node but FakeQuantize to
// half. Constants are rounded by Lower, which knows which of them the
// quantizers own.
type Policy struct{}

var _ rt.Policy = Policy{}

// Constant implements runtime.Policy: constants are left as Lower made
// them.
func (Policy) Constant(string, *tensor.Tensor) {}

// Output implements runtime.Policy.
func (Policy) Output(n *potv1.Node, out []*tensor.Tensor) {
	if IsFakeQuantize(n) {
		return
	}
	for _, t := range out {
		if t == nil {
			continue
		}
		if v, ok := t.Data.([]float32); ok {
			RoundSlice(v)
		}
	}
}

// IsFakeQuantize reports whether n is pot's FakeQuantize simulation node.
func IsFakeQuantize(n *potv1.Node) bool {
	return n.GetOpType() == plan.FakeQuantizeOp && n.GetDomain() == plan.FakeQuantizeDomain
}
