package fp16

import (
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/plan"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// Policy rounds the float32 outputs of every node to half but those of
// the quantizers (FakeQuantize, and DequantizeLinear of QDQ models) —
// integers times a scale, exact on the device's integer path — and those
// of the nodes Lower marked with KeepAttr, which the device computes and
// stores in float32. Constants are rounded by Lower, which knows which
// of them the quantizers own and which the kept nodes read.
type Policy struct{}

var _ rt.ElementwisePolicy = Policy{}

// Elementwise implements runtime.ElementwisePolicy: rounding to half
// treats each value on its own, so programs under the policy may run a
// batch as slices of samples, each rounded by the thread that computed
// it.
func (Policy) Elementwise() bool { return true }

// Constant implements runtime.Policy: constants are left as Lower made
// them.
func (Policy) Constant(string, *tensor.Tensor) {}

// Output implements runtime.Policy.
func (Policy) Output(n *potv1.Node, out []*tensor.Tensor) {
	if IsQuantizer(n) || KeepsFloat32(n) {
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

// IsQuantizer reports whether n is pot's FakeQuantize simulation node or
// an ONNX QuantizeLinear or DequantizeLinear (default or com.microsoft
// domain, as QDQ models use them).
func IsQuantizer(n *potv1.Node) bool {
	switch n.GetDomain() {
	case plan.FakeQuantizeDomain:
		return n.GetOpType() == plan.FakeQuantizeOp
	case "", "ai.onnx", "com.microsoft":
		return n.GetOpType() == "QuantizeLinear" || n.GetOpType() == "DequantizeLinear"
	}
	return false
}
