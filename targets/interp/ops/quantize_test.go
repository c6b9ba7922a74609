package ops

import (
	"testing"

	"github.com/potgo/pot/targets/interp/tensor"
)

func TestQuantizeLinearBlockedInt4(t *testing.T) {
	x := f32s([]int{2, 4}, -3, -1, 0.5, 2.5, 4, 6, 7, 100)
	scale := f32s([]int{2, 2}, 1, 0.5, 2, 4)
	zp := tensor.From([]int{2, 2}, []tensor.Int4Value{0, 1, -1, 0})
	attrs := []*potv1Attr{aInt("axis", 1), aInt("block_size", 2)}
	q := opCall{op: "QuantizeLinear", opset: 21, attrs: attrs}.mustRun(t, x, scale, zp)[0]
	if q.DType != tensor.Int4 {
		t.Fatalf("output type %v, want int4", q.DType)
	}
	// Block (row 1, columns 2-3) has scale 4: 7/4 = 1.75 rounds to 2,
	// 100/4 = 25 saturates at 7.
	checkTensor(t, "q", q, []int{2, 4}, floats(-3, -1, 2, 6, 1, 2, 2, 7))
	y := opCall{op: "DequantizeLinear", opset: 21, attrs: attrs}.mustRun(t, q, scale, zp)[0]
	checkTensor(t, "dq", y, []int{2, 4}, floats(-3, -1, 0.5, 2.5, 4, 6, 8, 28))
	if _, err := (opCall{op: "QuantizeLinear", opset: 21, attrs: []*potv1Attr{aInt("axis", 1), aInt("block_size", 1)}}).run(x, scale, zp); err == nil {
		t.Error("block_size 1 with scales for 2 blocks: no error")
	}
}

func TestQuantizeLinearTypes(t *testing.T) {
	x := f32s([]int{4}, -1.4, 2.5, 3.5, 200)
	cases := []struct {
		name string
		call opCall
		in   []*tensor.Tensor
		dt   tensor.DType
		want []float64
	}{
		{"default uint8, ties to even", onnxOp("QuantizeLinear", 13), []*tensor.Tensor{x, tensor.Scalar(float32(1))}, tensor.Uint8, floats(0, 2, 4, 200)},
		{"output_dtype int8", onnxOp("QuantizeLinear", 21, aInt("output_dtype", int64(tensor.Int8))), []*tensor.Tensor{x, tensor.Scalar(float32(1))}, tensor.Int8, floats(-1, 2, 4, 127)},
		{"int16 zero point", onnxOp("QuantizeLinear", 21), []*tensor.Tensor{x, tensor.Scalar(float32(0.25)), tensor.Scalar(int16(-100))}, tensor.Int16, floats(-106, -90, -86, 700)},
		{"uint16", onnxOp("QuantizeLinear", 21), []*tensor.Tensor{x, tensor.Scalar(float32(1.0 / 512)), tensor.Scalar(uint16(0))}, tensor.Uint16, floats(0, 1280, 1792, 65535)},
		{"per-axis negative axis", onnxOp("QuantizeLinear", 13, aInt("axis", -1)), []*tensor.Tensor{x, f32s([]int{4}, 1, 1, 0.5, 100), tensor.From([]int{4}, []uint8{10, 10, 10, 10})}, tensor.Uint8, floats(9, 12, 17, 12)},
	}
	for _, c := range cases {
		out, err := c.call.run(c.in...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if out[0].DType != c.dt {
			t.Fatalf("%s: type %v, want %v", c.name, out[0].DType, c.dt)
		}
		checkTensor(t, c.name, out[0], []int{4}, c.want)
	}
}

func TestDequantizeLinearTypes(t *testing.T) {
	y := onnxOp("DequantizeLinear", 19).mustRun(t, tensor.From([]int{1}, []uint8{10}), tensor.Scalar(tensor.ToFloat16(0.5)), tensor.Scalar(uint8(4)))[0]
	if y.DType != tensor.Float16 {
		t.Fatalf("type %v, want float16", y.DType)
	}
	checkTensor(t, "float16 scale", y, []int{1}, floats(3))
	y = onnxOp("DequantizeLinear", 13).mustRun(t, tensor.From([]int{2}, []int32{-5, 1 << 20}), tensor.Scalar(float32(0.25)))[0]
	checkTensor(t, "int32", y, []int{2}, floats(-1.25, 262144))
	if _, err := onnxOp("DequantizeLinear", 13).run(f32s([]int{1}, 1), tensor.Scalar(float32(1))); !IsUnsupported(err) {
		t.Errorf("float input: %v, want unsupported", err)
	}
}

func TestDynamicQuantizeLinearZeros(t *testing.T) {
	out := opCall{op: "DynamicQuantizeLinear", opset: 11, nout: 3}.mustRun(t, f32s([]int{3}, 0, 0, 0))
	checkTensor(t, "y", out[0], []int{3}, floats(0, 0, 0))
	checkTensor(t, "scale", out[1], []int{}, floats(0))
	checkTensor(t, "zero point", out[2], []int{}, floats(0))
}
