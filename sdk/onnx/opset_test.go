package onnx

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/onnxpb"
)

func TestCheckOpset(t *testing.T) {
	ops := func(kv ...any) []*onnxpb.OperatorSetIdProto {
		var out []*onnxpb.OperatorSetIdProto
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, &onnxpb.OperatorSetIdProto{Domain: proto.String(kv[i].(string)), Version: proto.Int64(int64(kv[i+1].(int)))})
		}
		return out
	}
	tests := []struct {
		name    string
		opsets  []*onnxpb.OperatorSetIdProto
		wantErr string // "" for accepted
	}{
		{"opset 1", ops("", 1), ""},
		{"opset 13", ops("", 13), ""},
		{"opset 21", ops("", 21), ""},
		{"ai.onnx domain", ops("com.microsoft", 1, "ai.onnx", 17), ""},
		{"opset 22", ops("", 22), "opset 22; the newest pot supports is 21"},
		{"opset 99 via ai.onnx", ops("ai.onnx", 99), "opset 99"},
		{"opset 0", ops("", 0), "opset 0; pot supports opsets 1 to 21"},
		{"absent", nil, "no default ONNX opset"},
		{"only other domains", ops("com.microsoft", 1), "no default ONNX opset"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckOpset(&onnxpb.ModelProto{OpsetImport: tc.opsets})
			if tc.wantErr == "" {
				if err != nil {
					t.Errorf("CheckOpset = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("CheckOpset = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestCheckOpsetExamples(t *testing.T) {
	for _, path := range exampleModels(t) {
		m, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckOpset(m); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}

func TestIRVersionFor(t *testing.T) {
	// ONNX's release table (docs/Versioning.md).
	tests := map[int64]int64{7: 3, 8: 3, 9: 4, 10: 5, 11: 6, 12: 7, 13: 7, 14: 7, 15: 8, 18: 8, 19: 9, 20: 9, 21: 10}
	for opset, want := range tests {
		if got := IRVersionFor(opset); got != want {
			t.Errorf("IRVersionFor(%d) = %d, want %d", opset, got, want)
		}
	}
}
