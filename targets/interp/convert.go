package interp

import (
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/tensor"
)

// The conversions between wire tensors and the interpreter's tensors
// live in package tensor, so that the operators that carry tensors in
// attributes (Constant) decode them directly; these are the names the
// targets and the SDK call.

// FromProto decodes a wire tensor, as tensor.FromProto.
func FromProto(p *potv1.Tensor) (*tensor.Tensor, error) { return tensor.FromProto(p) }

// FromProtoShared decodes a wire tensor sharing its bytes where the
// layout allows, as tensor.FromProtoShared.
func FromProtoShared(p *potv1.Tensor) (*tensor.Tensor, error) { return tensor.FromProtoShared(p) }

// ToProto encodes a tensor for the wire, as tensor.ToProto.
func ToProto(name string, t *tensor.Tensor) *potv1.Tensor { return tensor.ToProto(name, t) }

// ToProtoShared encodes a tensor for the wire sharing its bytes where
// the layout allows, as tensor.ToProtoShared.
func ToProtoShared(name string, t *tensor.Tensor) *potv1.Tensor { return tensor.ToProtoShared(name, t) }
