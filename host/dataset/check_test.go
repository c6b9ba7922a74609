package dataset

import "testing"

// TestCheckShape checks which sample shapes fit which model inputs.
func TestCheckShape(t *testing.T) {
	tests := []struct {
		sample, want []int
		ok           bool
	}{
		{[]int{1, 28, 28}, []int{-1, 1, 28, 28}, true},
		{[]int{1, 28, 28}, []int{0, 1, 28, 28}, true},
		{[]int{1, 28, 28}, []int{8, 1, 28, 28}, true},
		{[]int{1, 28, 28}, []int{1, 28, 28}, true},
		{[]int{1, 28, 28}, []int{-1, 1, -1, -1}, true},
		{[]int{28, 28}, []int{-1, 1, 28, 28}, true},     // unit dimension squeezed
		{[]int{28, 28, 1}, []int{-1, 1, 28, 28}, true},  // same values in memory
		{[]int{784}, []int{-1, 784}, true},              // flat features
		{[]int{3, 32, 32}, []int{-1, 1, 28, 28}, false}, // the brief's example
		{[]int{1, 28, 28}, []int{-1, 3, 28, 28}, false},
		{[]int{28, 28, 3}, []int{-1, 3, 28, 28}, false}, // NHWC data, NCHW model
		{[]int{784}, []int{-1, 1, 28, 28}, false},       // flattening is not allowed
		{[]int{5, 1, 28, 28}, []int{-1, 1, 28, 28}, false},
		{[]int{28, 28}, []int{-1, 1, -1, -1}, false}, // symbolic: no squeezing
		{[]int{1, 28, 28}, nil, false},
	}
	for _, tc := range tests {
		err := CheckShape(tc.sample, "x", tc.want)
		if (err == nil) != tc.ok {
			t.Errorf("CheckShape(%v, %v) = %v, want ok=%v", tc.sample, tc.want, err, tc.ok)
		}
	}
}

// TestCheckMessage checks the error text, which names both shapes.
func TestCheckMessage(t *testing.T) {
	err := CheckShape([]int{3, 32, 32}, "x", []int{-1, 1, 28, 28})
	wantErr(t, err, ErrShapeMismatch, `data gives samples of shape [3 32 32], the model input "x" wants [N 1 28 28]`)
	err = CheckShape([]int{3, 32, 32}, "input.1", []int{-1, 1, -1, 28})
	wantErr(t, err, ErrShapeMismatch, `the model input "input.1" wants [N 1 ? 28]`)

	ds, openErr := Open(examples + "/mnist-calib.json")
	if openErr != nil {
		t.Fatal(openErr)
	}
	if err := Check(ds, "input", []int{-1, 1, 28, 28}); err != nil {
		t.Errorf("MNIST for [N 1 28 28]: %v", err)
	}
	wantErr(t, Check(ds, "input", []int{-1, 3, 224, 224}), ErrShapeMismatch, "[1 28 28]", "[N 3 224 224]")
}
