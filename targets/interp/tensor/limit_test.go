package tensor

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestResetRefusesAbsurdShapes(t *testing.T) {
	defer SetMaxBytes(SetMaxBytes(1 << 20))
	tests := []struct {
		dtype DType
		shape []int
		want  string // "" when Reset allocates
	}{
		{Float, []int{512, 512}, ""},
		{Float, []int{512, 513}, "a float32 tensor of shape [512 513] needs 1050624 bytes, more than the runtime's limit of 1048576 per tensor"},
		{Uint8, []int{1 << 20}, ""},
		{Int64, []int{1<<17 + 1}, "needs 1048584 bytes"},
		{String, []int{1 << 16}, ""},
		{String, []int{1<<16 + 1}, "a string tensor"},
		{Float, []int{0, math.MaxInt}, ""},
		{Float, []int{-1, 4}, "a float32 tensor of shape [-1 4] cannot be allocated"},
		{Float, []int{1 << 32, 1 << 32}, "cannot be allocated (negative or overflowing dimensions)"},
		{Bool, []int{math.MaxInt, 2}, "cannot be allocated"},
	}
	for _, tc := range tests {
		err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					var se *SizeError
					if e, ok := r.(error); !ok || !errors.As(e, &se) {
						t.Fatalf("%v%v: Reset panicked with %v, want a *SizeError", tc.dtype, tc.shape, r)
					}
					err = se
				}
			}()
			var x Tensor
			x.Reset(tc.dtype, tc.shape)
			if x.Len() != NumElements(tc.shape) {
				t.Errorf("%v%v: %d elements", tc.dtype, tc.shape, x.Len())
			}
			return nil
		}()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%v%v: error %v, want %q", tc.dtype, tc.shape, err, tc.want)
		}
	}
}

// TestHeldTensorsIgnoreTheLimit: a tensor whose data exists already (a
// decoded initializer, a copy) is not refused.
func TestHeldTensorsIgnoreTheLimit(t *testing.T) {
	defer SetMaxBytes(SetMaxBytes(1 << 10))
	big := NewHeld(Float, 1024)
	if big.Len() != 1024 {
		t.Fatalf("NewHeld: %d elements", big.Len())
	}
	if c := big.Clone(); c.Len() != 1024 {
		t.Fatalf("Clone: %d elements", c.Len())
	}
	var dst Tensor
	dst.CopyFrom(big)
	if dst.Len() != 1024 {
		t.Fatalf("CopyFrom: %d elements", dst.Len())
	}
}
