package interp_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/potgo/pot/sdk/onnx/backendtest"
)

// TestORTCases runs the backend-test folders of testdata/ort/cases:
// small models of the recurrent and control-flow operators over
// attribute combinations the ONNX suite leaves out, with the outputs of
// ONNX Runtime 1.30 (gen_cases.py) as the expected values.
func TestORTCases(t *testing.T) {
	cases, err := backendtest.Discover(filepath.Join("testdata", "ort", "cases"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases in testdata/ort/cases")
	}
	for _, dir := range cases {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			r := backendtest.Run(context.Background(), backend{}, dir)
			if r.Status != backendtest.Pass {
				t.Errorf("%v: %s", r.Status, r.Reason)
			}
		})
	}
}
