package ops

import (
	"fmt"

	"github.com/potgo/pot/targets/interp/tensor"
)

func init() {
	register(DomainONNX, "Identity", 1, func(n *Node) (Kernel, error) { return KernelFunc(runIdentity), nil })
	register(DomainONNX, "Dropout", 1, dropoutFactory)
	register(DomainONNX, "Dropout", 10, dropoutFactory)
	register(DomainONNX, "Dropout", 12, dropoutFactory)
}

func runIdentity(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 1); err != nil {
		return err
	}
	out[0].CopyFrom(in[0])
	return nil
}

// dropoutFactory builds Dropout for inference: the output is the input
// and the mask is all true (all ones before opset 10, where the mask has
// the input's type). From opset 12 a true training_mode input with a
// non-zero ratio asks for random dropping, which is not supported; before
// opset 12 the is_test attribute is ignored, as inference runtimes do.
func dropoutFactory(n *Node) (Kernel, error) {
	n.Int("is_test", 0)
	n.Float("ratio", 0.5)
	n.Int("seed", 0)
	boolMask := n.Opset >= 10
	training := n.Opset >= 12
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		if err := needInputs(in, 1); err != nil {
			return err
		}
		if training && len(in) > 2 && in[2] != nil {
			on, ok := in[2].Data.([]bool)
			if !ok || len(on) != 1 {
				return fmt.Errorf("Dropout: training_mode must be a bool scalar, is %v", in[2])
			}
			ratio := 0.5
			if in[1] != nil {
				r, err := in[1].Float64s()
				if err != nil || len(r) != 1 {
					return fmt.Errorf("Dropout: ratio must be a float scalar, is %v", in[1])
				}
				ratio = r[0]
			}
			if on[0] && ratio != 0 {
				return Unsupported(n, "random dropping (training_mode true, ratio %g) is", ratio)
			}
		}
		out[0].CopyFrom(in[0])
		if len(out) > 1 && out[1] != nil {
			if boolMask {
				out[1].Reset(tensor.Bool, in[0].Shape)
				m := out[1].Data.([]bool)
				for i := range m {
					m[i] = true
				}
			} else if err := Convert(tensor.From(in[0].Shape, trueSlice(in[0].Len())), in[0].DType, out[1]); err != nil {
				return fmt.Errorf("Dropout: mask: %w", err)
			}
		}
		return nil
	}), nil
}

func trueSlice(n int) []bool {
	s := make([]bool, n)
	for i := range s {
		s[i] = true
	}
	return s
}
