package ops

import (
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/tensor"
)

func TestConstantAttributes(t *testing.T) {
	cases := []struct {
		attr  *potv1.Attribute
		dt    tensor.DType
		shape []int
		want  any
	}{
		{aFloat("value_float", 1.5), tensor.Float, []int{}, floats(1.5)},
		{aFloats("value_floats", 1, 2), tensor.Float, []int{2}, floats(1, 2)},
		{aInt("value_int", -3), tensor.Int64, []int{}, floats(-3)},
		{aInts("value_ints", 4, 5, 6), tensor.Int64, []int{3}, floats(4, 5, 6)},
		{aString("value_string", "pot"), tensor.String, []int{}, []string{"pot"}},
		{&potv1.Attribute{Name: "value_strings", Type: potv1.Attribute_TYPE_STRINGS, Strings: [][]byte{[]byte("a"), []byte("b")}}, tensor.String, []int{2}, []string{"a", "b"}},
	}
	for _, c := range cases {
		out := onnxOp("Constant", 13, c.attr).mustRun(t)
		if out[0].DType != c.dt {
			t.Fatalf("%s: type %v, want %v", c.attr.GetName(), out[0].DType, c.dt)
		}
		checkTensor(t, c.attr.GetName(), out[0], c.shape, c.want)
	}
	if _, err := onnxOp("Constant", 13, aInt("value_int", 1), aFloat("value_float", 1)).run(); err == nil {
		t.Error("two value attributes: no error")
	}
}

func TestConstantOfShapeAndRange(t *testing.T) {
	out := onnxOp("ConstantOfShape", 9).mustRun(t, i64s([]int{2}, 2, 1))
	checkTensor(t, "ConstantOfShape default", out[0], []int{2, 1}, floats(0, 0))
	if out[0].DType != tensor.Float {
		t.Errorf("ConstantOfShape default type %v, want float32", out[0].DType)
	}
	cases := []struct {
		name             string
		start, lim, step *tensor.Tensor
		want             []float64
	}{
		{"int32 negative delta", tensor.Scalar(int32(10)), tensor.Scalar(int32(4)), tensor.Scalar(int32(-3)), floats(10, 7)},
		{"int64 empty", tensor.Scalar(int64(1)), tensor.Scalar(int64(1)), tensor.Scalar(int64(2)), floats()},
		{"float partial step", tensor.Scalar(float32(1)), tensor.Scalar(float32(2)), tensor.Scalar(float32(0.25)), floats(1, 1.25, 1.5, 1.75)},
		{"int16 wrong direction", tensor.Scalar(int16(0)), tensor.Scalar(int16(5)), tensor.Scalar(int16(-1)), floats()},
	}
	for _, c := range cases {
		out := onnxOp("Range", 11).mustRun(t, c.start, c.lim, c.step)
		checkTensor(t, c.name, out[0], []int{len(c.want)}, c.want)
	}
	if _, err := onnxOp("Range", 11).run(tensor.Scalar(int64(0)), tensor.Scalar(int64(5)), tensor.Scalar(int64(0))); err == nil {
		t.Error("delta 0: no error")
	}
}
