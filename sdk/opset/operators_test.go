package opset

import "testing"

func TestIsOperator(t *testing.T) {
	for op, want := range map[string]bool{
		"Conv": true, "MatMul": true, "CastLike": true, "LayerNormalization": true, "Gelu": true,
		"Convolution": false, "conv": false, "Crop": false, "DepthwiseConv": false, "": false,
	} {
		if got := IsOperator(op); got != want {
			t.Errorf("IsOperator(%q) = %v, want %v", op, got, want)
		}
	}
	ops := Operators()
	for i := 1; i < len(ops); i++ {
		if ops[i-1] >= ops[i] {
			t.Fatalf("Operators not sorted and unique at %d: %q, %q", i, ops[i-1], ops[i])
		}
	}
	if len(ops) != len(history)+len(later) {
		t.Errorf("%d operators, want %d", len(ops), len(history)+len(later))
	}
}
