package suggest

import "testing"

func TestNearest(t *testing.T) {
	names := []string{"Convolution", "MatMul", "Add", "GroupConvolution"}
	for _, tc := range []struct{ in, want string }{
		{"Convolutoin", "Convolution"},
		{"matmul", "MatMul"},
		{"Ad", "Add"},
		{"Softmax", ""},
		{"", ""},
	} {
		if got := Nearest(tc.in, names); got != tc.want {
			t.Errorf("Nearest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := Nearest("x", nil); got != "" {
		t.Errorf("Nearest without candidates = %q", got)
	}
}
