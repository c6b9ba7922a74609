package ops

import (
	"fmt"

	"github.com/potgo/pot/targets/interp/tensor"
)

func init() {
	for _, v := range []struct {
		op    string
		table *binTable
		mean  bool
	}{
		{"Sum", arithTable(opAdd), false},
		{"Mean", arithTable(opAdd), true},
		{"Min", arithTable(opMin), false},
		{"Max", arithTable(opMax), false},
	} {
		k := &variadicKernel{op: v.op, table: v.table, mean: v.mean}
		f := func(n *Node) (Kernel, error) { return k, nil }
		register(DomainONNX, v.op, 1, f)
		register(DomainONNX, v.op, 8, f)
	}
}

// variadicKernel folds a binary operator over any number of inputs,
// broadcast together (Sum, Mean, Min, Max).
type variadicKernel struct {
	op    string
	table *binTable
	mean  bool
}

// Run implements Kernel.
func (k *variadicKernel) Run(ctx *Context, in, out []*tensor.Tensor) error {
	if len(in) == 0 {
		return fmt.Errorf("%s: no inputs", k.op)
	}
	shapes := make([][]int, len(in))
	for i, t := range in {
		if t == nil {
			return fmt.Errorf("%s: input %d is missing", k.op, i)
		}
		if t.DType != in[0].DType {
			return fmt.Errorf("%s: input %d has type %v, input 0 %v", k.op, i, t.DType, in[0].DType)
		}
		shapes[i] = t.Shape
	}
	shape, err := Broadcast(shapes...)
	if err != nil {
		return fmt.Errorf("%s: %w", k.op, err)
	}
	if dt := in[0].DType; isHalf(dt) {
		var s halfScratch
		defer s.free()
		f32 := make([]*tensor.Tensor, len(in))
		for i, t := range in {
			v, _ := s.values(t)
			f32[i] = tensor.From(t.Shape, v)
		}
		tmp := s.result(tensor.NumElements(shape))
		if err := k.Run(ctx, f32, []*tensor.Tensor{tmp}); err != nil {
			return err
		}
		storeHalf(out[0], dt, tmp.Shape, tmp.F32())
		return nil
	}
	o := out[0]
	if err := expandTo(ctx, in[0], shape, o); err != nil {
		return fmt.Errorf("%s: %w", k.op, err)
	}
	for _, t := range in[1:] {
		var cache planCache
		if err := k.table.run(ctx, &cache, k.op, o, t, o); err != nil {
			return err
		}
	}
	if !k.mean || len(in) == 1 {
		return nil
	}
	switch d := o.Data.(type) {
	case []float32:
		s := float32(len(in))
		for i := range d {
			d[i] /= s
		}
	case []float64:
		s := float64(len(in))
		for i := range d {
			d[i] /= s
		}
	default:
		return errType(k.op, o.DType)
	}
	return nil
}
