package gna

import (
	"fmt"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// runOp builds one ai.pot node with constant inputs consts (nil entries
// are runtime inputs, taken from in in order) and runs it.
func runOp(t *testing.T, op string, attrs []*potv1.Attribute, consts []*tensor.Tensor, in ...*tensor.Tensor) *tensor.Tensor {
	t.Helper()
	out, err := tryOp(op, attrs, consts, in...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func tryOp(op string, attrs []*potv1.Attribute, consts []*tensor.Tensor, in ...*tensor.Tensor) (*tensor.Tensor, error) {
	f, ok := Registry().Lookup(ops.DomainPot, op, 1)
	if !ok {
		return nil, fmt.Errorf("%s is not registered", op)
	}
	node := &potv1.Node{Name: "n", OpType: op, Domain: ops.DomainPot, Outputs: []string{"y"}, Attributes: attrs}
	inputs := make([]*tensor.Tensor, len(consts))
	next := 0
	for i, c := range consts {
		node.Inputs = append(node.Inputs, fmt.Sprintf("in%d", i))
		inputs[i] = c
		if c == nil {
			inputs[i] = in[next]
			next++
		}
	}
	k, err := f(ops.NewNode(node, 1, consts))
	if err != nil {
		return nil, err
	}
	out := &tensor.Tensor{}
	if err := k.Run(ops.NewContext(2), inputs, []*tensor.Tensor{out}); err != nil {
		return nil, err
	}
	return out, nil
}

func grid(prefix string, lo, hi int64, scale ...float32) []*potv1.Attribute {
	return []*potv1.Attribute{
		{Name: prefix + "_scale", Type: potv1.Attribute_TYPE_FLOATS, Floats: scale},
		{Name: prefix + "_lo", Type: potv1.Attribute_TYPE_INT, I: lo},
		{Name: prefix + "_hi", Type: potv1.Attribute_TYPE_INT, I: hi},
	}
}

func attrs(groups ...[]*potv1.Attribute) []*potv1.Attribute {
	var out []*potv1.Attribute
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func f32(shape []int, v ...float32) *tensor.Tensor { return tensor.From(shape, v) }
