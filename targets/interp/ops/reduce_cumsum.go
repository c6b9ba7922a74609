package ops

import (
	"fmt"

	"github.com/potgo/pot/targets/interp/tensor"
)

func init() {
	register(DomainONNX, "CumSum", 11, func(n *Node) (Kernel, error) {
		exclusive := n.Int("exclusive", 0) != 0
		reverse := n.Int("reverse", 0) != 0
		return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
			if err := needInputs(in, 2); err != nil {
				return err
			}
			axis, err := in[1].Int64s()
			if err != nil || len(axis) != 1 {
				return fmt.Errorf("CumSum: axis must be one integer, is %v", in[1])
			}
			x := in[0]
			g, _, err := geomAt(x.Shape, axis[0])
			if err != nil {
				return fmt.Errorf("CumSum: %w", err)
			}
			o := out[0]
			switch d := x.Data.(type) {
			case []float32:
				o.Reset(x.DType, x.Shape)
				cumSum[float32, float64](o.F32(), d, g, exclusive, reverse)
			case []float64:
				o.Reset(x.DType, x.Shape)
				cumSum[float64, float64](o.Data.([]float64), d, g, exclusive, reverse)
			case []int32:
				o.Reset(x.DType, x.Shape)
				cumSum[int32, int64](o.Data.([]int32), d, g, exclusive, reverse)
			case []int64:
				o.Reset(x.DType, x.Shape)
				cumSum[int64, int64](o.Data.([]int64), d, g, exclusive, reverse)
			case []uint32:
				o.Reset(x.DType, x.Shape)
				cumSum[uint32, uint64](o.Data.([]uint32), d, g, exclusive, reverse)
			case []uint64:
				o.Reset(x.DType, x.Shape)
				cumSum[uint64, uint64](o.Data.([]uint64), d, g, exclusive, reverse)
			case []tensor.Float16Bits, []tensor.BFloat16Bits:
				v, _ := halfToF32(x)
				cumSum[float32, float64](v, v, g, exclusive, reverse)
				storeHalf(o, x.DType, x.Shape, v)
			default:
				return errType("CumSum", x.DType)
			}
			return nil
		}), nil
	})
}

// cumSum writes the running sums of src along the middle axis of g,
// accumulating in A; exclusive leaves out each element itself and reverse
// sums from the end. dst may be src.
func cumSum[T tensor.Number, A int64 | uint64 | float64](dst, src []T, g axisGeom, exclusive, reverse bool) {
	for o := 0; o < g.outer; o++ {
		for i := 0; i < g.inner; i++ {
			base := o*g.n*g.inner + i
			var acc A
			for j := 0; j < g.n; j++ {
				c := j
				if reverse {
					c = g.n - 1 - j
				}
				p := base + c*g.inner
				v := A(src[p])
				if exclusive {
					dst[p] = T(acc)
					acc += v
				} else {
					acc += v
					dst[p] = T(acc)
				}
			}
		}
	}
}
