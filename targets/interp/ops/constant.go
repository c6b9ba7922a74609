package ops

import (
	"fmt"
	"math"

	"github.com/potgo/pot/targets/interp/tensor"
)

// Constant, ConstantOfShape and Range.

func init() {
	register(DomainONNX, "Constant", 1, newConstant)
	register(DomainONNX, "Constant", 9, newConstant)
	register(DomainONNX, "Constant", 11, newConstant)
	register(DomainONNX, "Constant", 12, newConstant)
	register(DomainONNX, "ConstantOfShape", 9, newConstantOfShape)
	register(DomainONNX, "Range", 11, newRange)
}

func decodeAttrTensor(n *Node, name string) (*tensor.Tensor, error) {
	t, err := tensor.FromProto(n.Attr(name).GetT())
	if err != nil {
		return nil, fmt.Errorf("attribute %s: %w", name, err)
	}
	return t, nil
}

func newConstant(n *Node) (Kernel, error) {
	var (
		value *tensor.Tensor
		set   []string
	)
	for _, name := range []string{"value", "value_float", "value_floats", "value_int", "value_ints", "value_string", "value_strings", "sparse_value"} {
		if n.Has(name) {
			set = append(set, name)
		}
	}
	if len(set) != 1 {
		return nil, fmt.Errorf("want exactly one value attribute, have %v", set)
	}
	switch set[0] {
	case "value":
		t, err := decodeAttrTensor(n, "value")
		if err != nil {
			return nil, err
		}
		value = t
	case "value_float":
		value = tensor.Scalar(n.Float("value_float", 0))
	case "value_floats":
		v := append([]float32(nil), n.Floats("value_floats", nil)...)
		value = tensor.From([]int{len(v)}, v)
	case "value_int":
		value = tensor.Scalar(n.Int("value_int", 0))
	case "value_ints":
		v := append([]int64(nil), n.Ints("value_ints", nil)...)
		value = tensor.From([]int{len(v)}, v)
	case "value_string":
		value = tensor.Scalar(n.String("value_string", ""))
	case "value_strings":
		v := n.Strings("value_strings", nil)
		value = tensor.From([]int{len(v)}, v)
	default:
		return nil, Unsupported(n, "attribute %s is", set[0])
	}
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		out[0].CopyFrom(value)
		return nil
	}), nil
}

func newConstantOfShape(n *Node) (Kernel, error) {
	value := tensor.Scalar(float32(0))
	if n.Has("value") {
		t, err := decodeAttrTensor(n, "value")
		if err != nil {
			return nil, err
		}
		if t.Len() != 1 {
			return nil, fmt.Errorf("value %v must hold one element", t)
		}
		value = t
	}
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		s, err := inputInts(in[0], "shape")
		if err != nil {
			return err
		}
		for _, d := range s {
			if d < 0 {
				return fmt.Errorf("shape %v has a negative dimension", s)
			}
		}
		out[0].Reset(value.DType, toInts(s))
		fillTensor(out[0], value, 0)
		return nil
	}), nil
}

func newRange(n *Node) (Kernel, error) {
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		for i, t := range in[:3] {
			if t.Len() != 1 || t.DType != in[0].DType {
				return fmt.Errorf("input %d is %v, want a scalar like input 0 (%v)", i, t, in[0])
			}
		}
		switch s := in[0].Data.(type) {
		case []float32:
			return rangeFloat(out[0], s[0], in[1].Data.([]float32)[0], in[2].Data.([]float32)[0])
		case []float64:
			return rangeFloat(out[0], s[0], in[1].Data.([]float64)[0], in[2].Data.([]float64)[0])
		case []int16:
			return rangeInt(out[0], s[0], in[1].Data.([]int16)[0], in[2].Data.([]int16)[0])
		case []int32:
			return rangeInt(out[0], s[0], in[1].Data.([]int32)[0], in[2].Data.([]int32)[0])
		case []int64:
			return rangeInt(out[0], s[0], in[1].Data.([]int64)[0], in[2].Data.([]int64)[0])
		}
		return &UnsupportedError{Node: n.Name(), OpType: n.OpType(), Reason: fmt.Sprintf("element type %v is", in[0].DType)}
	}), nil
}

// maxRangeLen bounds Range's output so that a bad delta is an error, not
// an out-of-memory crash.
const maxRangeLen = 1 << 31

func rangeFloat[T float32 | float64](dst *tensor.Tensor, start, limit, delta T) error {
	if delta == 0 {
		return fmt.Errorf("delta is 0")
	}
	c := math.Ceil((float64(limit) - float64(start)) / float64(delta))
	if math.IsNaN(c) || c > maxRangeLen {
		return fmt.Errorf("range(%v, %v, %v) is too long", start, limit, delta)
	}
	count := max(int(c), 0)
	dst.Reset(tensor.DTypeOf[T](), []int{count})
	d := dst.Data.([]T)
	for i := range d {
		d[i] = start + T(i)*delta
	}
	return nil
}

func rangeInt[T int16 | int32 | int64](dst *tensor.Tensor, start, limit, delta T) error {
	if delta == 0 {
		return fmt.Errorf("delta is 0")
	}
	span, step := int64(limit)-int64(start), int64(delta)
	count := int64(0)
	if (span > 0) == (step > 0) && span != 0 {
		if step > 0 {
			count = (span + step - 1) / step
		} else {
			count = (span + step + 1) / step
		}
	}
	if count > maxRangeLen {
		return fmt.Errorf("range(%v, %v, %v) is too long", start, limit, delta)
	}
	dst.Reset(tensor.DTypeOf[T](), []int{int(count)})
	d := dst.Data.([]T)
	for i := range d {
		d[i] = start + T(i)*delta
	}
	return nil
}
